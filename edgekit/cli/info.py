"""`edgekit targets` and `edgekit zoo`: what edgekit knows, as tables or JSON."""

from __future__ import annotations

import dataclasses
import json

import click

from edgekit.formats import FORMATS, RUNTIMES
from edgekit.reporting.summary import format_table


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def targets(as_json: bool) -> None:
    """List the known targets: runtime, format and precisions of each device.

    Add your own by writing a TOML file with the same keys and passing --target path/to/mine.toml.
    """
    from edgekit.targets import builtin_targets

    known = builtin_targets()
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(t) for t in known.values()], indent=2))
        return
    rows = [[t.name, t.runtime, t.format, ",".join(t.precisions), t.default_precision, t.arch, str(t.threads),
             " > ".join(t.devices)] for t in known.values()]
    click.echo(format_table(["target", "runtime", "format", "precisions", "default", "arch", "threads", "devices"], rows))
    click.echo("")
    for name, fmt in FORMATS.items():
        click.echo(f"{name}: {fmt.description}; runs on {RUNTIMES[fmt.runtime].description}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def zoo(as_json: bool) -> None:
    """List the reference models, their data and their metric."""
    from edgekit.doctor import missing_for_zoo
    from edgekit.zoo import ZOO

    missing = missing_for_zoo()
    if as_json:
        click.echo(json.dumps([{**dataclasses.asdict(m), "data_missing": missing.get(m.name)} for m in ZOO.values()],
                              indent=2))
        return
    for m in ZOO.values():
        click.echo(f"{m.name}  ({m.architecture})" + ("  [its data is missing here]" if m.name in missing else ""))
        click.echo(f"  task:   {m.task}")
        click.echo(f"  data:   {m.data}" + (f" — MISSING: {missing[m.name]}" if m.name in missing else ""))
        click.echo(f"  metric: {m.metric} — {m.metric_doc}")
