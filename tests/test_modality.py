"""The pipeline is modality-neutral: datasets, methods and evaluators declare their modality and unit, mismatches are
refused when the config is read, and evaluator defaults fill the evaluate section."""

from __future__ import annotations

from pathlib import Path

import pytest

from dpgraph.config.sections import DatasetSection
from dpgraph.data.spec import NoParams, PrivateDataset, load_dataset
from dpgraph.errors import DPGraphError
from dpgraph.pipeline.catalogue import DATASETS
from dpgraph.pipeline.config import parse_config
from dpgraph.pipeline.report import render_report


def _with(config: dict, **sections) -> dict:
    return {**config, **sections}


def test_every_dataset_declares_its_modality_and_units():
    kinds = {name: (DATASETS.get(name).modality, DATASETS.get(name).units) for name in DATASETS.names()}
    assert kinds["cora"] == ("graph", ("node", "edge", "attributes"))
    assert kinds["mnist-5k"] == ("image", ("example",))
    assert kinds["digits"] == ("image", ("example",))


def test_an_image_dataset_in_a_graph_pipeline_is_refused(smoke_config):
    config = _with(smoke_config, dataset={"name": "digits"})
    with pytest.raises(DPGraphError, match="dataset 'digits' is image data, but the pipeline's modality is graph"):
        parse_config(config)


def test_a_graph_method_in_an_image_pipeline_is_refused(smoke_config):
    config = _with(smoke_config, modality="image", dataset={"name": "digits"}, privacy={"epsilon": 1.0,
                                                                                     "unit": "example"})
    with pytest.raises(DPGraphError, match="method 'dp-sbm' is graph data, but the pipeline's modality is image"):
        parse_config(config)


def test_evaluator_defaults_fill_unset_fields_and_keep_set_ones(smoke_config):
    unset = _with(smoke_config, evaluate={"seeds": 1})
    assert parse_config(unset).evaluate.models == ["gcn", "mlp"]
    assert parse_config(unset).evaluate.epochs == 200
    assert parse_config(smoke_config).evaluate.epochs == 30
    with pytest.raises(DPGraphError, match="unknown model 'cnn'"):
        parse_config(_with(smoke_config, evaluate={"models": ["cnn"]}))


def test_image_datasets_are_private_datasets_with_a_public_size():
    digits = load_dataset(DatasetSection(name="digits"), NoParams(), Path("."))
    assert isinstance(digits, PrivateDataset)
    assert digits.modality == "image" and digits.size == digits.train_images.size(0)
    with pytest.raises(DPGraphError, match="score_on: val needs validation images"):
        digits.evaluation_target("val")
    assert digits.evaluation_target("test") is digits


def test_the_report_names_the_modality_and_renders_every_metric_table():
    config = {"name": "x", "modality": "image", "seed": 0, "dataset": {"name": "digits", "split": "public"},
              "method": {"name": "m"}, "evaluate": {"epochs": 3, "score_on": "test"}}
    dataset = {"name": "digits", "image_shape": "1x8x8", "num_classes": 10, "num_train": 8, "num_val": 0,
               "num_test": 2}
    metrics = {"utility": {"cnn": {"test_acc_mean": 0.5, "test_acc_std": 0.1, "per_seed": [0.4, 0.6]}},
               "image_quality": {"fid": 12.5}, "timing_s": {"total": 1.0}}
    report = render_report(config, dataset, {"private": False}, metrics, ["plots/samples.png"])
    assert "1x8x8 images" in report and "real test images" in report
    assert "| fid | 12.5 |" in report and "| cnn | 0.5000 ± 0.1000 | 0.400, 0.600 |" in report
