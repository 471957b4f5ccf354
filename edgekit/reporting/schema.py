"""The versioned report schema (schemas/reports-1.json, JSON Schema 2020-12): which kind a report is, and
checking a report against it. Validation needs the `jsonschema` package (the test extra), never a network."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from edgekit.errors import InputFileError

SCHEMA_FILE = Path(__file__).with_name("schemas") / "reports-1.json"
# the `schema` field of a report -> its definition in SCHEMA_FILE
KINDS = {
    "edgekit.convert-report/1": "convert-report",
    "edgekit.convert-summary/1": "convert-summary",
    "edgekit.device-profile/1": "device-profile",
    "edgekit.prune-sweep/1": "prune-sweep",
    "edgekit.report-diff/1": "report-diff",
}


@cache
def document() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def kind_of(report: dict, where: str = "the report") -> str:
    tag = report.get("schema") if isinstance(report, dict) else None
    if tag not in KINDS:
        raise InputFileError("Not an edgekit report (unknown or missing 'schema' field).", got=f"{tag!r} in {where}",
                             tip="Pass a report.json or summary.json written by edgekit convert / profile; known: "
                             + ", ".join(sorted(KINDS)))
    return KINDS[tag]


def errors(report: dict) -> list[str]:
    """Every way ``report`` departs from its schema, as 'path: message' lines (empty when valid)."""
    from edgekit._lazy import require

    jsonschema = require("jsonschema", purpose="Checking a report against edgekit's schema")
    kind = kind_of(report)
    root = document()
    schema = {"$schema": root["$schema"], "$defs": root["$defs"], "$ref": f"#/$defs/{kind}"}
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
            for e in sorted(validator.iter_errors(report), key=lambda e: list(map(str, e.absolute_path)))]
