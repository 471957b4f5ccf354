"""`edgekit prune-sweep`: try several pruning ratios for one target and compare accuracy, latency and size."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from edgekit.cli._paths import writable_directory
from edgekit.formats import PRECISIONS


def _ratios(text: str, method: str) -> list[float]:
    from edgekit.converters.common.pruning import parse_prune

    return [parse_prune(f"{method}:{r.strip()}").ratio for r in text.split(",") if r.strip()]


@click.command("prune-sweep")
@click.argument("model")
@click.option("--target", "-t", "target_specs", multiple=True, required=True,
              help="Target name or .toml (repeatable); each gets its own table rows and chart.")
@click.option("--method", type=click.Choice(["structured", "unstructured"]), default="structured", show_default=True)
@click.option("--ratios", default=None, metavar="R1,R2,...",
              help="Ratios to try besides the unpruned model. Default: 0.25,0.5,0.75 (structured), "
              "0.5,0.7,0.8,0.9 (unstructured).")
@click.option("--precision", "-p", type=click.Choice(PRECISIONS), default="int8", show_default=True)
@click.option("--calib", type=click.Path(dir_okay=False), default=None, help="Calibration .npz (user models).")
@click.option("--eval", "eval_path", type=click.Path(dir_okay=False), default=None, help="Held-out .npz (user models).")
@click.option("--train", "train_path", type=click.Path(dir_okay=False), default=None,
              help="Training .npz for fine-tuning (user models; zoo models bring their own).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), callback=writable_directory,
              default="build", show_default=True)
@click.option("--threads", type=click.IntRange(min=1), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print sweep.json's content (and its directory) instead of the table.")
@click.pass_context
def prune_sweep(ctx, model, target_specs, method, ratios, precision, calib, eval_path, train_path, out_dir, threads,
                as_json):
    """Convert MODEL unpruned and pruned at several ratios; write a table and accuracy/latency/size charts.

    \b
    edgekit prune-sweep face-id --target raspberry-pi-5
    edgekit prune-sweep plate-ocr --target raspberry-pi-5 --method unstructured
    """
    from edgekit._quiet import framework_output_captured
    from edgekit.converters.common.pipeline import check_supported, plan_jobs
    from edgekit.converters.common.pruning import PruneSpec
    from edgekit.targets import resolve_targets

    chosen = _ratios(ratios, method) if ratios else ([0.25, 0.5, 0.75] if method == "structured" else [0.5, 0.7, 0.8, 0.9])
    jobs = plan_jobs(resolve_targets(target_specs), precision, every=False)
    check_supported(model, jobs, PruneSpec(method, chosen[0]))
    debug = bool(ctx.obj and ctx.obj.get("debug"))
    with contextlib.nullcontext(sys.stderr) if debug else framework_output_captured() as terminal:
        from edgekit.converters.common.prune_sweep import prune_sweep as run_sweep
        from edgekit.reporting.sweep import render_sweep

        from edgekit.cli._progress import progress_to

        progress = progress_to(terminal)

        sweep = run_sweep(model, jobs, Path(out_dir), method, chosen, calib_path=calib, eval_path=eval_path,
                          train_path=train_path, threads=threads, progress=progress)
    if as_json:
        import json

        click.echo(json.dumps(sweep, indent=2))
        return
    click.echo(render_sweep(sweep, markdown=False))
    click.echo(f"\nlatency: {sweep['latency']}")
    click.echo(f"wrote {sweep['directory']}/ (sweep.md, sweep.json, one .svg chart per target)")
