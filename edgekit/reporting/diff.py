"""`edgekit report a.json b.json`: the second run compared with the first, artifact by artifact, with what got
worse beyond noise called out as a regression."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from edgekit.errors import InputFileError, UsageError
from edgekit.reporting.metric import Metric
from edgekit.reporting.records import ConvertReport, ConvertSummary, DeviceProfile
from edgekit.reporting.schema import kind_of

DIFF_SCHEMA = "edgekit.report-diff/1"


@dataclass(frozen=True)
class Tolerances:
    latency_percent: float = 10.0  # p50 slower by more than this is a regression
    p99_percent: float = 25.0  # tails are noisier than medians
    size_percent: float = 1.0
    accuracy_points: float = 0.5  # used only when a metric has no sample count to test against


def load_report(path: str | Path) -> tuple[dict, str]:
    """A report file, or a convert output directory (its summary.json)."""
    p = Path(path)
    if p.is_dir():
        p = p / "summary.json"
    if not p.is_file():
        raise InputFileError("Report not found.", got=str(path),
                             tip="Pass a report.json / summary.json, or a convert output directory like build/face-id.")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputFileError("Not a JSON report.", got=f"{p}: {exc}",
                             tip="Pass a report.json / summary.json written by edgekit.") from exc
    kind = kind_of(doc, str(p))
    from edgekit.reporting.schema import errors

    wrong = errors(doc)
    if wrong:
        raise InputFileError(f"The report does not match its schema ({doc['schema']}), so it is not compared.",
                             got=f"{p}: {'; '.join(wrong[:3])}{' …' if len(wrong) > 3 else ''}",
                             tip="It was edited or truncated; write it again with the edgekit command that made it.")
    return doc, kind


def _no_constant(name: str):
    """NaN and Infinity are not JSON; a report holding one ("worse by inf pt") is refused."""
    raise ValueError(f"{name} is not a number a report can hold")


@dataclass(frozen=True)
class _Comparable:
    """One artifact of a report, as the diff compares it."""

    metric: Metric | None
    size: int
    p50: float
    p99: float
    value: float | None
    n: int | None


def _rows(doc: dict, kind: str) -> dict[str, _Comparable]:
    if kind == "convert-summary":
        summary = ConvertSummary.from_json(doc)
        return {r.name: _Comparable(summary.metric, r.size_bytes, r.latency_median_ms, r.latency_p99_ms, r.value,
                                    r.n_evaluated) for r in summary.artifacts}
    if kind == "convert-report":
        report = ConvertReport.from_json(doc)
        return {f"{report.target} {report.precision}": _Comparable(
            report.metric, report.artifact["size_bytes"], report.latency["median_ms"], report.latency["p99_ms"],
            report.value, report.n_evaluated)}
    if kind == "device-profile":
        profile = DeviceProfile.from_json(doc)
        acc = profile.accuracy or {}
        return {f"{profile.app} {profile.target} {profile.precision}": _Comparable(
            profile.metric, profile.artifact_bytes, profile.latency["median_ms"], profile.latency["p99_ms"],
            acc.get("value"), acc.get("n_evaluated"))}
    raise UsageError(f"edgekit report compares convert and profile reports, not {kind} reports.", got=kind)


def _pct(a: float | None, b: float | None) -> float | None:
    return None if a in (None, 0) or b is None else round(100 * (b - a) / a, 2)


def _accuracy(a: _Comparable, b: _Comparable, tol: Tolerances) -> tuple[float | None, list[float] | None, bool]:
    """(worsening in points or %, its 95 % interval for proportions, significant regression?)."""
    m = a.metric
    if m is None or a.value is None or b.value is None:
        return None, None, False
    worse = m.drop(b.value, a.value)  # the head measured against the base as its reference
    worse = None if worse is None else round(worse, 3)
    if m.is_proportion:
        ci = m.drop_interval(b.value, a.value, a.n if a.n == b.n else None)
        if ci:
            return worse, ci, ci[0] > 0  # worse beyond noise: the whole interval lies on the worse side
    return worse, None, worse is not None and worse > tol.accuracy_points


def diff_reports(base_path: str | Path, head_path: str | Path, tol: Tolerances = Tolerances()) -> dict:
    base, kind_a = load_report(base_path)
    head, kind_b = load_report(head_path)
    if kind_a != kind_b:
        raise UsageError("The two reports are of different kinds.", got=f"{kind_a} vs {kind_b}",
                         tip="Compare a convert summary with a convert summary, a device profile with a device profile.")
    a_rows, b_rows = _rows(base, kind_a), _rows(head, kind_b)
    if base.get("metric") != head.get("metric"):
        raise UsageError("The two reports measure different metrics.", got=f"{base.get('metric')} vs {head.get('metric')}")
    rows, regressions = [], []
    for key in [k for k in a_rows if k in b_rows]:
        a, b = a_rows[key], b_rows[key]
        worse, ci, acc_regressed = _accuracy(a, b, tol)
        m = a.metric
        row = {"artifact": key, "size_bytes": [a.size, b.size], "size_percent": _pct(a.size, b.size),
               "p50_ms": [a.p50, b.p50], "p50_percent": _pct(a.p50, b.p50),
               "p99_ms": [a.p99, b.p99], "p99_percent": _pct(a.p99, b.p99),
               "metric": [a.value, b.value], "metric_worse": worse,
               "metric_unit": m.drop_unit if m else "points", "metric_worse_ci95": ci, "regressed": []}
        if acc_regressed:
            row["regressed"].append("metric")
            regressions.append(f"{key}: {m.name} {a.value:.4g} -> {b.value:.4g} (worse by {worse:.2f} "
                               f"{m.drop_symbol}" + (f", 95 % CI [{ci[0]:+.2f}, {ci[1]:+.2f}]" if ci else "") + ")")
        for field, limit in (("p50", tol.latency_percent), ("p99", tol.p99_percent), ("size", tol.size_percent)):
            change = row[f"{field}_percent"]
            if change is not None and change > limit:
                row["regressed"].append(field)
                regressions.append(f"{key}: {field} {getattr(a, field):.4g} -> {getattr(b, field):.4g} "
                                   f"(+{change:.1f} %, tolerance {limit:g} %)")
        rows.append(row)
    # an artifact the base had and the head lacks is a regression: a head that built nothing must not pass CI
    regressions += [f"{key}: in the base, missing from the head" for key in a_rows if key not in b_rows]
    unmatched = sorted(set(a_rows) ^ set(b_rows))
    return {"schema": DIFF_SCHEMA, "kind": kind_a, "base": str(base_path), "head": str(head_path), "rows": rows,
            "regressions": regressions, "unmatched": unmatched}


def render_diff(diff: dict, mark=lambda text: f"**{text}**") -> str:
    """A table; ``mark`` highlights regressed cells (Markdown bold by default, colour on a terminal)."""
    from edgekit.reporting.summary import format_table

    def cell(row, field, text):
        return mark(text) if field in row["regressed"] else text

    def pct(v):
        return "-" if v is None else f"{v:+.1f} %"

    heads = ["artifact", "size", "p50 ms", "p99 ms", "metric", "worse by"]
    body = []
    for r in diff["rows"]:
        m0, m1 = r["metric"]
        worse = "-" if r["metric_worse"] is None else (
            f"{r['metric_worse']:+.2f} {'pt' if r['metric_unit'] == 'points' else '%'}"
            + (f" [{r['metric_worse_ci95'][0]:+.1f}, {r['metric_worse_ci95'][1]:+.1f}]" if r["metric_worse_ci95"] else ""))
        body.append([r["artifact"], cell(r, "size", pct(r["size_percent"])),
                     cell(r, "p50", f"{r['p50_ms'][0]:.3f} -> {r['p50_ms'][1]:.3f} ({pct(r['p50_percent'])})"),
                     cell(r, "p99", f"{r['p99_ms'][0]:.3f} -> {r['p99_ms'][1]:.3f} ({pct(r['p99_percent'])})"),
                     "-" if m0 is None or m1 is None else f"{m0:.4g} -> {m1:.4g}", cell(r, "metric", worse)])
    lines = [f"base: {diff['base']}", f"head: {diff['head']}", "", format_table(heads, body)]
    if diff["unmatched"]:
        lines.append(f"\nin only one of the two: {', '.join(diff['unmatched'])}")
    lines.append("")
    lines += [f"REGRESSION {r}" for r in diff["regressions"]] or ["no regressions"]
    return "\n".join(lines)
