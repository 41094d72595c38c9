"""Translate an opacus accountant's history into one dpgraph privacy event.

opacus accounts DP-SGD per example: neighbouring datasets differ by adding or removing one example, every step
keeps each example independently with probability ``sample_rate`` (Poisson sampling, ``make_private``'s default
``poisson_sampling=True``; without it opacus' accounting does not hold, nor does this translation) and adds
Gaussian noise of std ``noise_multiplier * max_grad_norm`` to the sum of per-example gradients clipped to
``max_grad_norm``. That is exactly ``PoissonSampledEvent(sample_rate, GaussianEvent(noise_multiplier))`` per step
(add/remove adjacency): dpgraph's ``example`` unit, or another unit if each example holds exactly one unit's data
(e.g. one node's features and label, no message passing). A stage trained with opacus spends like any other: it
calibrates sigma through the :class:`~dpgraph.privacy.spend.Budget` and records ``event_from_opacus(accountant)``.
"""

from __future__ import annotations

from opacus.accountants import IAccountant

from dpgraph.errors import DPGraphError
from dpgraph.privacy.events import (
    ComposedEvent,
    GaussianEvent,
    PoissonSampledEvent,
    PrivacyEvent,
    SelfComposedEvent,
)


def event_from_opacus(accountant: IAccountant) -> PrivacyEvent:
    """The composition of ``accountant.history``: per ``(noise_multiplier, sample_rate, num_steps)`` entry,
    ``SelfComposedEvent(PoissonSampledEvent(sample_rate, GaussianEvent(noise_multiplier)), num_steps)`` (a
    ``sample_rate`` of 1 is accounted as the plain Gaussian); several entries make one ``ComposedEvent``.

    An empty history or a zero noise multiplier raises DPGraphError.
    """
    history = list(accountant.history)
    if not history:
        raise DPGraphError("the opacus accountant has an empty history; translate it after training, not before")
    events: list[PrivacyEvent] = []
    for noise_multiplier, sample_rate, num_steps in history:
        if noise_multiplier == 0:
            raise DPGraphError(
                "the opacus accountant recorded steps with noise multiplier 0 (not private); "
                "train with noise_multiplier > 0"
            )
        step = PoissonSampledEvent(sample_rate, GaussianEvent(noise_multiplier))
        events.append(SelfComposedEvent(step, num_steps))
    return events[0] if len(events) == 1 else ComposedEvent(tuple(events))
