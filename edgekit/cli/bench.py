"""`edgekit bench ARTIFACT [--device DEVICE]`: the profiler on any .tflite / .onnx / OpenVINO .xml, on this host or
on a device over SSH, as benchmark_app, LiteRT's benchmark_model and trtexec do for one runtime each: cold start,
latency (edgekit's protocol: warm-up until stable, then --min-runs and --min-seconds), and the runtime's own per-op
profile."""

from __future__ import annotations

import json
from pathlib import Path

import click

from edgekit.cli.device import _INVENTORY


@click.command()
@click.argument("artifact", type=click.Path(dir_okay=False))
@click.option("--inputs", "inputs_path", type=click.Path(dir_okay=False), default=None,
              help=".npz keyed by input name (samples along the first axis; up to 16 rotate). Default: generated "
              "from the artifact's inputs (uniform 0..1 for float and quantized inputs, zeros for integer ids), "
              "enough for latency, not for accuracy.")
@click.option("--input-shape", "input_shape_specs", multiple=True, metavar="NAME=1xCxHxW",
              help="Size of an input's dynamic dimensions for generated inputs, e.g. x=1x3x224x224. Repeatable.")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Runtime threads (default: the runtime's).")
@click.option("--min-runs", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--min-seconds", type=click.FloatRange(min=0), default=2.0, show_default=True)
@click.option("--ops/--no-ops", default=True, show_default=True,
              help="Also profile op by op with the runtime's own profiler (OpenVINO performance counters, ONNX "
              "Runtime profiling; LiteRT: the ops and what each computes in, untimed).")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="Ops listed by time.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@click.option("--device", default=None, help="Measure on this device (ssh://user@host[:port]/path, local:/path or an "
              "inventory name) with its runtime — the venv `edgekit flash --install` made there, else its python3.")
@_INVENTORY
def bench(artifact, inputs_path, input_shape_specs, threads, min_runs, min_seconds, ops, top, as_json, device,
          inventory):
    """Benchmark ARTIFACT (.tflite, .onnx or OpenVINO .xml) on this host, or on a device.

    \b
    edgekit bench build/face-id/raspberry-pi-5/int8/model.tflite
    edgekit bench model.onnx --input-shape x=1x3x224x224 --threads 4
    edgekit bench model.xml --inputs samples.npz --json
    edgekit bench model.tflite --device ssh://pi@raspberrypi.local/home/pi/edgekit
    """
    from edgekit.cli.convert import parse_input_shapes
    from edgekit.profiling.bench import bench_artifact

    shapes = parse_input_shapes(input_shape_specs)  # a typo fails before any runtime loads
    if device is None:
        result = bench_artifact(Path(artifact), inputs_path, shapes, threads, min_runs, min_seconds, ops)
    else:
        from edgekit.cli._progress import progress_to
        from edgekit.remote.address import resolve_device
        from edgekit.profiling.bench import bench_feeds
        from edgekit.remote.bench import bench_on_device

        where = resolve_device(device, inventory)
        feeds, origin = bench_feeds(Path(artifact), inputs_path, shapes)  # checked here, before the device is used
        result = {**bench_on_device(where, Path(artifact), feeds, threads=threads, min_runs=min_runs,
                                    min_seconds=min_seconds, with_ops=ops, progress=progress_to()),
                  "inputs_from": origin}
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    from edgekit.profiling.bench import render

    click.echo(render(result, top))
