"""`edgekit explain`: where each quantized artifact of a build departs from fp32, layer by layer."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command()
@click.argument("build_dir", type=click.Path(file_okay=False))
@click.option("--all-layers", is_flag=True, help="Print every compared layer, not only the summary.")
@click.option("--ops", "show_ops", is_flag=True,
              help="Also print each artifact's per-op profile (ops.json): time per op type, quantize/dequantize "
              "plumbing and the ops computing in float.")
@click.option("--json", "as_json", is_flag=True, help="Print every artifact's layers.json as one JSON object.")
def explain(build_dir, all_layers, show_ops, as_json):
    """Per-layer error of every int8 / int16 artifact in BUILD_DIR (build/<model>), measured by `edgekit convert`
    with each target's runtime against the fp32 artifact of the same format on held-out samples.

    \b
    edgekit explain build/face-id
    edgekit explain build/face-id --all-layers
    edgekit explain build/face-id --ops
    """
    from edgekit.errors import InputFileError
    from edgekit.reporting.summary import format_table, layer_lines

    root = Path(build_dir)
    # every report with a per-layer summary, including those where it could not be measured (their reason)
    summaries = {f"{p.parent.parent.name} {p.parent.name}": (p.parent, layers) for p in sorted(root.glob("*/*/report.json"))
                 if (layers := json.loads(p.read_text(encoding="utf-8")).get("layers"))}
    if not summaries:
        raise InputFileError(
            "No per-layer error in this directory: it is written next to each int8 / int16 artifact.",
            got=str(root), tip="Pass a model's build directory (build/<model>) after `edgekit convert … --precision "
            "int8`; artifacts built by an older edgekit need converting again.")
    docs = {name: json.loads((d / "layers.json").read_text(encoding="utf-8")) if (d / "layers.json").is_file()
            else layers for name, (d, layers) in summaries.items()}
    if as_json:
        click.echo(json.dumps(docs, indent=2))
        return
    for name, doc in docs.items():
        click.echo(layer_lines(name, doc)[0])
        decision = json.loads((summaries[name][0] / "report.json").read_text(encoding="utf-8")).get("float_fallback")
        if decision and decision.get("candidates"):  # a mixed-precision search ran: what it kept float
            kept = ", ".join(decision["float_layers"]) or "none"
            click.echo(f"  mixed precision kept float: {kept} (of {', '.join(decision['candidates'])}; "
                       f"{'budget met' if decision['reached'] else 'budget NOT met'} on {decision.get('split')})")
        if show_ops:
            _print_ops(summaries[name][0])
        if all_layers and "layers" in doc:
            rows = [[e["layer"], f"{e['snr_db']:.1f}", f"{e['added_db']:.1f}", e["tensor"][:70]] for e in doc["layers"]]
            click.echo(format_table(["layer", "SNR dB", "adds dB", "tensor"], rows))
            click.echo("")


def _print_ops(directory: Path) -> None:
    """The per-op profile of one artifact: its summary line, then time by op type (or, untimed, the float ops)."""
    from edgekit.reporting.sanity import ops_line
    from edgekit.reporting.summary import format_table

    path = directory / "ops.json"
    if not path.is_file():
        click.echo("  no per-op profile (ops.json) next to this artifact")
        return
    doc = json.loads(path.read_text(encoding="utf-8"))
    click.echo(" " + ops_line(doc).replace("; `edgekit explain --ops` lists them.", "."))
    if doc.get("timed"):
        rows = [[t["type"], f"{t['ms']:.4f}"] for t in doc.get("top_types", [])]
        click.echo(format_table(["op type", "ms per inference"], rows))
    from edgekit.profiling.op_profile import PLUMBING

    floating = [o for o in doc.get("per_op", []) if o["compute"] == "float" and o["type"] not in PLUMBING]
    if floating:
        click.echo(format_table(["float op", "type", "ms"], [[o["name"][:70], o["type"], "-" if o["ms"] is None else
                                                              f"{o['ms']:.4f}"] for o in floating[:20]]))
    click.echo("")
