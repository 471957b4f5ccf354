"""`edgekit package`: app + artifact + sample/evaluation data + edgekit's device layer -> one bundle.

Bundle layout (``dist/<app>-<target>-<precision>.tar.gz``)::

    manifest.json          app, model, target, runtime, precision, entry point, requirements, sha256 of every file
    app/                   the app (apps/<name>/: app.py, app.toml)
    model/                 the verified artifact with its metadata.json and report.json from `edgekit convert`
    data/demo.npz          sample inputs for --demo
    data/eval.npz          the held-out set for --evaluate (the zoo model's own split)
    lib/edgekit/           edgekit's device layer (runtime, device, bundle, zoo metric code): numpy + one runtime
    wheels/                with --with-wheels: the wheels the device installs offline

Packaging twice gives byte-identical bundles (sorted entries, fixed times and owners, deterministic .npz).
"""

from __future__ import annotations

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
# edgekit packages a device needs; every other part (CLI, converters) stays on the workstation.
LIB_PACKAGES = ("", "runtime", "device", "bundle", "profiling", "zoo")


def default_apps_dir() -> Path:
    return Path(edgekit.__file__).resolve().parents[1] / "apps"


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


def lib_files() -> dict[str, bytes]:
    root = Path(edgekit.__file__).resolve().parent
    files = {}
    for sub in LIB_PACKAGES:
        for p in sorted((root / sub).glob("*.py")):
            files[f"lib/edgekit/{sub + '/' if sub else ''}{p.name}"] = p.read_bytes()
    return files


def bundle_name(app: str, target: str, precision: str) -> str:
    return f"{app}-{target}-{precision}.tar.gz"


def package(app_name: str, target, precision: str, *, build_dir: Path, out_dir: Path, apps_dir: Path,
            wheels: dict[str, bytes] | None = None, progress=lambda msg: None) -> Path:
    """Write the bundle; ``target`` is a Target. Converts the model first if its artifact is not built yet."""
    from edgekit.formats import FORMATS
    from edgekit.zoo import ZOO

    spec = load_app(app_name, apps_dir)
    precision = target.check_precision(precision)
    fmt = FORMATS[target.format]
    built = Path(build_dir) / spec["model"] / target.name / precision
    if not (built / fmt.artifact).is_file() or not (built / "report.json").is_file():
        from edgekit.converters.common.pipeline import Job, convert

        progress(f"{spec['model']} has no verified {target.name} {precision} artifact yet: converting")
        convert(spec["model"], [Job(target, precision)], Path(build_dir), progress=progress)
    zoo = ZOO[spec["model"]]._mod()
    files = {f"model/{p.name}": p.read_bytes() for p in sorted(built.iterdir()) if p.is_file()}
    app_dir = Path(apps_dir) / app_name
    files.update({f"app/{p.name}": p.read_bytes() for p in sorted(app_dir.iterdir())
                  if p.is_file() and p.suffix in (".py", ".toml", ".md")})
    progress("packing sample and evaluation data")
    files["data/demo.npz"] = npz_bytes(zoo.demo_arrays())
    files["data/eval.npz"] = npz_bytes(zoo.eval_arrays())
    files.update(lib_files())
    files.update({f"wheels/{name}": data for name, data in sorted((wheels or {}).items())})
    manifest = {
        "schema": SCHEMA, "app": app_name, "model": spec["model"], "demonstrates": spec["demonstrates"],
        "inputs": spec["inputs"], "target": target.name, "runtime": target.runtime, "format": target.format,
        "precision": precision, "artifact": fmt.artifact, "edgekit_version": edgekit.__version__,
        "entry_point": "app/app.py", "python": ">=3.9", "requirements": [*target.device_requirements, *spec.get("requirements", [])],
        "extra": target.runtime, "wheels": sorted(f"wheels/{n}" for n in (wheels or {})),
        "files": {name: sha256_bytes(data) for name, data in sorted(files.items())},
    }
    files[MANIFEST] = manifest_bytes(manifest)
    out = Path(out_dir) / bundle_name(app_name, target.name, precision)
    write_deterministic(out, files)
    return out
