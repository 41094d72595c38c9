"""The contract every mechanism fulfils."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from pydantic import BaseModel
from torch import Tensor
from torch_geometric.data import Data

from dpgraph.config.sections import PrivacySection
from dpgraph.data.graph import GraphDataset
from dpgraph.errors import DPGraphError
from dpgraph.mechanisms.gaussian import gaussian_release
from dpgraph.privacy import GaussianEvent, PrivacyLedger, noise_multiplier_for
from dpgraph.privacy.randomness import SecretRandomness
from dpgraph.resources import check_memory


@dataclass
class ReleaseContext:
    """What a mechanism gets besides its parameters: the privacy target, the ledger (None when non-private),
    each stage's cumulative epsilon target, the device and whether to show progress, and two sources of randomness:

    * ``secret``: everything a guarantee relies on (noise, batch selection, sampler keys);
      :mod:`dpgraph.privacy.randomness`, fresh OS entropy unless the run asks for reproducible noise;
    * ``public``: a generator seeded by the run's ``seed`` for everything else (model initialisations, public
      jitter, post-processing of released values), so the seed reproduces those parts.
    """

    privacy: PrivacySection
    ledger: PrivacyLedger | None
    stage_targets: dict[str, float]
    public: torch.Generator
    secret: SecretRandomness
    device: torch.device
    progress: bool = True

    def calibrate(self, stage: str, make_event: Callable[[float], Any]) -> float:
        """The noise multiplier that brings the ledger's total epsilon (events so far + make_event(sigma)) to
        this stage's cumulative target, without overshooting."""
        assert self.ledger is not None and self.privacy.epsilon is not None, "calibrate() needs a private run"
        prior = [event for _, event in self.ledger.events]
        return noise_multiplier_for(self.stage_targets[stage], self.privacy.delta, make_event,
                                    accountant=self.privacy.accountant, prior=prior)

    def gaussian(self, stage: str, value: Tensor, sensitivity: float) -> Tensor:
        """Release `value` (L2 sensitivity `sensitivity`) with the Gaussian mechanism, its noise calibrated to the
        stage's budget, and record the event."""
        sigma = self.calibrate(stage, lambda s: GaussianEvent(noise_multiplier=s))
        assert self.ledger is not None
        return gaussian_release(value, sensitivity, sigma, ledger=self.ledger, stage=stage, randomness=self.secret)


@dataclass
class ReleasedModel:
    """What a model-releasing mechanism (``releases = "model"``) returns: a trained module and its evaluation.

    ``evaluate(real)`` maps the real graph to ``{name: test accuracy}``: one number per inference mode; it is
    analysis of the released model on the real test nodes, not part of the release."""

    module: torch.nn.Module
    evaluate: Callable[[Data], dict[str, float]]


class Mechanism(ABC):
    """Turns the private graph into a released graph (`Data` with `x`, `edge_index`, `y`; `y = -1` unlabelled).

    Every read of private data happens inside `release`, and every such read goes through a DP primitive that
    records its event in `context.ledger`. Subclasses state their privacy unit(s) and sensitivities.
    """

    name: ClassVar[str]
    Params: ClassVar[type[BaseModel]]
    #: "graph": `release` returns a `Data`; "model": it returns a `ReleasedModel` (e.g. a DP-trained GNN)
    releases: ClassVar[str] = "graph"
    units: ClassVar[tuple[str, ...]] = ("node",)
    #: True: needs a privacy budget; False: non-private only; None: both (`epsilon: null` is its reference mode)
    private: ClassVar[bool | None] = True
    #: named stages in release order, and how the budget is split among them unless `privacy.split` says otherwise
    stages: ClassVar[tuple[str, ...]] = ()
    default_split: ClassVar[dict[str, float]] = {}

    def memory_estimate(self, graph: GraphDataset, params: BaseModel) -> tuple[float, str]:
        """Peak working memory of :meth:`release` in bytes, estimated from public sizes and the parameters, and how
        to ask for less; (0, "") where it is negligible next to the graph itself."""
        return 0.0, ""

    def check(self, privacy: PrivacySection, graph: GraphDataset, params: BaseModel) -> None:
        """Reject a privacy target this mechanism cannot meet, or a size that would exhaust memory, before any work
        starts."""
        nbytes, fix = self.memory_estimate(graph, params)
        check_memory(nbytes, f"method '{self.name}'", fix)
        if self.private is True and not privacy.private:
            raise DPGraphError(f"method '{self.name}' is differentially private: set privacy.epsilon to a positive "
                               f"number (or use method 'real' for a non-private reference)")
        if self.private is False and privacy.private:
            raise DPGraphError(f"method '{self.name}' is not private: set privacy.epsilon: null to run it")
        if privacy.private and privacy.unit not in self.units:
            raise DPGraphError(f"method '{self.name}' supports privacy.unit {' or '.join(self.units)}, not "
                               f"'{privacy.unit}' (node-level DP implies edge-level DP at the same epsilon)")
        if privacy.private and privacy.split is not None and set(privacy.split) != set(self.stages):
            raise DPGraphError(f"privacy.split must name exactly the stages of '{self.name}': "
                               f"{', '.join(self.stages)} (got {', '.join(privacy.split) or 'none'})")

    @abstractmethod
    def release(self, graph: GraphDataset, params: BaseModel, context: ReleaseContext) -> Data | ReleasedModel:
        """Produce the released graph (or model, when ``releases == "model"``)."""
