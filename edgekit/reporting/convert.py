"""A model directory's record: ``build/<model>/summary.json``, ``report.md`` and ``report.html`` list every
verified artifact under it, whichever run made it, read from what is on disk.

A run for one target therefore does not erase the rows of an earlier ``--target all``: each artifact's own
``report.json`` is the source of truth. Rows are kept only when they describe the model and data of this run (same
source sha256, verified on the same evaluation data) and their files still match the hashes recorded when they
were verified; anything else on disk is named under ``not_listed`` instead of being compared as if it were.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

from edgekit._fs import atomic_write_json, atomic_write_text, file_sha256, staged_directory
from edgekit.formats import PRECISIONS
from edgekit.reporting.records import CONVERT_REPORT, ConvertReport, ConvertSummary, SummaryRow


def _order(report: ConvertReport) -> tuple:
    return report.target, PRECISIONS.index(report.precision) if report.precision in PRECISIONS else len(PRECISIONS)


def collect_reports(model_dir: Path, source_sha256: str, evaluation_sha256: str | None
                    ) -> tuple[list[ConvertReport], list[str]]:
    """The verified artifacts under ``model_dir`` that belong to this source and evaluation data, in
    (target, precision) order; and a line for each one left out, saying why."""
    reports, left_out = [], []
    for path in sorted(Path(model_dir).glob("*/*/report.json")):
        where = f"{path.parent.parent.name} {path.parent.name}"
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            if doc.get("schema") != CONVERT_REPORT:
                raise ValueError(f"schema {doc.get('schema')!r}")
            report = ConvertReport.from_json(doc)
            files = report.metadata["files"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            left_out.append(f"{where}: unreadable report.json ({type(exc).__name__})")
            continue
        if any(not (path.parent / f).is_file() or file_sha256(path.parent / f) != sha for f, sha in files.items()):
            left_out.append(f"{where}: its files changed after they were verified")
        elif report.metadata["source"]["sha256"] != source_sha256:
            left_out.append(f"{where}: built from another version of the source "
                            f"(sha256 {report.metadata['source']['sha256'][:12]}…)")
        elif report.evaluation is None:
            left_out.append(f"{where}: made by an older edgekit that did not record its evaluation data; convert it "
                            "again to list it")
        elif report.evaluation.get("sha256") != evaluation_sha256:
            left_out.append(f"{where}: verified on other evaluation data")
        else:
            reports.append(report)
    return sorted(reports, key=_order), left_out


def lendable_reports(earlier_dir: Path, source_sha256: str, evaluation_sha256: str, recipe: str,
                     calibration_sha256: str | None) -> dict[tuple[str, str], ConvertReport]:
    """The verified artifacts under ``earlier_dir`` that a run would build unchanged, by (target, precision):
    listed for this source and evaluation data (files unchanged), the same recipe, calibrated (if at all) on the
    same data, neither pruned nor searched for float layers, and (int8) timed by the speed guard as a default run
    is, not kept as built by --no-speed-guard."""
    reports, _ = collect_reports(earlier_dir, source_sha256, evaluation_sha256)
    return {r.key: r for r in reports
            if not r.metadata.get("pruning") and not r.float_fallback and r.metadata.get("recipe") == recipe
            and (r.precision != "int8" or r.int8_speed is not None)
            and (r.metadata.get("calibration") or {}).get("sha256", calibration_sha256) == calibration_sha256}


def copy_verified(earlier_dir: Path, into: Path, target: str, precision: str) -> None:
    """Copy a verified artifact's directory (its report.json and built_at included) into another model directory,
    staged: it appears whole or not at all."""
    source = Path(earlier_dir) / target / precision
    with staged_directory(Path(into) / target / precision, lambda: forget_record(into)) as stage:
        for f in source.iterdir():
            if f.is_file():
                shutil.copyfile(f, stage / f.name)


RECORD = ("summary.json", "report.md", "report.html")


def forget_record(model_dir: Path) -> None:
    """Before an artifact in ``model_dir`` is replaced: killed after the swap, the old summary would describe an
    artifact that is gone. No summary is better than a wrong one; the run writes it again from what is on disk
    after each artifact (write_model_directory)."""
    for name in RECORD:
        (Path(model_dir) / name).unlink(missing_ok=True)


def write_model_directory(model_dir: Path, run: ConvertSummary, evaluation: dict | None) -> ConvertSummary:
    """Summarise every artifact of this source and data under ``model_dir`` (``run`` supplies the model-level
    facts of the run just made) and write summary.json, report.md and report.html; return the summary."""
    from edgekit.reporting.html import convert_html
    from edgekit.reporting.sanity import convert_checks
    from edgekit.reporting.summary import render_markdown

    model_dir = Path(model_dir)
    reports, left_out = collect_reports(model_dir, run.source["sha256"], (evaluation or {}).get("sha256"))
    rows = tuple(SummaryRow.of(r, model_dir / r.target / r.precision / r.artifact["file"]) for r in reports)
    calibration = {f"{r.target} {r.precision}": r.metadata.get("calibration") for r in reports}
    summary = dataclasses.replace(run, artifacts=rows,
                                  sanity=run.sanity + tuple(convert_checks(rows, calibration, run.metric)),
                                  not_listed=tuple(left_out))
    atomic_write_json(model_dir / "summary.json", summary.to_json())
    atomic_write_text(model_dir / "report.md", render_markdown(summary))
    atomic_write_text(model_dir / "report.html", convert_html(summary, {r.key: r for r in reports}))
    return summary
