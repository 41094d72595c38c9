"""Pipeline orchestration: config -> data -> mechanism -> evaluation -> run directory."""

from dpgraph.pipeline.run import RunResult, run_pipeline

__all__ = ["RunResult", "run_pipeline"]
