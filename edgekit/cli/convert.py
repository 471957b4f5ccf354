"""`edgekit convert`: quantize a model for targets and verify every artifact with the device's runtime."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import click

from edgekit._quiet import framework_output_captured
from edgekit.cli._paths import writable_directory
from edgekit.cli._progress import echo_folded
from edgekit.formats import PRECISIONS


@click.command()
@click.argument("model")
@click.option("--target", "-t", "target_specs", multiple=True, required=True,
              help="Target name (see `edgekit targets`), 'all', or a path to a target .toml. Repeatable.")
@click.option("--precision", "-p", type=click.Choice([*PRECISIONS, "all"]), default=None,
              help="Precision to produce. Default: the target's default; every supported one with --target all. "
              "int16 (int8 weights, int16 activations; LiteRT and ONNX targets) is built only when named.")
@click.option("--calib", type=click.Path(dir_okay=False), default=None,
              help="Calibration .npz keyed by input name (real training samples; 20-300 used).")
@click.option("--eval", "eval_path", type=click.Path(dir_okay=False), default=None,
              help="Held-out .npz keyed by input name; integer class labels under 'labels' give top-1 accuracy.")
@click.option("--prune", "prune_text", default=None, metavar="METHOD:RATIO",
              help="Prune before converting: unstructured:0.8 (80 % of weights zero) or structured:0.5 (half the "
              "channels removed), then fine-tune on the model's training data.")
@click.option("--train", "train_path", type=click.Path(dir_okay=False), default=None,
              help="Training .npz for fine-tuning after --prune (inputs keyed by name, integer labels under "
              "'labels'); zoo models bring their own.")
@click.option("--input-shape", "input_shape_specs", multiple=True, metavar="NAME=1xCxHxW",
              help="Fix an input's dynamic dimensions (batch 1 first), e.g. x=1x3x48x192. Repeatable.")
@click.option("--custom-objects", type=click.Path(dir_okay=False), default=None, metavar="FILE.py",
              help="Python file defining the custom Keras layers / models a .keras file uses (registered with "
              "@keras.saving.register_keras_serializable()).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), callback=writable_directory,
              default="build", show_default=True,
              help="Output root: artifacts go to OUT/<model>/<target>/<precision>/.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Threads for host verification (default: the target's, capped at this machine's cores).")
@click.option("--json", "as_json", is_flag=True, help="Print the machine-readable summary instead of the table.")
@click.option("--max-accuracy-drop", type=click.FloatRange(min=0), default=None, metavar="PT",
              help="Accuracy budget: every int8 build keeps the layers that break it float, chosen on labelled "
              "validation samples set aside from the data (never the ones verified on); then a CI gate: exit 6 if "
              "any artifact's metric is more than PT points (or % for non-proportions) worse than fp32.")
@click.option("--mixed-precision", is_flag=True,
              help="Search which layers every int8 build keeps float until it meets the fidelity thresholds "
              "(--min-snr-db, --min-cosine, --min-top1-agreement) on validation samples set aside from the data: "
              "the budget for data without labels.")
@click.option("--no-speed-guard", "speed_guard", is_flag=True, flag_value=False, default=True,
              help="Keep every int8 build as built: do not time it against fp32 on this machine and replace it with "
              "a faster variant (e.g. LiteRT dynamic-range) when slower. This machine's CPU is not the device's: "
              "with the flag, the artifact is the same whichever workstation builds it.")
@click.option("--max-p99-ms", type=float, default=None, help="CI gate: exit 6 if any host p99 latency exceeds it.")
@click.option("--max-size-mb", type=float, default=None, help="CI gate: exit 6 if any artifact is larger.")
@click.option("--allow-degraded", is_flag=True,
              help="Exit 0 even when an artifact is degraded vs fp32 on held-out data (it is still marked DEGRADED; "
              "without this flag the run exits 7).")
@click.option("--min-snr-db", type=float, default=None, metavar="DB",
              help="Degraded below this SNR vs fp32 on any output (default: the recipe's, 10 dB for most).")
@click.option("--min-cosine", type=click.FloatRange(-1, 1), default=None,
              help="Degraded when any output's worst-sample cosine similarity vs fp32 is below this.")
@click.option("--min-top1-agreement", type=click.FloatRange(0, 1), default=None,
              help="Degraded when a class output's argmax agrees with fp32 on fewer held-out samples.")
@click.pass_context
def convert(ctx, model, target_specs, precision, calib, eval_path, prune_text, train_path, input_shape_specs,
            custom_objects, out_dir, threads, as_json, max_accuracy_drop, mixed_precision, speed_guard, max_p99_ms,
            max_size_mb, allow_degraded, min_snr_db, min_cosine, min_top1_agreement):
    """Convert MODEL (a zoo name, .keras, SavedModel directory, .onnx or PyTorch .pt2) for one or more targets.

    \b
    edgekit convert face-id --target raspberry-pi-5 --precision int8
    edgekit convert face-id --target all
    edgekit convert my_model.keras --target intel-core-ultra-npu --calib calib.npz --eval eval.npz
    edgekit convert my_model.onnx --target jetson-orin-nano --precision fp16
    edgekit convert my_model.pt2 --target all --calib calib.npz --eval eval.npz
    edgekit convert face-id --target raspberry-pi-5 --prune structured:0.5
    edgekit convert my_model.keras --target all --prune unstructured:0.8 --train train.npz --calib calib.npz
    edgekit convert my_model.keras --target all --precision int8 --calib data.npz --max-accuracy-drop 1
    """
    from edgekit.converters.common.pipeline import check_supported, convert as run_convert, plan_jobs
    from edgekit.converters.common.pruning import parse_prune
    from edgekit.errors import UsageError
    from edgekit.targets import resolve_targets

    # Everything that can be checked without a framework is checked before one is imported.
    targets = resolve_targets(target_specs)
    jobs = plan_jobs(targets, precision, every="all" in target_specs)
    prune = parse_prune(prune_text) if prune_text else None
    if train_path and prune is None:
        raise UsageError("--train is only used to fine-tune after pruning.", got=f"--train {train_path}",
                         tip="Add --prune unstructured:0.8 or --prune structured:0.5, or drop --train.")
    check_supported(model, jobs, prune)
    input_shapes = parse_input_shapes(input_shape_specs)
    debug = bool(ctx.obj and ctx.obj.get("debug"))
    with contextlib.nullcontext(sys.stderr) if debug else framework_output_captured() as terminal:
        from edgekit.cli._progress import progress_to

        progress = progress_to(terminal, enabled=not as_json)

        summary = run_convert(model, jobs, Path(out_dir), calib_path=calib, eval_path=eval_path,
                              threads=threads, prune=prune, train_path=train_path, custom_objects=custom_objects,
                              input_shapes=input_shapes, progress=progress, mixed_precision=mixed_precision,
                              max_accuracy_drop=max_accuracy_drop, speed_guard=speed_guard,
                              fidelity={"min_snr_db": min_snr_db, "min_cosine": min_cosine,
                                        "min_top1_agreement": min_top1_agreement})
    from edgekit.reporting import fidelity
    from edgekit.reporting.gates import GateRow, Gates, enforce

    gates = Gates(max_accuracy_drop, max_p99_ms, max_size_mb)
    if as_json:
        click.echo(json.dumps(summary.to_json(), indent=2))
        _fail_if_any_cell_failed(summary)
        fidelity.enforce(summary, allow_degraded)
        enforce(GateRow.of_summary(summary), gates)
        return
    from edgekit.reporting.summary import int8_speed_lines, mixed_precision_lines, pruning_lines, render_table

    click.echo(render_table(summary.artifacts, failed=summary.failed))
    lines = [f"FAILED {f.name} ({f.format}): {f.error}" for f in summary.failed] + [""]
    lines += [f"fp32 reference {k}: {v:.4f}" if isinstance(v, float) else f"fp32 reference {k}: {v}"
              for k, v in summary.reference_metrics.items()]
    lines += [f"baseline {k}: {v:.4f}" for k, v in summary.baseline.items()]
    lines += pruning_lines(summary.pruning) if summary.pruning else []
    lines += [f"mixed precision {line}" for line in mixed_precision_lines(summary)]
    lines += [f"int8 speed {line}" for line in int8_speed_lines(summary)]
    lines.append(f"evaluated on: {summary.evaluated_on}; latency is host CPU latency")
    lines += [f"check {f['check']} ({f['artifact']}): {f['message']}" for f in summary.sanity]
    lines += [f"not listed: {line}" for line in summary.not_listed]
    echo_folded("\n".join(lines))
    click.echo(f"wrote {Path(out_dir) / summary.model}/ (report.md, report.html, summary.json, <target>/<precision>/) "
               f"in {summary.wall_seconds} s")
    _fail_if_any_cell_failed(summary)
    fidelity.enforce(summary, allow_degraded)
    enforce(GateRow.of_summary(summary), gates)


def parse_input_shapes(specs: tuple[str, ...]) -> dict[str, tuple[int, ...]]:
    """--input-shape NAME=1x3x48x192 (repeatable) as {name: shape}, checked before any framework loads."""
    import re

    from edgekit.errors import UsageError

    shapes = {}
    for spec in specs:
        m = re.fullmatch(r"([^=]+)=([1-9]\d*(?:x[1-9]\d*)*)", spec.strip())
        if not m or m.group(1) in shapes:
            raise UsageError("Cannot read --input-shape: it is NAME=1xDxD... (positive sizes, batch first), once "
                             "per input.", got=f"--input-shape {spec}", tip="e.g. --input-shape x=1x3x48x192")
        shapes[m.group(1)] = tuple(int(d) for d in m.group(2).split("x"))
    return shapes


def _fail_if_any_cell_failed(summary) -> None:
    """Every cell was attempted and the reports are written; a run with a failed cell still exits nonzero."""
    if summary.failed:
        from edgekit.errors import ConversionError
        from edgekit.reporting.records import failures_line

        raise ConversionError(
            failures_line(summary.failed),
            tip=("The other artifacts are verified and written" if summary.artifacts else "No artifact was written")
            + "; run again with --debug for the failed ones' tracebacks.")
