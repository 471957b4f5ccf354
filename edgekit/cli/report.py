"""edgekit report BASE HEAD: compare two runs (convert summaries or device profiles), regressions highlighted."""

from __future__ import annotations

import json

import click


@click.command()
@click.argument("base")
@click.argument("head")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON (schema edgekit.report-diff/1).")
@click.option("--latency-tolerance", type=click.FloatRange(min=0), default=10.0, show_default=True, metavar="PCT",
              help="p50 slower by more than this is a regression (p99: 2.5x this).")
@click.option("--size-tolerance", type=click.FloatRange(min=0), default=1.0, show_default=True, metavar="PCT")
@click.option("--fail-on-regression", is_flag=True, help="Exit 6 when anything regressed (for CI).")
def report(base, head, as_json, latency_tolerance, size_tolerance, fail_on_regression):
    """Compare HEAD with BASE: each a report.json / summary.json or a convert output directory.

    A metric regresses when its 95 % interval lies entirely on the worse side (proportions), latency and size
    when they grow beyond the tolerances.

    \b
    edgekit report baseline/face-id build/face-id
    edgekit report old/report.json build/devices/pi/face-id/report.json --fail-on-regression
    """
    from edgekit.reporting.diff import Tolerances, diff_reports, render_diff
    from edgekit.reporting.gates import GateFailed

    diff = diff_reports(base, head, Tolerances(latency_percent=latency_tolerance, p99_percent=2.5 * latency_tolerance,
                                               size_percent=size_tolerance))
    if as_json:
        click.echo(json.dumps(diff, indent=2))
    else:
        click.echo(render_diff(diff, mark=lambda text: click.style(text, fg="red", bold=True)))
    if fail_on_regression and diff["regressions"]:
        raise GateFailed(f"{len(diff['regressions'])} regression(s) from {base} to {head}.",
                         tip="See the REGRESSION lines above; raise --latency-tolerance if the machine is noisy.")
