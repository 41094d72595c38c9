"""Command-line interface: a thin click layer over the library API (no logic here)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from dpgraph import __version__
from dpgraph.errors import DPGraphError


def _user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a DPGraphError into a one-line message on stderr and exit code 2 (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DPGraphError as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(2)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dpgraph")
def main() -> None:
    """dpgraph: differentially private synthetic graphs with formal (epsilon, delta) accounting."""


# --- run / datasets (pipeline layer) ---


@main.command()
@click.argument("pipeline", type=click.Path(dir_okay=False, path_type=str))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Run directory (default runs/<name>-<time>).")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override a config key, e.g. --set privacy.epsilon=2 (repeatable).")
@click.option("--data-root", type=click.Path(file_okay=False),
              help="Dataset folder (default $DPGRAPH_DATA, else ./datasets).")
@click.option("--device", type=click.Choice(["cpu", "cuda", "auto"]), default="cpu", show_default=True)
@click.option("--quiet", is_flag=True, help="No progress bars; print only the run directory (bars show only on a "
              "terminal).")
@_user_errors
def run(pipeline: str, out_dir: str | None, overrides: tuple[str, ...], data_root: str | None, device: str,
        quiet: bool) -> None:
    """Run a pipeline file end to end and write its run directory."""
    from dpgraph.pipeline.config import load_config

    config = load_config(pipeline, overrides)
    from dpgraph.pipeline import run_pipeline  # after validation: torch loads only for a valid pipeline

    progress = not quiet and sys.stderr.isatty()
    result = run_pipeline(config, out_dir=out_dir, data_root=data_root, device=device, progress=progress)
    if quiet:
        click.echo(str(result.out_dir))
        return
    click.echo(summary_line(result.privacy, result.metrics))
    if result.privacy["private"] and not result.privacy["release"]:
        click.echo(f"warning: {result.privacy['warning']}", err=True)
    click.echo(f"run directory: {result.out_dir}  (see report.md; publish {result.release_dir} only)")


def summary_line(privacy: dict[str, Any], metrics: dict[str, Any]) -> str:
    """One line: the privacy guarantee and each model's accuracy (or, for a release nothing can be trained on, that
    there is no accuracy to show)."""
    if privacy["private"]:
        guarantee = f"({privacy['epsilon']:.3g}, {privacy['delta']:.2g})-DP, {privacy['unit']}-level"
        if not privacy["release"]:
            guarantee += " [NOT A RELEASE: reproducible noise]"
    else:
        guarantee = "not private"
    if not metrics.get("utility"):
        return f"{guarantee} | no downstream accuracy (see report.md)"
    accs = "  ".join(f"{m}: {r['test_acc_mean']:.3f} ± {r['test_acc_std']:.3f}" for m, r in metrics["utility"].items())
    return f"{guarantee} | {metrics.get('evaluated_on', 'test')} accuracy  {accs}"


@main.command()
@click.option("--data-root", type=click.Path(file_okay=False),
              help="Dataset folder (default $DPGRAPH_DATA, else ./datasets).")
def datasets(data_root: str | None) -> None:
    """List known datasets and whether their files are present under the data root."""
    from dpgraph.data.root import resolve_data_root
    from dpgraph.pipeline.catalogue import DATASETS

    root = resolve_data_root(data_root)
    click.echo(f"data root: {root}")
    for name in DATASETS.names():
        spec = DATASETS.get(name)
        present = spec.present(root)
        state = "no data-root files" if present is None else ("present" if present else "missing")
        click.echo(f"  {name:<13} {spec.modality:<6} {state:<21} {spec.description}")


@main.command()
@click.argument("pipeline", type=click.Path(dir_okay=False, path_type=str))
@click.option("--stats", is_flag=True, required=True, help="Print the sampler's statistics as one JSON object.")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE", help="Override a config key (repeatable).")
@click.option("--data-root", type=click.Path(file_okay=False),
              help="Dataset folder (default $DPGRAPH_DATA, else ./datasets).")
@_user_errors
def sample(pipeline: str, stats: bool, overrides: tuple[str, ...], data_root: str | None) -> None:
    """Run only the subgraph sampler of a pipeline (its method's `sampler:` block) and print its statistics."""
    import json

    from dpgraph.pipeline.config import load_config
    from dpgraph.pipeline.sample import sample_pipeline

    config = load_config(pipeline, overrides)
    click.echo(json.dumps(sample_pipeline(config, data_root)))


# --- account (privacy core) ---


@main.command()
@click.option("--noise-multiplier", type=float, help="Noise std / sensitivity (or give --target-epsilon).")
@click.option("--target-epsilon", type=float, help="Print the least noise multiplier meeting this epsilon.")
@click.option("--sample-rate", type=float, help="Poisson sampling probability per step.")
@click.option("--steps", type=int, help="Number of DP-SGD steps.")
@click.option("--delta", type=float, help="Target delta, in (0, 1) (with --ledger: the ledger's own by default).")
@click.option("--occurrences", type=int, help="Subgraph DP-SGD: max subgraphs a node occurs in (K).")
@click.option("--num-subgraphs", type=int, help="Subgraph DP-SGD: number of training subgraphs (N).")
@click.option("--batch-size", type=int, help="Subgraph DP-SGD: fixed batch size (B), not --sample-rate.")
@click.option("--ledger", type=click.Path(dir_okay=False, path_type=Path),
              help="A run's privacy.json: recompute its epsilon from the recorded events (no other event option).")
@click.option("--accountant", type=click.Choice(["auto", "analytic-gaussian", "pld", "prv", "rdp"]),  # the choices
              help="auto (default: the tightest that applies), analytic-gaussian, pld, prv or rdp; with --ledger, the "
                   "ledger's own unless given.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@_user_errors
def account(
    noise_multiplier: float | None,
    target_epsilon: float | None,
    sample_rate: float | None,
    steps: int | None,
    delta: float | None,
    occurrences: int | None,
    num_subgraphs: int | None,
    batch_size: int | None,
    ledger: Path | None,
    accountant: str | None,
    as_json: bool,
) -> None:
    """Epsilon of a DP-SGD run, or (with --target-epsilon) the noise multiplier that meets a budget, or (with
    --ledger) the epsilon of a finished run's recorded events."""
    import json

    from dpgraph import privacy  # imported here: it pulls in torch/opacus, too slow for every CLI call

    if ledger is not None:
        if any(v is not None for v in (noise_multiplier, target_epsilon, sample_rate, steps, occurrences,
                                       num_subgraphs, batch_size)):
            raise DPGraphError("--ledger recomputes a run's recorded events; drop the other event options")
        _account_ledger(ledger, delta, accountant, as_json)
        return
    if steps is None or delta is None:
        raise DPGraphError("give --steps and --delta (or --ledger RUN/privacy.json)")
    accountant = accountant or "auto"
    if (noise_multiplier is None) == (target_epsilon is None):
        raise DPGraphError("give exactly one of --noise-multiplier or --target-epsilon")
    make_event = privacy.dpsgd_event_factory(steps, sample_rate, occurrences, num_subgraphs, batch_size)
    if target_epsilon is not None:
        noise_multiplier = privacy.noise_multiplier_for(target_epsilon, delta, make_event, accountant)
    event = make_event(noise_multiplier)
    epsilon = privacy.compute_epsilon(event, delta, accountant)
    method = privacy.accounting_method(event, accountant)
    if as_json:
        click.echo(json.dumps({
            "epsilon": epsilon,
            "delta": delta,
            "noise_multiplier": noise_multiplier,
            "target_epsilon": target_epsilon,
            "accountant": accountant,
            "accounted_with": method,
            "event": event.to_dict(),
        }))
    elif target_epsilon is not None:
        click.echo(f"noise_multiplier={noise_multiplier!r} epsilon={epsilon!r} delta={delta!r} "
                   f"accountant={accountant} accounted_with={method}")
    else:
        click.echo(f"epsilon={epsilon!r} delta={delta!r} accountant={accountant} accounted_with={method}")


def _account_ledger(path: Path, delta: float | None, accountant: str | None, as_json: bool) -> None:
    """Print the epsilon (and each stage's) of the events recorded in a run's privacy.json, recomputed with the
    ledger's own delta and accountant unless others are given."""
    import json

    from dpgraph.privacy import PrivacyLedger

    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DPGraphError(f"cannot read the ledger {path}: {err}; pass a run directory's privacy.json") from None
    if not isinstance(data, dict) or not data.get("private", False):
        raise DPGraphError(f"{path} records a non-private run (or is not a privacy.json): nothing to account")
    overrides = {key: value for key, value in (("delta", delta), ("accountant", accountant)) if value is not None}
    ledger = PrivacyLedger.from_dict(data | overrides)
    result = {"epsilon": ledger.epsilon(), "delta": ledger.delta, "accountant": ledger.accountant,
              "accounted_with": ledger.accounted_with(), "stage_epsilons": ledger.stage_epsilons(),
              "stage_accounted_with": ledger.stage_accounted_with(), "events": len(data["events"])}
    if as_json:
        click.echo(json.dumps(result))
    else:
        stages = " ".join(f"{stage}={eps:.4g}" for stage, eps in result["stage_epsilons"].items())
        click.echo(f"epsilon={result['epsilon']!r} delta={ledger.delta!r} accountant={ledger.accountant} "
                   f"accounted_with={result['accounted_with']} ({stages})")


if __name__ == "__main__":  # pragma: no cover
    main()
