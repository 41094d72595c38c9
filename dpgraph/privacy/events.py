"""Privacy events: immutable descriptions of what a DP mechanism did, accounted for by ``compute_epsilon``.

Conventions (the engine recording an event must match them):

* ``GaussianEvent(s)``: Gaussian noise of std ``s * Delta`` added to a query whose L2 sensitivity is
  ``Delta`` under the neighbouring relation in force (add/remove one unit for the plain and Poisson case).
* ``PoissonSampledEvent(q, e)``: every unit enters the sample independently with probability ``q``, then
  ``e`` runs on the sample (add/remove adjacency).
* ``SampledWithoutReplacementEvent(n, m, e)``: a uniform size-``m`` subset of the ``n`` units, then ``e``;
  replace-one adjacency, so ``e``'s noise multiplier is relative to the replace-one sensitivity (for a sum of
  per-unit vectors clipped to norm ``C`` that sensitivity is ``2C``).
* ``SelfComposedEvent(e, k)``: ``e`` run ``k`` times; ``ComposedEvent(es)``: all of ``es`` run in sequence.
* ``SubgraphSampledGaussianEvent``: ONE DP-SGD step over subgraphs with K-occurrence; the exact noise
  convention is in :mod:`dpgraph.privacy.k_occurrence`.
* ``DrawnGaussianEvent(q, s, T)`` (defined with its accounting in :mod:`dpgraph.privacy.drawn_gaussian`): T
  iterations, each touching a unit with probability ``q`` (a data-independent draw) and then Gaussian with ``s``.
* ``PureDPEvent(eps)`` (defined with its accounting in :mod:`dpgraph.privacy.pure`): any eps-DP (delta = 0)
  mechanism under add/remove, e.g. the exponential mechanism; not subsampled.

Every event serialises with ``to_dict()`` (JSON-able, with a ``"type"`` key); ``event_from_dict`` inverts it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dpgraph.errors import DPGraphError
from dpgraph.privacy.validation import check_count, check_positive, check_probability

SAMPLERS = ("poisson", "fixed")


class PrivacyEvent:
    """Base class of all events (frozen dataclasses)."""

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError


def check_event(value: object, name: str) -> PrivacyEvent:
    if not isinstance(value, PrivacyEvent):
        raise DPGraphError(f"{name} must be a privacy event (e.g. GaussianEvent), got {type(value).__name__}")
    return value


@dataclass(frozen=True)
class GaussianEvent(PrivacyEvent):
    """Gaussian mechanism with noise std = ``noise_multiplier`` x L2 sensitivity."""

    noise_multiplier: float

    def __post_init__(self) -> None:
        sigma = check_positive(self.noise_multiplier, "noise_multiplier")
        object.__setattr__(self, "noise_multiplier", sigma)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "gaussian", "noise_multiplier": self.noise_multiplier}


@dataclass(frozen=True)
class PoissonSampledEvent(PrivacyEvent):
    """``event`` applied to a Poisson sample where each unit is kept with ``sampling_probability``."""

    sampling_probability: float
    event: PrivacyEvent

    def __post_init__(self) -> None:
        q = check_probability(self.sampling_probability, "sampling_probability")
        object.__setattr__(self, "sampling_probability", q)
        check_event(self.event, "event")

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "poisson_sampled",
            "sampling_probability": self.sampling_probability,
            "event": self.event.to_dict(),
        }


@dataclass(frozen=True)
class SampledWithoutReplacementEvent(PrivacyEvent):
    """``event`` on a uniform ``sample_size``-subset of ``source_size`` units (replace-one adjacency)."""

    source_size: int
    sample_size: int
    event: PrivacyEvent

    def __post_init__(self) -> None:
        n = check_count(self.source_size, "source_size")
        m = check_count(self.sample_size, "sample_size")
        if m > n:
            raise DPGraphError(f"sample_size ({m}) must not exceed source_size ({n}); lower the batch size")
        object.__setattr__(self, "source_size", n)
        object.__setattr__(self, "sample_size", m)
        check_event(self.event, "event")

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "sampled_without_replacement",
            "source_size": self.source_size,
            "sample_size": self.sample_size,
            "event": self.event.to_dict(),
        }


@dataclass(frozen=True)
class SelfComposedEvent(PrivacyEvent):
    """``event`` run ``count`` times (adaptively)."""

    event: PrivacyEvent
    count: int

    def __post_init__(self) -> None:
        check_event(self.event, "event")
        object.__setattr__(self, "count", check_count(self.count, "count"))

    def to_dict(self) -> dict[str, Any]:
        return {"type": "self_composed", "event": self.event.to_dict(), "count": self.count}


@dataclass(frozen=True)
class ComposedEvent(PrivacyEvent):
    """All of ``events`` run in sequence (adaptively); an empty composition spends nothing."""

    events: tuple[PrivacyEvent, ...]

    def __post_init__(self) -> None:
        if isinstance(self.events, PrivacyEvent) or not isinstance(self.events, Sequence):
            raise DPGraphError("ComposedEvent needs a list or tuple of events")
        events = tuple(self.events)
        for i, event in enumerate(events):
            check_event(event, f"events[{i}]")
        object.__setattr__(self, "events", events)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "composed", "events": [event.to_dict() for event in self.events]}


@dataclass(frozen=True)
class SubgraphSampledGaussianEvent(PrivacyEvent):
    """ONE noisy step of DP-SGD on ``num_subgraphs`` subgraphs where each node occurs in <= ``occurrences``.

    ``sampler="fixed"`` draws ``batch_size`` subgraphs without replacement; ``sampler="poisson"`` keeps each
    subgraph with ``sampling_probability``. Noise convention: :mod:`dpgraph.privacy.k_occurrence`.
    """

    noise_multiplier: float
    occurrences: int
    num_subgraphs: int
    sampler: str
    batch_size: int | None = None
    sampling_probability: float | None = None

    def __post_init__(self) -> None:
        sigma = check_positive(self.noise_multiplier, "noise_multiplier")
        object.__setattr__(self, "noise_multiplier", sigma)
        k = check_count(self.occurrences, "occurrences (K)")
        n = check_count(self.num_subgraphs, "num_subgraphs (N)")
        if k > n:
            raise DPGraphError(f"occurrences K ({k}) must not exceed num_subgraphs N ({n}); check both")
        object.__setattr__(self, "occurrences", k)
        object.__setattr__(self, "num_subgraphs", n)
        if self.sampler == "fixed":
            if self.sampling_probability is not None or self.batch_size is None:
                raise DPGraphError("the fixed sampler needs batch_size and no sampling_probability")
            b = check_count(self.batch_size, "batch_size (B)")
            if b > n:
                raise DPGraphError(f"batch_size B ({b}) must not exceed num_subgraphs N ({n}); lower B")
            object.__setattr__(self, "batch_size", b)
        elif self.sampler == "poisson":
            if self.batch_size is not None or self.sampling_probability is None:
                raise DPGraphError("the poisson sampler needs sampling_probability and no batch_size")
            q = check_probability(self.sampling_probability, "sampling_probability")
            object.__setattr__(self, "sampling_probability", q)
        else:
            raise DPGraphError(f"sampler must be one of {', '.join(SAMPLERS)}, got {self.sampler!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "subgraph_sampled_gaussian",
            "noise_multiplier": self.noise_multiplier,
            "occurrences": self.occurrences,
            "num_subgraphs": self.num_subgraphs,
            "sampler": self.sampler,
            "batch_size": self.batch_size,
            "sampling_probability": self.sampling_probability,
        }


def _drawn_gaussian(data: Mapping[str, Any]) -> PrivacyEvent:
    from dpgraph.privacy.drawn_gaussian import DrawnGaussianEvent  # that module imports this one

    return DrawnGaussianEvent(data["draw_probability"], data["noise_multiplier"], data["steps"])


def _pure(data: Mapping[str, Any]) -> PrivacyEvent:
    from dpgraph.privacy.pure import PureDPEvent  # that module imports this one

    return PureDPEvent(data["epsilon"])


_DECODERS: dict[str, Callable[[Mapping[str, Any]], PrivacyEvent]] = {
    "gaussian": lambda d: GaussianEvent(d["noise_multiplier"]),
    "poisson_sampled": lambda d: PoissonSampledEvent(d["sampling_probability"], event_from_dict(d["event"])),
    "sampled_without_replacement": lambda d: SampledWithoutReplacementEvent(
        d["source_size"], d["sample_size"], event_from_dict(d["event"])
    ),
    "self_composed": lambda d: SelfComposedEvent(event_from_dict(d["event"]), d["count"]),
    "composed": lambda d: ComposedEvent(tuple(event_from_dict(e) for e in d["events"])),
    "subgraph_sampled_gaussian": lambda d: SubgraphSampledGaussianEvent(
        d["noise_multiplier"],
        d["occurrences"],
        d["num_subgraphs"],
        d["sampler"],
        d.get("batch_size"),
        d.get("sampling_probability"),
    ),
    "drawn_gaussian": _drawn_gaussian,
    "pure": _pure,
}


def event_from_dict(data: Mapping[str, Any]) -> PrivacyEvent:
    """Rebuild an event from ``to_dict()`` output; malformed input raises DPGraphError."""
    if not isinstance(data, Mapping) or data.get("type") not in _DECODERS:
        kind = data.get("type") if isinstance(data, Mapping) else type(data).__name__
        raise DPGraphError(f"unknown privacy event {kind!r}; expected one of {', '.join(_DECODERS)}")
    try:
        return _DECODERS[data["type"]](data)
    except (KeyError, TypeError) as err:
        raise DPGraphError(
            f"malformed {data['type']!r} privacy event (missing or bad field {err}); "
            "re-create it with to_dict()"
        ) from None
