"""What ``release/`` says about privacy: privacy.json, and the config as published."""

from __future__ import annotations

from typing import Any

from dpgraph.pipeline.config import PipelineConfig
from dpgraph.privacy import PrivacyLedger

NOT_A_RELEASE = ("reproducible noise (privacy.randomness: reproducible): anyone who knows the seed regenerates the "
                 "noise, so this run is an experiment, NOT A RELEASE")


def privacy_record(config: PipelineConfig, ledger: PrivacyLedger | None) -> dict[str, Any]:
    """privacy.json: the ledger, the target, where the noise came from, and whether the run may be published as a
    DP release (private and its noise not reproducible from the seed)."""
    randomness = config.privacy.randomness
    if ledger is None:
        return {"private": False, "release": False, "epsilon": None, "delta": None, "unit": config.privacy.unit,
                "method": config.method.name, "randomness": randomness, "events": []}
    record = {**ledger.to_dict(), "target_epsilon": config.privacy.epsilon, "method": config.method.name,
              "randomness": randomness, "release": randomness != "reproducible"}
    if not record["release"]:
        record["warning"] = NOT_A_RELEASE
    return record


def release_config(config: dict[str, Any]) -> dict[str, Any]:
    """The resolved config as published in ``release/``: without the seed when the seed regenerates the noise."""
    if config["privacy"]["randomness"] == "reproducible":
        return {key: value for key, value in config.items() if key != "seed"}
    return config
