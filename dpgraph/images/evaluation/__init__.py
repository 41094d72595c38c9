"""Evaluation of released image generators (registered in ``EVALUATORS``): ``image-quality`` (Fréchet distance and
Inception-style score under a reference classifier trained on the real images) and ``image-utility`` (classifiers
trained on the released images, tested on the real held-out ones). Private analysis, outside the release."""

from dpgraph.images.evaluation import quality, utility  # noqa: F401  (registration)
