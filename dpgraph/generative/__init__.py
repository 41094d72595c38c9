"""Modality-neutral pieces of the generative mechanisms: random-feature mean embeddings with their sensitivity, the
loop that fits a conditional generator to a released embedding, and public initialisation of a generator."""

from dpgraph.generative.fitting import fit_to_embedding, publicly_initialised
from dpgraph.generative.mean_embedding import (
    embedding_sensitivity,
    embedding_statistic,
    fourier_features,
    fourier_frequencies,
)

__all__ = [
    "embedding_sensitivity",
    "embedding_statistic",
    "fit_to_embedding",
    "fourier_features",
    "fourier_frequencies",
    "publicly_initialised",
]
