"""The image modality: image datasets (privacy unit ``example``), DP image generators and their evaluation, on the
same pipeline, release folder and privacy ledger as the graph methods. Importing this package registers them.

It depends on the modality-neutral core only (privacy, DP-SGD, the mechanism/release/evaluator contracts), never on
graph code; the import contract in pyproject.toml checks both directions."""

from dpgraph.images import datasets, evaluation, mechanisms  # noqa: F401  (registration)
