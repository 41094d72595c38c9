"""The contract every mechanism fulfils."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from pydantic import BaseModel
from torch import Tensor

from dpgraph.config.sections import PrivacySection
from dpgraph.data.spec import PrivateDataset
from dpgraph.errors import DPGraphError
from dpgraph.privacy import GaussianEvent, PrivacyEvent, PrivacyLedger, split_targets
from dpgraph.privacy.exponential import exponential_event, exponential_release
from dpgraph.privacy.noise import gaussian_release
from dpgraph.privacy.randomness import SecretRandomness, randomness_for
from dpgraph.privacy.spend import Budget, Spend
from dpgraph.releases.base import Release
from dpgraph.resources import check_memory


def numpy_generator(public: torch.Generator) -> np.random.Generator:
    """A numpy generator seeded by one draw of the torch generator ``public``: for post-processing code written with
    numpy, on the same public randomness (never for noise)."""
    return np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=public)))


@dataclass
class ReleaseContext:
    """What a mechanism gets besides its parameters: the privacy target, the budget (None when non-private: the only
    way to spend, :class:`~dpgraph.privacy.spend.Budget`), the device, whether to show progress, and two sources of
    randomness:

    * ``secret``: everything a guarantee relies on (noise, batch selection, sampler keys);
      :mod:`dpgraph.privacy.randomness`, fresh OS entropy unless the run asks for reproducible noise;
    * ``public``: a generator seeded by the run's ``seed`` for everything else (model initialisations, public
      jitter, post-processing of released values), so the seed reproduces those parts.
    """

    privacy: PrivacySection
    budget: Budget | None
    public: torch.Generator
    secret: SecretRandomness
    device: torch.device
    progress: bool = True

    @classmethod
    def create(cls, privacy: PrivacySection, mechanism: Mechanism, seed: int, device: torch.device | str = "cpu",
               progress: bool = True) -> ReleaseContext:
        """The context of a run of ``mechanism``: a fresh ledger and budget split among its stages when private
        (``privacy.split`` or the mechanism's default), ``secret`` from ``privacy.randomness``, ``public`` from
        ``seed``."""
        budget = None
        if privacy.private:
            ledger = PrivacyLedger(delta=privacy.delta, unit=privacy.unit, accountant=privacy.accountant)
            split = privacy.split or mechanism.default_split
            ordered = {stage: split[stage] for stage in mechanism.stages if stage in split}
            budget = Budget(ledger, split_targets(privacy.epsilon, ordered))
        return cls(privacy=privacy, budget=budget, public=torch.Generator().manual_seed(seed),
                   secret=randomness_for(privacy.randomness, seed), device=torch.device(device), progress=progress)

    @property
    def private(self) -> bool:
        return self.budget is not None

    def spend(self, stage: str, make_event: Callable[[float], PrivacyEvent]) -> Spend:
        """``budget.calibrate(stage, make_event)``; refused in a non-private run."""
        if self.budget is None:
            raise DPGraphError(f"stage {stage!r} asked for noise in a non-private run (privacy.epsilon: null)")
        return self.budget.calibrate(stage, make_event)

    def gaussian(self, stage: str, value: Tensor, sensitivity: float) -> Tensor:
        """Release ``value`` (L2 sensitivity ``sensitivity``) with the Gaussian mechanism, its noise calibrated to the
        stage's budget and its event recorded."""
        return self.gaussian_with_std(stage, value, sensitivity)[0]

    def gaussian_with_std(self, stage: str, value: Tensor, sensitivity: float) -> tuple[Tensor, float]:
        """:meth:`gaussian`, and the std ``sigma * sensitivity`` of the noise it added (public: sigma follows from the
        budget and the configuration alone), for post-processing that models the noise."""
        spend = self.spend(stage, lambda sigma: GaussianEvent(noise_multiplier=sigma))
        return gaussian_release(value, sensitivity, spend, self.secret), spend.noise_multiplier * sensitivity

    def gaussian_or_exact(self, stage: str, value: Tensor, sensitivity: float) -> Tensor:
        """:meth:`gaussian` in a private run; ``value`` itself in a non-private one (a method's ceiling)."""
        return self.gaussian(stage, value, sensitivity) if self.private else value

    def exponential(self, stage: str, scores: Tensor, sensitivity: float) -> int:
        """Choose one of a public list of candidates with the exponential mechanism on ``scores`` (one per candidate,
        each changing by at most ``sensitivity`` between neighbours), its epsilon calibrated to the stage's budget and
        its :class:`~dpgraph.privacy.pure.PureDPEvent` recorded (:mod:`dpgraph.privacy.exponential`)."""
        spend = self.spend(stage, exponential_event)
        return exponential_release(scores, sensitivity, spend, self.secret)


class Mechanism(ABC):
    """Turns the private data into a :class:`~dpgraph.releases.Release` (a graph, a model, ...).

    Every read of private data happens inside `release`, and every such read goes through a DP primitive that spends
    through `context.budget`. Subclasses state their privacy unit(s) and sensitivities.
    """

    name: ClassVar[str]
    Params: ClassVar[type[BaseModel]]
    modality: ClassVar[str] = "graph"
    #: the type `release` returns; evaluators are chosen by it
    releases: ClassVar[type[Release]]
    units: ClassVar[tuple[str, ...]] = ("node",)
    #: True: needs a privacy budget; False: non-private only; None: both (`epsilon: null` is its reference mode)
    private: ClassVar[bool | None] = True
    #: named stages in release order, and how the budget is split among them unless `privacy.split` says otherwise
    stages: ClassVar[tuple[str, ...]] = ()
    default_split: ClassVar[dict[str, float]] = {}

    def memory_estimate(self, dataset: PrivateDataset, params: BaseModel) -> tuple[float, str]:
        """Peak working memory of :meth:`release` in bytes, estimated from public sizes and the parameters, and how
        to ask for less; (0, "") where it is negligible next to the graph itself."""
        return 0.0, ""

    def check(self, privacy: PrivacySection, dataset: PrivateDataset, params: BaseModel) -> None:
        """Reject a privacy target this mechanism cannot meet, or a size that would exhaust memory, before any work
        starts."""
        nbytes, fix = self.memory_estimate(dataset, params)
        check_memory(nbytes, f"method '{self.name}'", fix)
        if self.private is True and not privacy.private:
            raise DPGraphError(f"method '{self.name}' is differentially private: set privacy.epsilon to a positive "
                               f"number (or use method 'real' for a non-private reference)")
        if self.private is False and privacy.private:
            raise DPGraphError(f"method '{self.name}' is not private: set privacy.epsilon: null to run it")
        if privacy.private and privacy.unit not in self.units:
            hint = (" (node-level DP implies edge-level DP at the same epsilon)"
                    if privacy.unit == "edge" and "node" in self.units else "")
            raise DPGraphError(f"method '{self.name}' supports privacy.unit {' or '.join(self.units)}, not "
                               f"'{privacy.unit}'{hint}")
        if privacy.private and privacy.split is not None and set(privacy.split) != set(self.stages):
            raise DPGraphError(f"privacy.split must name exactly the stages of '{self.name}': "
                               f"{', '.join(self.stages)} (got {', '.join(privacy.split) or 'none'})")

    @abstractmethod
    def release(self, dataset: PrivateDataset, params: BaseModel, context: ReleaseContext) -> Release:
        """Produce the release (of type :attr:`releases`)."""
