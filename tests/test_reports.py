"""Reports: the versioned schema, report.html in a real browser, `edgekit report` diffs, sanity checks."""

from __future__ import annotations

import copy
import json
import time

import numpy as np
import pytest

from edgekit.errors import EdgekitError, InputFileError
from edgekit.reporting import schema
from edgekit.reporting.metric import Metric
from edgekit.reporting.records import SummaryRow
from edgekit.reporting.sanity import convert_checks, int8_speed_checks
from tests.browser import CHROMIUM, render
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def run(tmp_path_factory, user_model):
    """A real convert run of the user's digits CNN: LiteRT fp32 + int8 and ONNX int8."""
    from edgekit.converters.common.pipeline import convert, plan_jobs
    from edgekit.targets import load_target

    out = tmp_path_factory.mktemp("reports")
    jobs = (plan_jobs([load_target("raspberry-pi-5")], None, every=True)
            + plan_jobs([load_target("jetson-orin-nano")], "int8", every=False))
    jobs = [j for j in jobs if j.precision in ("fp32", "int8")]
    summary = convert(str(user_model["keras"]), jobs, out, calib_path=str(user_model["calib"]),
                      eval_path=str(user_model["eval"]))
    return out / "digits", summary.to_json()  # the summary as summary.json holds it


def test_every_report_kind_validates(run):
    model_dir, summary = run
    docs = [summary, *(json.loads(p.read_text()) for p in model_dir.glob("*/*/report.json"))]
    assert len(docs) == 4 and {schema.kind_of(d) for d in docs} == {"convert-summary", "convert-report"}
    for doc in docs:
        assert schema.errors(doc) == []
    report = json.loads(next(model_dir.glob("raspberry-pi-5/int8/report.json")).read_text())
    lat = report["latency"]
    assert lat["runs"] >= 50 and lat["timed_seconds"] >= 0.9  # a minimum count AND a minimum time
    assert len(lat["samples_ms"]) == -(-lat["runs"] // lat["samples_stride"]) and min(lat["samples_ms"]) >= lat["min_ms"]
    assert report["memory"]["model_rss_increase_mb"] is not None


def test_schema_names_what_is_wrong(run):
    _, summary = run
    broken = copy.deepcopy(summary)
    del broken["artifacts"][0]["latency_p99_ms"]
    broken["undocumented"] = 1
    broken["artifacts"][1]["size_bytes"] = "big"
    errors = schema.errors(broken)
    assert any(e.startswith("artifacts/0:") and "latency_p99_ms" in e for e in errors), errors
    assert any("undocumented" in e for e in errors) and any(e.startswith("artifacts/1/size_bytes:") for e in errors)
    with pytest.raises(InputFileError, match="Not an edgekit report") as exc:
        schema.kind_of({"schema": "something/9"}, "x.json")
    assert "'something/9' in x.json" in str(exc.value.render())


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
def test_report_html_renders_in_chromium(run, tmp_path):
    model_dir, summary = run
    page = model_dir / "report.html"
    html = page.read_text()
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in html
    dom, console = render(page, tmp_path / "profile")
    assert console == [], console
    assert f'data-rendered="{len(summary["artifacts"])}"' in dom  # the script ran to its end over every row
    assert dom.count("<svg") == 2 and "Latency distributions" in dom and "Accuracy vs latency vs size" in dom
    for r in summary["artifacts"]:
        assert f"<td>{r['target']}</td>" in dom
    # the check itself can fail: a page whose script throws is caught
    broken = tmp_path / "broken.html"
    broken.write_text(html.replace("<script>", "<script>undefinedFunction();", 1))
    dom, console = render(broken, tmp_path / "profile2")
    assert any("undefinedFunction" in c for c in console) and "data-rendered" not in dom


def test_report_diff_flags_regressions(run, tmp_path):
    model_dir, summary = run
    head = copy.deepcopy(summary)
    slow = head["artifacts"][0]
    slow["latency_median_ms"] *= 1.5
    worse = head["artifacts"][1]
    worse["value"] = round(worse["value"] - 0.08, 4)  # 8 points on ~400 held-out digits: beyond noise
    (tmp_path / "head.json").write_text(json.dumps(head))
    r = run_cli("report", str(model_dir), str(tmp_path / "head.json"), "--fail-on-regression")
    assert r.returncode == 6, r.stdout + r.stderr
    name = f"{slow['target']} {slow['precision']}"
    assert f"REGRESSION {name}: p50" in r.stdout and "+50.0 %" in r.stdout
    assert f"REGRESSION {worse['target']} {worse['precision']}: top1" in r.stdout
    assert "ERROR: 2 regression(s)" in r.stderr
    r = run_cli("report", str(model_dir), str(model_dir / "summary.json"), "--json")
    diff = json.loads(r.stdout)
    assert r.returncode == 0 and diff["regressions"] == [] and schema.errors(diff) == []
    assert all(row["p50_percent"] == 0 and row["metric_worse"] == 0 for row in diff["rows"])
    r = run_cli("report", str(model_dir), str(next(model_dir.glob("*/int8/report.json"))))
    assert r.returncode == 2 and "different kinds" in r.stderr and "convert-summary vs convert-report" in r.stderr
    (tmp_path / "junk.json").write_text("{}")
    r = run_cli("report", str(tmp_path / "junk.json"), str(model_dir))
    assert r.returncode != 0 and "Not an edgekit report" in r.stderr and "Traceback" not in r.stderr



def _broken(doc: dict, how: str) -> str:
    doc = copy.deepcopy(doc)
    if how == "no artifacts key":
        del doc["artifacts"]
    elif how == "mistyped latency":
        doc["artifacts"][0]["latency_median_ms"] = "fast"
    elif how == "NaN":
        return json.dumps(doc).replace(json.dumps(doc["artifacts"][0]["value"]), "NaN", 1)
    elif how == "Infinity":
        return json.dumps(doc).replace(json.dumps(doc["artifacts"][0]["latency_median_ms"]), "Infinity", 1)
    return json.dumps(doc)


@pytest.mark.parametrize("how, message", [
    ("no artifacts key", "does not match its schema (edgekit.convert-summary/1), so it is not compared"),
    ("mistyped latency", "artifacts/0/latency_median_ms: 'fast' is not of type 'number'"),
    ("NaN", "NaN is not a number a report can hold"),
    ("Infinity", "Infinity is not a number a report can hold"),
])
def test_a_damaged_report_is_refused_by_its_schema(run, tmp_path, how, message):
    """A valid tag with missing or mistyped fields once ended in `unexpected KeyError`; NaN read as "worse by inf"."""
    model_dir, summary = run
    # not *.json: the session's own schema check (conftest) would flag it
    (tmp_path / "head.damaged").write_text(_broken(summary, how))
    r = run_cli("report", str(model_dir), str(tmp_path / "head.damaged"), "--fail-on-regression")
    assert r.returncode == 2 and message in r.stderr and "TIP: " in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and "unexpected" not in r.stderr


def test_a_head_missing_artifacts_is_a_regression(run, tmp_path):
    """A head run that built nothing passed --fail-on-regression: every artifact it lacks is a regression."""
    model_dir, summary = run
    head = {**copy.deepcopy(summary), "artifacts": []}
    (tmp_path / "head.json").write_text(json.dumps(head))
    r = run_cli("report", str(model_dir), str(tmp_path / "head.json"), "--fail-on-regression")
    assert r.returncode == 6 and f"ERROR: {len(summary['artifacts'])} regression(s)" in r.stderr, r.stdout + r.stderr
    first = summary["artifacts"][0]
    assert f"REGRESSION {first['target']} {first['precision']}: in the base, missing from the head" in r.stdout
    # an artifact only the head has is new, not a regression
    r = run_cli("report", str(tmp_path / "head.json"), str(model_dir), "--fail-on-regression")
    assert r.returncode == 0 and "no regressions" in r.stdout, r.stdout + r.stderr


TOP1 = Metric("top1")


def _row(target, precision, p50, **kw):
    fields = dict(target=target, precision=precision, format="onnx", runtime="onnxruntime", path="x", size_bytes=1,
                  gzip_bytes=1, metric="top1", value=0.9, unit="proportion", delta_points=None, delta_percent=None,
                  ci95=None, drop_ci95=[-1.0, 1.0], n_evaluated=2000, top1_agreement=1.0, snr_db_min=40.0,
                  latency_median_ms=p50, latency_p90_ms=p50, latency_p99_ms=p50 * 2, latency_cov=0.1,
                  float_fallback=None)
    return SummaryRow(**{**fields, **kw})


def test_sanity_checks_explain_what_they_saw():
    rows = [_row("jetson-orin-nano", "fp32", 1.0), _row("jetson-orin-nano", "fp16", 1.1),
            _row("jetson-orin-nano", "int8", 2.0), _row("raspberry-pi-5", "fp32", 1.0),
            _row("raspberry-pi-5", "int8", 0.5)]
    slow = int8_speed_checks(rows)
    assert [f["artifact"] for f in slow] == ["jetson-orin-nano int8"]
    assert "2.00x slower than fp32 on onnxruntime" in slow[0]["message"]
    found = convert_checks(rows, {"jetson-orin-nano int8": {"samples": 30, "origin": "x", "sha256": "y"}}, TOP1)
    assert {f["check"] for f in found} == {"int8-slower", "small-calibration"}
    assert "calibrated on 30 samples" in next(f for f in found if f["check"] == "small-calibration")["message"]
    few = convert_checks([_row("raspberry-pi-5", "int8", 1.0, n_evaluated=60)], {}, TOP1)
    assert few[0]["check"] == "few-eval-samples" and "only 60 samples" in few[0]["message"]
    wide = convert_checks([_row("raspberry-pi-5", "int8", 1.0, n_evaluated=160, drop_ci95=[-3.3, 3.3])], {}, TOP1)
    assert "±3.3 points" in wide[0]["message"]
    noisy = convert_checks([_row("raspberry-pi-5", "int8", 1.0, latency_cov=0.6)], {}, TOP1)
    assert noisy[0]["check"] == "high-cov" and "CoV 0.60" in noisy[0]["message"]
    assert convert_checks([_row("raspberry-pi-5", "int8", 1.0, metric=None, value=None)], {}, None)[0]["check"] == \
        "no-heldout-metric"


def test_a_drop_interval_is_printed_as_the_table_prints_it_and_a_real_drop_is_named():
    # a functional ResNet on MNIST, OpenVINO int8, measured: 0.829 -> 0.792, change -3.70 pt [-7.1, -0.3]
    row = _row("intel-core-ultra-npu", "int8", 1.0, value=0.792, delta_points=-3.7, drop_ci95=[0.3, 7.1],
               n_evaluated=1000)
    found = {f["check"]: f["message"] for f in convert_checks([row], {}, TOP1)}
    assert "[-7.1, -0.3] pt" in found["few-eval-samples"]  # the table's sign, not the drop's
    assert "3.70 points worse than fp32" in found["significant-drop"] and "excludes 0" in found["significant-drop"]
    noise = _row("intel-core-ultra-npu", "int8", 1.0, delta_points=-0.2, drop_ci95=[-2.3, 2.7])
    assert "significant-drop" not in {f["check"] for f in convert_checks([noise], {}, TOP1)}


def test_fidelity_names_the_worst_output_and_nan_is_never_perfect():
    from edgekit.converters.common.verify import agreement
    from edgekit.reporting.fidelity import Fidelity, degradation

    rng = np.random.default_rng(0)
    ref = {"boxes": rng.normal(size=(50, 4)).astype(np.float32), "scores": rng.normal(size=(50, 10)).astype(np.float32)}
    close = {k: v + 0.01 * rng.normal(size=v.shape).astype(np.float32) for k, v in ref.items()}
    far = {"boxes": ref["boxes"] + 0.6 * rng.normal(size=(50, 4)).astype(np.float32), "scores": close["scores"]}
    nan = {"boxes": np.full((50, 4), np.nan, np.float32), "scores": close["scores"]}
    f = Fidelity()
    assert degradation(f, agreement(ref, close, "scores"), True, None, None, None, None) == []
    why = degradation(f, agreement(ref, far, "scores"), True, None, None, None, None)
    assert why[0].startswith("output 'boxes' SNR ") and "< 10 dB" in why[0]
    a = agreement(ref, nan, "scores")
    assert a["snr_db"]["boxes"] == -120.0 and a["cosine_min"]["boxes"] == -1.0 and a["nonfinite"] == {"boxes": 200}
    assert degradation(f, a, True, None, None, None, None)[0] == "output 'boxes' has 200 NaN/Inf values"
    # a labelled drop is degraded only when it is real (interval excludes 0) and over the budget
    assert degradation(f, agreement(ref, close, "scores"), True, TOP1, 0.90, 0.95, [2.0, 8.0])
    assert not degradation(f, agreement(ref, close, "scores"), True, TOP1, 0.90, 0.95, [-1.0, 11.0])
    rmse = Metric("rmse", "p.u.", higher_is_better=False)
    assert "is 160.0 % worse" in degradation(f, agreement(ref, close, "scores"), False, rmse, 2.6, 1.0, None)[0]
    with pytest.raises(EdgekitError, match="Unknown fidelity threshold 'min_snr'. Did you mean 'min_snr_db'"):
        f.overridden({"min_snr": 3})


def test_soak_shows_latency_climbing():
    from edgekit.profiling.latency import measure_soak

    started = time.perf_counter()

    def run(_feed):  # a device that slows down as it heats: each call takes longer than the last second's
        time.sleep(0.001 * (1 + 2 * (time.perf_counter() - started)))

    soak = measure_soak(run, [{}], seconds=1.5, window=0.5)
    assert len(soak["windows"]) == 3 and soak["last_vs_first_median"] > 1.5
    assert soak["windows"][0]["median_ms"] < soak["windows"][-1]["median_ms"]


def _svg_texts(markup: str):
    import xml.etree.ElementTree as ET

    root = ET.fromstring(markup)
    ns = "{http://www.w3.org/2000/svg}"
    return root, [(float(t.get("x")), t.get("text-anchor", "start"), t.text or "") for t in root.iter(f"{ns}text")]


def test_charts_keep_sane_axes_and_say_which_artifact_each_mark_is():
    """What a reader saw in report.html: 12 unlabelled points, a proportion axis running to 1.086, latency from
    -0.08 ms, sub-ms boxes squashed by a 42 ms outlier, a label clipped at the right edge."""
    from edgekit.reporting import svg

    names = [f"{t} {p}" for t in ("intel-core-ultra-npu", "jetson-orin-nano", "raspberry-pi-4", "raspberry-pi-5")
             for p in ("fp16", "fp32", "int8")]
    points = [{"x": 0.05 + 0.25 * i, "y": 0.95 + 0.004 * i, "size": 1000 + i, "label": n} for i, n in enumerate(names)]
    root, texts = _svg_texts(svg.scatter({"litert": points}, title="t", x_label="host p50 latency (ms)",
                                         y_label="top1", connect=False, y_max=1.0))
    width = float(root.get("width"))
    ticks = [float(t) for x, a, t in texts if a == "end" and t.replace(".", "").isdigit()]
    assert max(ticks) <= 1.0, ticks  # a proportion's axis stops at 1
    key = [t for _, _, t in texts if t.split("  ")[-1] in names]
    assert key == [f"{i}  {n}" for i, n in enumerate(names, 1)], key  # every point numbered, with its key
    x_ticks = [float(t) for x, a, t in texts if a == "middle" and t.replace(".", "").replace("-", "").isdigit()]
    assert min(x_ticks) >= 0, x_ticks  # no negative latency
    for x, anchor, t in texts:  # nothing runs past the right edge
        assert anchor != "start" or x + svg.CHAR_W * len(t) <= width + 1, (x, t, width)
    # one artifact far right: its label turns left instead of leaving the frame
    _, texts = _svg_texts(svg.scatter({"s": [{"x": 1.0, "y": 0.5, "label": "unpruned"},
                                             {"x": 9.0, "y": 0.6, "label": "0.75 (4096 KiB)"}]},
                                      title="t", x_label="ms", y_label="top1", y_max=1.0))
    assert (next(a for _, a, t in texts if t == "0.75 (4096 KiB)")) == "end"
    # latency runs of 0.1-0.3 ms beside a 42 ms one: a log axis, said on the axis label
    rng = np.random.default_rng(0)
    rows = [("fast int8", list(rng.uniform(0.1, 0.3, 200))), ("slow fp32", [*rng.uniform(0.2, 0.4, 199), 42.0])]
    _, texts = _svg_texts(svg.boxes(rows, title="t", x_label="ms"))
    assert any(t == "ms (log scale)" for _, _, t in texts), texts
    _, texts = _svg_texts(svg.boxes([("a", [1.0, 1.2, 1.1]), ("b", [2.0, 2.1, 1.9])], title="t", x_label="ms"))
    assert any(t == "ms" for _, _, t in texts)  # a narrow spread stays linear
