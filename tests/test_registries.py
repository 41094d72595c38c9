"""One registry idiom for every pluggable component, and config checks that tie datasets, methods and units."""

from __future__ import annotations

import typing

import pytest

from dpgraph.config.sections import PrivacySection
from dpgraph.data.registry import DATASETS
from dpgraph.errors import DPGraphError
from dpgraph.evaluation.evaluators import EVALUATORS
from dpgraph.evaluation.models import MODELS
from dpgraph.mechanisms import MECHANISMS
from dpgraph.pipeline.config import parse_config
from dpgraph.privacy import ACCOUNTANTS
from dpgraph.registry import Registry
from dpgraph.releases import GraphRelease, NodeClassifierRelease
from dpgraph.sampling import SAMPLERS
from dpgraph.sampling.params import SamplerParams


@pytest.mark.parametrize("registry", [DATASETS, MECHANISMS, EVALUATORS, SAMPLERS, ACCOUNTANTS, MODELS])
def test_every_component_kind_uses_the_one_registry(registry):
    assert isinstance(registry, Registry) and registry.names()
    with pytest.raises(DPGraphError, match=f"use one of {', '.join(registry.names())}"):
        registry.get("no-such-name")


def test_schema_choices_are_the_registered_names():
    assert typing.get_args(SamplerParams.model_fields["kind"].annotation) == tuple(SAMPLERS.names())


def test_every_release_type_has_an_evaluator_and_every_method_a_release_type():
    accepted = {kind for name in EVALUATORS.names() for kind in EVALUATORS.get(name).accepts}
    assert {GraphRelease, NodeClassifierRelease} <= accepted
    for name in MECHANISMS.names():
        assert MECHANISMS.get(name).releases in accepted, name


def _config(smoke_config: dict, **sections) -> dict:
    return {**smoke_config, **sections}


def test_the_unit_must_be_one_the_dataset_has(smoke_config):
    with pytest.raises(DPGraphError, match="dataset 'sbm' has no privacy unit 'example'"):
        parse_config(_config(smoke_config, privacy={**smoke_config["privacy"], "unit": "example"}))


def test_an_evaluator_must_accept_the_release_before_any_work(smoke_config):
    with pytest.raises(DPGraphError, match="evaluator 'model-accuracy' evaluates NodeClassifierRelease, not the "
                                           "GraphRelease"):
        parse_config(_config(smoke_config, evaluate={"evaluators": ["model-accuracy"]}))
    with pytest.raises(DPGraphError, match="unknown evaluator 'nope'"):
        parse_config(_config(smoke_config, evaluate={"evaluators": ["nope"]}))


def test_modality_is_part_of_the_schema(smoke_config):
    assert parse_config(smoke_config).modality == "graph"
    with pytest.raises(DPGraphError, match="modality"):
        parse_config(_config(smoke_config, modality="audio"))
    assert "example" in typing.get_args(PrivacySection.model_fields["unit"].annotation)
