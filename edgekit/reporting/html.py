"""report.html: one self-contained page per run (inline CSS, SVG and a few lines of script; nothing fetched),
for a convert run (every artifact side by side) and for a device profile."""

from __future__ import annotations

from html import escape

from edgekit.reporting import svg
from edgekit.reporting.records import ConvertReport, ConvertSummary, DeviceProfile
from edgekit.reporting.summary import layer_lines, pruning_lines, table_cells

CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px;margin:1em 0}th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
th{background:#f3f3f3;cursor:pointer;white-space:nowrap}td:first-child,th:first-child{text-align:left}
tr:nth-child(even) td{background:#fafafa}.finding{background:#fff4e5;border-left:4px solid #f0a000;padding:.4em .8em;margin:.4em 0}
.finding b{font-family:monospace}.muted{color:#666}figure{margin:1em 0;overflow-x:auto}
.wide{overflow-x:auto;max-width:100%}"""
# Click a header to sort by it; the body's data-rendered attribute tells tests the script ran to the end.
JS = """document.querySelectorAll("table.sortable").forEach(function (t) {
  t.querySelectorAll("th").forEach(function (th, i) {
    th.addEventListener("click", function () {
      var dir = th.dataset.dir === "asc" ? -1 : 1;
      th.dataset.dir = dir === 1 ? "asc" : "desc";
      var rows = Array.prototype.slice.call(t.tBodies[0].rows);
      rows.sort(function (a, b) {
        var x = a.cells[i].dataset.v || a.cells[i].textContent, y = b.cells[i].dataset.v || b.cells[i].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        return (isNaN(nx) || isNaN(ny) ? x.localeCompare(y) : nx - ny) * dir;
      });
      rows.forEach(function (r) { t.tBodies[0].appendChild(r); });
    });
  });
});
document.body.dataset.rendered = String(document.querySelectorAll("table.sortable tbody tr").length);"""


def _page(title: str, body: list[str]) -> str:
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{CSS}</style></head>\n<body>\n<h1>{escape(title)}</h1>\n" + "\n".join(body)
            + f"\n<script>\n{JS}\n</script>\n</body></html>\n")


def _table(heads: list[str], rows: list[list[tuple[str, object]]]) -> str:
    """rows of (text, sort value) cells; the sort value lets '254 KiB' sort as a number."""
    # in a scrolling box: 18 columns are wider than a laptop's window, and the page must not overflow
    out = ['<div class="wide"><table class="sortable"><thead><tr>', *(f"<th>{escape(h)}</th>" for h in heads),
           "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>" + "".join(
            f'<td data-v="{escape(str(v))}">{escape(t)}</td>' if v is not None else f"<td>{escape(t)}</td>"
            for t, v in row) + "</tr>")
    return "".join(out) + "</tbody></table></div>"


def _findings(findings: list[dict]) -> list[str]:
    if not findings:
        return ['<p class="muted">No sanity check fired.</p>']
    return [f'<div class="finding"><b>{escape(f["check"])}</b> ({escape(f["artifact"])}): {escape(f["message"])}</div>'
            for f in findings]


def _kv(items: list[tuple[str, str]]) -> str:
    return "<ul>" + "".join(f"<li>{escape(k)}: {escape(v)}</li>" for k, v in items) + "</ul>"


def _figure(markup: str) -> str:
    return f"<figure>{markup}</figure>"


def convert_html(summary: ConvertSummary, reports: dict[tuple[str, str], ConvertReport]) -> str:
    """``reports`` maps (target, precision) to each artifact's report (for its latency samples)."""
    rows = summary.artifacts
    body = [_kv([("source", f"{summary.source['kind']} (sha256 {summary.source['sha256'][:16]}…)"),
                 ("recipe", summary.recipe), ("evaluated on", summary.evaluated_on),
                 *((f"fp32 reference {k}", f"{v:.4f}" if isinstance(v, float) else str(v))
                   for k, v in summary.reference_metrics.items()),
                 *((f"baseline {k}", f"{v:.4f}") for k, v in summary.baseline.items()),
                 ("wall time of the last run", f"{summary.wall_seconds} s")]),
            "<h2>Sanity checks</h2>", *_findings(list(summary.sanity))]
    if summary.pruning:  # report.md has had it; a pruned build's page must say what was removed
        body += ["<h2>Pruning</h2>", "<ul>" + "".join(f"<li>{escape(line)}</li>"
                                                       for line in pruning_lines(summary.pruning)) + "</ul>"]
    heads = ["target", "format", "precision", "size", "gzip", "metric [95 % CI]", "Δ vs fp32 [95 % CI]",
             "top-1 agree", "SNR dB", "p50 ms", "p90 ms", "p99 ms", "CoV", "runs/s", "load ms", "first ms",
             "model RSS MB", "built (UTC)"]
    table = []
    for r in rows:
        c = table_cells(r)
        rep = reports.get((r.target, r.precision))
        lat, cold, mem = (rep.latency, rep.cold_start, rep.memory) if rep else ({}, {}, {})
        table.append([(c["target"], None), (c["format"], None), (c["precision"], None),
                      (c["size"], r.size_bytes), (c["gzip"], r.gzip_bytes), (c["metric"], r.value),
                      (c["delta"], r.delta_points if r.delta_points is not None else r.delta_percent),
                      (c["agree"], None), (c["snr"], None), (c["p50"], r.latency_median_ms),
                      (c["p90"], r.latency_p90_ms), (c["p99"], r.latency_p99_ms),
                      (_num(r.latency_cov, ".2f"), None), (_num(lat.get("throughput_per_s"), ".0f"), None),
                      (_num(cold.get("load_ms"), ".1f"), None), (_num(cold.get("first_inference_ms"), ".2f"), None),
                      (_num(mem.get("model_rss_increase_mb"), ".1f"), None), (c["built"], r.built_at)])
    # a failed cell is a row too (its reason is under "Failed in the last run")
    table += [[(f.target, None), (f.format, None), (f.precision, None), ("-", None), ("-", None), ("FAILED", None),
               *(("-", None) for _ in heads[6:])] for f in summary.failed]
    body += ["<h2>Artifacts (host CPU, each with its device's runtime)</h2>", _table(heads, table),
             '<p class="muted">Every verified artifact in this directory, whichever run built it. Click a column to '
             "sort. Proportions carry 95 % Wilson intervals; the Δ interval is Newcombe's (conservative). Latency: "
             "warm-up until stable, then at least 50 runs and 1 s.</p>"]
    if summary.failed:
        body += ["<h2>Failed in the last run</h2>",
                 *(f'<div class="finding"><b>{escape(f.name)}</b> ({escape(f.format)}): {escape(f.error)}</div>'
                   for f in summary.failed)]
    explained = [r for r in rows if r.layers]
    if explained:
        body += ["<h2>Where quantization loses accuracy (per layer)</h2>",
                 '<p class="muted">Accumulated SNR vs the fp32 artifact of the same format on 16 held-out samples, '
                 "and the SNR of the error each layer adds; <code>edgekit explain</code> prints every layer.</p>",
                 *(f'<div class="finding">{escape(line)}</div>' for r in explained for line in layer_lines(r.name, r.layers))]
    if summary.not_listed:
        body += ["<h2>On disk but not listed</h2>",
                 "<ul>" + "".join(f"<li>{escape(n)}</li>" for n in summary.not_listed) + "</ul>"]
    dists = [(r.name, reports[(r.target, r.precision)].latency["samples_ms"]) for r in rows
             if (r.target, r.precision) in reports and reports[(r.target, r.precision)].latency.get("samples_ms")]
    if dists:
        body += ["<h2>Latency distributions</h2>",
                 _figure(svg.boxes(dists, title="host latency per run", x_label="ms (box p25-p75, whiskers p1-p99)"))]
    points = [r for r in rows if r.value is not None]
    if points:
        series: dict[str, list[dict]] = {}
        for r in points:
            series.setdefault(r.runtime or r.format, []).append(
                {"x": r.latency_median_ms, "y": r.value, "size": r.size_bytes, "label": r.name})
        name = summary.metric.name if summary.metric else ""
        proportion = summary.metric is not None and summary.metric.is_proportion
        body += ["<h2>Accuracy vs latency vs size</h2>",
                 _figure(svg.scatter(series, title=f"{name} vs host p50 latency", x_label="host p50 latency (ms)",
                                     y_label=name, size_label="artifact size", connect=False,
                                     y_max=1.0 if proportion else None))]
    if summary.notes:
        body += ["<h2>Known limits</h2>", "<ul>" + "".join(f"<li>{escape(n)}</li>" for n in summary.notes) + "</ul>"]
    return _page(f"edgekit convert: {summary.model}", body)


def _num(v, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def device_html(r: DeviceProfile) -> str:
    dev, lat, cold, mem = r.device, r.latency, r.cold_start, r.memory
    name = dev.get("address", dev["node"])
    body = [_kv([("device", f"{name}: {dev['system']} {dev['machine']}, Python {dev['python']}"),
                 ("app", f"{r.app} ({r.model}, {r.target} {r.precision}, {r.runtime})"),
                 ("release", r.release), ("runtime options", str(r.runtime_options))]),
            "<h2>Sanity checks</h2>", *_findings(list(r.sanity))]
    heads = ["app", "load ms", "first ms", "p50 ms", "p90 ms", "p99 ms", "mean ms", "std ms", "CoV", "runs",
             "runs/s", "peak RSS MB", "model RSS MB", "size"]
    body += ["<h2>Latency and memory on the device</h2>", _table(heads, [[
        (r.app, None), (f"{cold['load_ms']:.1f}", None), (f"{cold['first_inference_ms']:.2f}", None),
        (f"{lat['median_ms']:.3f}", None), (f"{lat['p90_ms']:.3f}", None), (f"{lat['p99_ms']:.3f}", None),
        (f"{lat['mean_ms']:.3f}", None), (f"{lat['std_ms']:.3f}", None), (f"{lat['cov']:.2f}", None),
        (str(lat["runs"]), None), (_num(lat.get("throughput_per_s"), ".0f"), None),
        (f"{mem['peak_rss_mb']:.0f}", None), (_num(mem.get("model_rss_increase_mb"), ".1f"), None),
        (f"{r.artifact_bytes / 1024:.0f} KiB", r.artifact_bytes)]])]
    acc = r.accuracy
    metric_rows = [[(k, None), (_num(v, ".4f") if isinstance(v, float) else str(v), None),
                    (_num(w, ".4f") if isinstance(w := r.workstation_metrics.get(k), float) else str(w), None),
                    (_num(f, ".4f") if isinstance(f := r.reference_metrics.get(k), float) else str(f), None)]
                   for k, v in r.metrics.items()]
    body += ["<h2>Accuracy</h2>", _table(["metric", "device", "workstation (same artifact)", "fp32 Keras"], metric_rows)
             if metric_rows else '<p class="muted">Not evaluated.</p>']
    if acc and acc.get("drop_ci95"):
        body.append(f"<p>{escape(acc['metric'])} {acc['value']:.4f}, 95 % CI [{acc['ci95'][0]:.3f}, "
                    f"{acc['ci95'][1]:.3f}] on {acc['n_evaluated']} samples; drop vs fp32 {acc['drop']:+.2f} pt, "
                    f"95 % CI [{acc['drop_ci95'][0]:+.1f}, {acc['drop_ci95'][1]:+.1f}] pt.</p>")
    pipe = r.pipeline
    if pipe:
        body += ["<h2>Pipeline stages (the app's demo)</h2>", _table(["stage", "ms per demo run", "calls", "share"], [
            [(k, None), (f"{v['ms_per_run']:.2f}", None), (str(v["calls_per_run"] or "-"), None),
             (f"{v['share']:.0%}", v["share"])] for k, v in pipe["stages"].items()]),
            f'<p class="muted">End to end {pipe["end_to_end_ms"]:.1f} ms per demo run (mean of {pipe["repeats"]}).</p>']
    body += ["<h2>Latency distribution</h2>",
             _figure(svg.boxes([(f"{r.app} {r.precision}", lat["samples_ms"])], title="latency per run",
                               x_label="ms (box p25-p75, whiskers p1-p99)"))]
    body += ["<h2>Device state over time</h2>", *_device_state(r)]
    return _page(f"edgekit profile: {r.app} on {name}", body)


def _device_state(r: DeviceProfile) -> list[str]:
    state, soak, out = r.device_state, r.soak, []
    samples = state["samples"]
    temps: dict[str, list[tuple[float, float]]] = {}
    for s in samples:
        for zone, c in s["temp_c"].items():
            temps.setdefault(zone, []).append((s["t"], c))
    freq = [(s["t"], min(s["cpu_mhz"])) for s in samples if s["cpu_mhz"]]
    if temps:
        out.append(_figure(svg.lines(temps, title="temperature", x_label="s", y_label="°C")))
    if freq:
        out.append(_figure(svg.lines({"slowest core": freq}, title="CPU frequency", x_label="s", y_label="MHz")))
    if not temps and not freq:
        out.append(f'<p class="muted">This device exposes no temperature or CPU-frequency sensors '
                   f"({len(samples)} samples taken every {state['interval_s']} s found none).</p>")
    out.append(f"<p>{'THROTTLED: ' + escape('; '.join(state['throttle_reasons'])) if state['throttled'] else 'No throttling seen.'}</p>")
    if soak:
        series = {"median": [(w["t"], w["median_ms"]) for w in soak["windows"]],
                  "p99": [(w["t"], w["p99_ms"]) for w in soak["windows"]]}
        out.append(_figure(svg.lines(series, title=f"latency under sustained load ({soak['seconds']:.0f} s)",
                                     x_label="s", y_label="ms")))
    return out
