"""`edgekit package`: app + artifact + sample/evaluation data + edgekit's device layer -> one bundle.

Bundle layout (``dist/<app>-<target>-<precision>.tar.gz``)::

    manifest.json          app, model, target, runtime, precision, entry point, requirements, sha256 of every file
    app/                   the app (apps/<name>/: app.py, app.toml)
    model/                 the verified artifact with its metadata.json and report.json from `edgekit convert`
    data/demo.npz          sample inputs for --demo
    data/eval.npz          the held-out set for --evaluate (the zoo model's own split)
    lib/edgekit/           edgekit's device side: the agent, the target's runtime session, and every edgekit module
                           they and the app import (e.g. the zoo model's task module): numpy + one runtime
    wheels/                with --with-wheels: the wheels the device installs offline

Packaging twice gives byte-identical bundles (sorted entries, fixed times and owners, deterministic .npz).
"""

from __future__ import annotations

import ast
import importlib.util
import io
import tomllib
import zipfile
from pathlib import Path

import numpy as np

import edgekit
from edgekit.bundle._tar import write_deterministic
from edgekit.bundle.manifest import MANIFEST, SCHEMA, manifest_bytes, sha256_bytes
from edgekit.errors import InputFileError, UsageError, did_you_mean

APP_KEYS = {"name", "model", "inputs", "demonstrates"}
OPTIONAL_APP_KEYS = {"requirements"}  # extra packages the app needs on the device (e.g. gymnasium)
# What a device runs besides the app: the agent's commands (verify, activate, status, profile) and the app
# harness. The bundle carries these, the target runtime's session module and everything they import from edgekit,
# found by reading their import statements; nothing else (CLI, converters, Keras model code) is shipped.
AGENT_MODULES = ("edgekit.agent.__main__", "edgekit.agent.app", "edgekit.agent.profile", "edgekit.agent.releases")


def default_apps_dir() -> Path:
    """The apps shipped with edgekit (package data of edgekit.apps, so a wheel install has them too)."""
    from importlib import resources

    return Path(str(resources.files("edgekit.apps")))


def list_apps(apps_dir: Path) -> list[str]:
    return sorted(p.name for p in Path(apps_dir).iterdir() if (p / "app.toml").is_file()) if Path(apps_dir).is_dir() else []


def load_app(name: str, apps_dir: Path) -> dict:
    apps = list_apps(apps_dir)
    if name not in apps:
        raise UsageError(f"No app named '{name}'.{did_you_mean(name, apps)}", got=f"{name} in {apps_dir}",
                         tip=f"Apps: {', '.join(apps) or 'none found'}.")
    path = Path(apps_dir) / name / "app.toml"
    spec = tomllib.loads(path.read_text(encoding="utf-8"))
    if not APP_KEYS <= set(spec) <= APP_KEYS | OPTIONAL_APP_KEYS or not (Path(apps_dir) / name / "app.py").is_file():
        raise InputFileError("The app's manifest is incomplete.", got=f"{path}: keys {sorted(spec)}",
                             tip=f"app.toml needs exactly: {', '.join(sorted(APP_KEYS))}; the app needs app.py.")
    return spec


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz whose bytes depend only on the arrays (numpy.savez stamps the current time)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            arr = io.BytesIO()
            np.lib.format.write_array(arr, np.ascontiguousarray(arrays[key]), allow_pickle=False)
            zf.writestr(info, arr.getvalue())
    return buf.getvalue()


def _imports(source: bytes) -> list[str]:
    """Every absolute import of an edgekit module in ``source``, including ``from pkg import name`` candidates
    (a name may be a module or an attribute; only modules are kept later)."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names += [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
    return [n for n in names if n == "edgekit" or n.startswith("edgekit.")]


def _module_file(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ModuleNotFoundError, ValueError):  # an attribute of a module, not a module
        return None
    return Path(spec.origin) if spec and spec.origin and spec.origin.endswith(".py") else None


def lib_files(roots: list[str], app_source: bytes = b"") -> dict[str, bytes]:
    """The edgekit modules named in ``roots`` and imported by ``app_source``, followed through their imports
    (and their parent packages), as ``lib/edgekit/...`` files."""
    todo, found = [*roots, *_imports(app_source)], {}
    while todo:
        name = todo.pop()
        if name in found or (path := _module_file(name)) is None:
            continue
        found[name] = path
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        todo += _imports(path.read_bytes())
    return {"lib/" + name.replace(".", "/") + ("/__init__.py" if path.name == "__init__.py" else ".py"): path.read_bytes()
            for name, path in sorted(found.items())}


def _requires_python() -> str:
    """The Python versions edgekit's device code is written for: pyproject's requires-python, one place."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        return metadata("edgekit")["Requires-Python"] or ""
    except PackageNotFoundError:  # running from a source tree that was never installed
        return ""


def _check_not_degraded(built: Path, allow: bool) -> None:
    import json

    from edgekit.reporting.fidelity import DegradedArtifacts

    why = (json.loads((built / "report.json").read_text(encoding="utf-8")).get("fidelity") or {}).get("degraded")
    if why and not allow:
        raise DegradedArtifacts(f"The artifact is degraded vs fp32 on held-out data: {'; '.join(why)}.",
                                got=str(built), tip="Nothing was packaged. Package another precision, convert again with "
                                "better calibration data, or pass --allow-degraded to ship it anyway.")


