"""report.md: a human summary of config, privacy, utility, fidelity and timing."""

from __future__ import annotations

from typing import Any


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


_RANDOMNESS = {
    "secret": "noise, batch selection and sampler keys come from fresh operating-system entropy, recorded nowhere",
    "secure": "noise, batch selection and sampler keys are drawn from the OS CSPRNG (guarded Gaussian sampler)",
}


def _privacy_lines(privacy: dict[str, Any]) -> list[str]:
    if not privacy["private"]:
        return ["**Not private.** This run is a non-private reference: no differential-privacy guarantee.", ""]
    if privacy["release"]:
        origin = f"Randomness: `{privacy['randomness']}` ({_RANDOMNESS[privacy['randomness']]})."
    else:
        origin = f"**NOT A RELEASE.** {privacy['warning']}."
    lines = [
        f"**({privacy['epsilon']:.4g}, {privacy['delta']:.3g})-DP, {privacy['unit']}-level** "
        f"(target ε = {privacy['target_epsilon']:.4g}; accountant: {privacy['accountant']}, accounted with "
        f"{privacy['accounted_with']}). "
        "ε is computed from the recorded events below; `dpgraph`'s accounting core recomputes it from "
        "release/privacy.json.",
        "",
        origin,
        "",
        "| stage | event | ε of the stage alone |",
        "|---|---|---|",
    ]
    for item in privacy["events"]:
        event = ", ".join(f"{k}={_fmt(v)}" for k, v in item["event"].items())
        lines.append(f"| {item['stage']} | {event} | {_fmt(privacy['stage_epsilons'].get(item['stage']))} |")
    return [*lines, ""]


_SECTION_TITLES = {
    "fidelity": "Structural fidelity (private analysis: compared with the real graph)",
    "pgb_queries": "PGB's 15 queries (private analysis: real vs released, PGB's error measure)",
    "graph_mmd": "GraphRNN-style MMDs of degree and clustering (private analysis)",
}
_RECORDS = {"graph": "nodes", "image": "images"}


def _dataset_line(dataset: dict[str, Any], split: str) -> str:
    if "num_nodes" in dataset:
        shape = f"{dataset['num_nodes']} nodes, {dataset['num_features']} features"
    else:
        shape = f"{dataset['image_shape']} images"
    return (f"- dataset: **{dataset['name']}** ({shape}, {dataset['num_classes']} classes), {split}: "
            f"{dataset['num_train']} train / {dataset['num_val']} val / {dataset['num_test']} test")


def _utility_lines(utility: dict[str, Any], epochs: Any, score_on: str, records: str) -> list[str]:
    lines = [f"## Utility (private analysis: train on the release, score on the real {score_on} {records})", "",
             f"{len(utility[next(iter(utility))]['per_seed'])} evaluation seeds, {epochs} epochs, no model selection "
             "on real labels.", "", f"| model | {score_on} accuracy (mean ± std) | per seed |", "|---|---|---|"]
    for model, res in utility.items():
        per_seed = ", ".join(f"{a:.3f}" for a in res["per_seed"])
        lines.append(f"| {model} | {res['test_acc_mean']:.4f} ± {res['test_acc_std']:.4f} | {per_seed} |")
    return [*lines, ""]


def _table_lines(values: dict[str, Any]) -> list[str]:
    """A metric table: one row per metric; a dict of rows (every value a dict) gets one column per key its rows
    use, in first-seen order, and a dash where a row lacks one."""
    if not all(isinstance(row, dict) for row in values.values()):
        return ["| metric | value |", "|---|---|", *(f"| {k} | {_fmt(v)} |" for k, v in values.items())]
    columns = list(dict.fromkeys(column for row in values.values() for column in row))
    return [f"| metric | {' | '.join(columns)} |", "|---" * (len(columns) + 1) + "|",
            *(f"| {k} | {' | '.join(_fmt(row.get(c)) for c in columns)} |" for k, row in values.items())]


def render_report(config: dict[str, Any], dataset: dict[str, Any], privacy: dict[str, Any],
                  metrics: dict[str, Any], plots: list[str]) -> str:
    """Markdown for report.md: every evaluator's metrics (``utility`` as a table per model, each other dict of
    metrics as a table of its own)."""
    ds = config["dataset"]
    split = ("public split" if ds["split"] == "public"
             else f"random split {ds['split_fractions']} (seed {ds['split_seed']})")
    ev = config["evaluate"]
    modality = config.get("modality", "graph")
    lines = [
        f"# dpgraph run `{config['name']}`",
        "",
        _dataset_line(dataset, split),
        f"- method: **{config['method']['name']}**, seed {config['seed']}",
        "",
        "## Privacy (published: `release/` holds the released artefact, privacy.json and config.yaml)",
        "",
        *_privacy_lines(privacy),
        f"Everything below is **private analysis**: it reads the real {modality} data outside the privacy ledger. "
        "Keep it with the data owner; publish `release/` only.",
        "",
    ]
    if metrics.get("utility"):
        lines += _utility_lines(metrics["utility"], ev["epochs"], ev.get("score_on", "test"),
                                _RECORDS.get(modality, "records"))
    for key, values in metrics.items():
        if key in ("utility", "timing_s") or not isinstance(values, dict) or not values:
            continue
        title = _SECTION_TITLES.get(key, f"{key.replace('_', ' ').capitalize()} (private analysis)")
        lines += [f"## {title}", "", *_table_lines(values), ""]
    lines += ["## Timing (private analysis; seconds)", "", "| phase | s |", "|---|---|"]
    lines += [f"| {k} | {v:.2f} |" for k, v in metrics["timing_s"].items()]
    if plots:
        lines += ["", "## Plots (private analysis: kept beside the release, not part of it)", ""]
        lines += [f"![{p}]({p})" for p in plots]
    return "\n".join(lines) + "\n"
