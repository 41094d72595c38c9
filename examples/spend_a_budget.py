"""Spend a privacy budget in your own training loop: DP-SGD on scikit-learn's 8x8 digits, one image per unit.

The budget hands the stage its target; the stage calibrates sigma for the run it is about to do, runs it with
dpgraph's noisy gradient sum, and records the event it ran. A run that deviates from what it was calibrated for
(another number of steps, another sample rate) is refused when it records.

    python examples/spend_a_budget.py --epsilon 2 --steps 300
"""

from __future__ import annotations

import argparse

import torch
from sklearn.datasets import load_digits
from torch import nn

from dpgraph.dpsgd import DPSGDEngine, PrivateGradientSum, UnitSampling, row_cross_entropy
from dpgraph.privacy import Budget, PrivacyLedger
from dpgraph.privacy.randomness import GeneratorRandomness


def main(epsilon: float = 2.0, delta: float = 1e-5, steps: int = 300, sample_rate: float = 0.05,
         clip_norm: float = 1.0, lr: float = 0.5) -> dict:
    digits = load_digits()
    x = torch.tensor(digits.data, dtype=torch.float32) / 16.0
    y = torch.tensor(digits.target)
    train, test = torch.arange(len(y)) % 5 != 0, torch.arange(len(y)) % 5 == 0  # a fixed, label-free split

    ledger = PrivacyLedger(delta=delta, unit="example")
    budget = Budget(ledger, {"train": epsilon})
    sampling = UnitSampling(int(train.sum()), sample_rate=sample_rate)  # Poisson, one image per unit
    spend = budget.calibrate("train", lambda sigma: sampling.event(sigma, steps))

    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    gradient_sum = PrivateGradientSum(row_cross_entropy, sampling, clip_norm, spend.noise_multiplier,
                                      GeneratorRandomness.fresh())  # secret: fresh OS entropy, kept nowhere
    engine = DPSGDEngine(model, torch.optim.SGD(model.parameters(), lr=lr), gradient_sum)
    for _ in range(steps):
        engine.step((x[train], y[train]))
    spend.record(engine.event())  # must equal the calibrated event, or it raises

    with torch.no_grad():
        accuracy = (model(x[test]).argmax(1) == y[test]).float().mean().item()
    print(f"sigma {spend.noise_multiplier:.3f}: ({ledger.epsilon():.3f}, {delta:g})-DP per image "
          f"({ledger.accounted_with()}), test accuracy {accuracy:.3f}")
    return {"epsilon": ledger.epsilon(), "accuracy": accuracy, "noise_multiplier": spend.noise_multiplier}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epsilon", type=float, default=2.0)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    main(args.epsilon, steps=args.steps)