def _check_source(built: Path, zoo) -> None:
    """The artifact was built from the zoo model the app demonstrates (its weights), not from another model that
    was written to the same directory."""
    import json

    source = json.loads((built / "metadata.json").read_text(encoding="utf-8")).get("source") or {}
    if source.get("kind") != "zoo" or source.get("sha256") != zoo.weights_sha256():
        got = source.get("path") or f"a {source.get('kind')} source"
        raise InputFileError(f"The artifact in {built} was not built from the zoo's {zoo.name}, so the app is not "
                             "packaged with it.", got=f"source {got} (sha256 {str(source.get('sha256'))[:12]})",
                             tip=f"Convert the zoo model again (`edgekit convert {zoo.name} --target ...`), or "
                             "package your own model by its path: `edgekit package my_model.keras --target ...`.")


def bundle_name(app: str, target: str, precision: str) -> str:
    return f"{app}-{target}-{precision}.tar.gz"


def package(app_name: str, target, precision: str, *, build_dir: Path, out_dir: Path, apps_dir: Path,
            wheels: dict[str, bytes] | None = None, progress=lambda msg: None, allow_degraded: bool = False) -> Path:
    """Write the bundle; ``target`` is a Target. Converts the model first if its artifact is not built yet; an
    artifact marked degraded vs fp32 is refused unless ``allow_degraded``."""
    from edgekit.formats import FORMATS
    from edgekit.zoo import ZOO

    spec = load_app(app_name, apps_dir)
    if not spec["model"]:  # the generic app: what it ships is a user's model
        raise UsageError(f"The '{app_name}' app packages a user's model, named instead of the app.",
                         got=f"edgekit package {app_name}",
                         tip="edgekit package path/to/model.keras --target T --samples eval.npz (after `edgekit "
                         "convert` of that model for T).")
    precision = target.check_precision(precision)
    fmt = FORMATS[target.format]
    built = Path(build_dir) / spec["model"] / target.name / precision
    if not (built / fmt.artifact).is_file() or not (built / "report.json").is_file():
        from edgekit.converters.common.pipeline import Job, convert

        progress(f"{spec['model']} has no verified {target.name} {precision} artifact yet: converting")
        summary = convert(spec["model"], [Job(target, precision)], Path(build_dir), progress=progress)
        if summary.failed:
            from edgekit.errors import ConversionError

            raise ConversionError(f"Converting {spec['model']} for {target.name} {precision} failed: "
                                  f"{summary.failed[0].error}", tip="Nothing was packaged; see `edgekit convert`.")
    zoo = ZOO[spec["model"]]
    _check_source(built, zoo)
    _check_not_degraded(built, allow_degraded)
    progress("packing sample and evaluation data")
    data = {"data/demo.npz": npz_bytes(zoo.demo_arrays()), "data/eval.npz": npz_bytes(zoo.eval_arrays())}
    return write_bundle(app_name, spec, Path(apps_dir) / app_name, built, data, target, precision, out_dir, wheels)


def write_bundle(app_name: str, spec: dict, app_dir: Path, built: Path, data: dict[str, bytes], target,
                 precision: str, out_dir: Path, wheels: dict[str, bytes] | None) -> Path:
    """The bundle of an app (``spec``: its app.toml, with the model it ships), a verified artifact directory and
    the packed data files; the manifest lists every file's sha256."""
    from edgekit.formats import FORMATS, RUNTIMES

    fmt = FORMATS[target.format]
    files = {f"model/{p.name}": p.read_bytes() for p in sorted(built.iterdir()) if p.is_file()}
    files.update({f"app/{p.name}": p.read_bytes() for p in sorted(app_dir.iterdir())
                  if p.is_file() and p.suffix in (".py", ".toml", ".md")})
    files.update(data)
    files.update(lib_files([*AGENT_MODULES, RUNTIMES[target.runtime].session_module], files["app/app.py"]))
    files.update({f"wheels/{name}": blob for name, blob in sorted((wheels or {}).items())})
    manifest = {
        "schema": SCHEMA, "app": app_name, "model": spec["model"], "demonstrates": spec["demonstrates"],
        "inputs": spec["inputs"], "target": target.name, "runtime": target.runtime, "format": target.format,
        "precision": precision, "artifact": fmt.artifact, "edgekit_version": edgekit.__version__,
        # bundled wheels install only on the Python they were downloaded for (the target's)
        "entry_point": "app/app.py", "python": f"=={target.python}.*" if wheels else _requires_python(),
        "requirements": [*target.device_requirements, *spec.get("requirements", [])],
        # the runtime's devices / execution providers in order of preference (TensorRT > CUDA > CPU on a Jetson)
        "devices": list(target.devices),
        "extra": target.runtime, "wheels": sorted(f"wheels/{n}" for n in (wheels or {})),
        "files": {name: sha256_bytes(blob) for name, blob in sorted(files.items())},
    }
    files[MANIFEST] = manifest_bytes(manifest)
    out = Path(out_dir) / bundle_name(app_name, target.name, precision)
    write_deterministic(out, files)
    return out
