"""DP image generators, registered in :data:`dpgraph.mechanisms.registry.MECHANISMS`."""

from dpgraph.images.mechanisms import dp_dcgan, dp_merf, gs_wgan  # noqa: F401  (registration)
