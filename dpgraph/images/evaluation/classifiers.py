"""Image classifiers selectable by name in ``evaluate.models``: each is fitted on labelled images with fixed settings
and one seed, and returns a predictor ``images [M, C, H, W] -> labels [M]``.

* ``cnn``: :class:`~dpgraph.images.evaluation.networks.ConvNet` (``hidden`` units, ``dropout``), trained by
  :func:`~dpgraph.images.evaluation.training.train_network`;
* ``mlp``: :class:`~dpgraph.images.evaluation.networks.PixelMLP`, trained the same way;
* ``logreg``: scikit-learn's multinomial ``LogisticRegression`` (L2, C = 1, lbfgs, a fixed iteration budget) on the
  flattened pixels; lbfgs is deterministic, so every seed gives the same fit.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from torch import Tensor, nn

from dpgraph.images.evaluation.networks import ConvNet, PixelMLP
from dpgraph.images.evaluation.training import FitSettings, apply_batched, train_network
from dpgraph.registry import Registry

Predictor = Callable[[Tensor], Tensor]
#: ``fit(images [N, C, H, W], labels [N], num_classes, settings, seed, device) -> predictor``
FitClassifier = Callable[[Tensor, Tensor, int, FitSettings, int, torch.device], Predictor]

IMAGE_CLASSIFIERS: Registry[FitClassifier] = Registry("image classifier", "evaluate.models")
LOGREG_MAX_ITER = 300


def _fit_network(build: Callable[..., nn.Module]) -> FitClassifier:
    """The fit of the network ``build(image_shape, num_classes, generator, hidden=, dropout=)``, initialised,
    shuffled and dropped out from ``torch.Generator().manual_seed(seed)``."""

    def fit(images: Tensor, labels: Tensor, num_classes: int, settings: FitSettings, seed: int,
            device: torch.device) -> Predictor:
        generator = torch.Generator().manual_seed(seed)
        network = build(tuple(images.shape[1:]), num_classes, generator, hidden=settings.hidden,
                        dropout=settings.dropout).to(device)
        train_network(network, images, labels, settings, generator)
        return lambda test: apply_batched(lambda chunk: network(chunk).argmax(1), test, device)

    return fit


IMAGE_CLASSIFIERS.register("cnn")(_fit_network(ConvNet))
IMAGE_CLASSIFIERS.register("mlp")(_fit_network(PixelMLP))


@IMAGE_CLASSIFIERS.register("logreg")
def fit_logreg(images: Tensor, labels: Tensor, num_classes: int, settings: FitSettings, seed: int,
               device: torch.device) -> Predictor:
    if labels.unique().numel() < 2:  # one class only: scikit-learn refuses to fit; the fit is that constant
        return lambda test: torch.full((test.size(0),), int(labels[0]), dtype=torch.long)
    with warnings.catch_warnings():  # the iteration budget is part of the fixed recipe
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(max_iter=LOGREG_MAX_ITER, random_state=seed)
        model.fit(images.flatten(1).double().numpy(), labels.numpy())
    return lambda test: torch.from_numpy(model.predict(test.flatten(1).double().numpy())).long()
