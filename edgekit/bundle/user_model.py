"""`edgekit package MODEL` for a user's model: its verified artifact with the generic app (apps/generic) and real
samples the user gives, plus the workstation's outputs of the same artifact on them, so the device can be checked
against the workstation (edgekit.agent.generic)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from edgekit.errors import UsageError

GENERIC_APP = "generic"
EVAL_SAMPLES = 200  # packed for --evaluate (the first ones of --samples): enough to see a device computing wrongly
DEMO_SAMPLES = 8


def model_build_dir(model: str, build_dir: Path, apps: list[str] = ()) -> Path:
    """``build/<model>`` of a user's model: the directory itself when MODEL is one `edgekit convert` wrote, else
    the build of the source file or SavedModel MODEL names (by its name, as convert keys it)."""
    from edgekit.converters.common.source import name_of_spec

    path = Path(model)
    if path.is_dir() and any((d / p / "report.json").is_file() for d in path.iterdir() if d.is_dir()
                             for p in ("fp32", "fp16", "int16", "int8")):
        return path
    if not path.exists():
        from edgekit.errors import did_you_mean

        raise UsageError(f"'{model}' is neither an app, a model file nor a model's build directory."
                         f"{did_you_mean(model, [a for a in apps if a != GENERIC_APP])}", got=model,
                         tip=f"Apps: {', '.join(a for a in apps if a != GENERIC_APP)}; or the model you converted "
                         "(e.g. my_model.keras) or its build directory (build/my_model).")
    return Path(build_dir) / name_of_spec(model)


def package_model(model: str, target, precision: str, *, build_dir: Path, out_dir: Path, apps_dir: Path,
                  samples: str | None, wheels: dict[str, bytes] | None = None, progress=lambda msg: None,
                  allow_degraded: bool = False) -> Path:
    from edgekit.bundle.package import _check_not_degraded, npz_bytes, write_bundle
    from edgekit.formats import FORMATS

    precision = target.check_precision(precision)
    from edgekit.bundle.package import list_apps

    model_dir = model_build_dir(model, build_dir, list_apps(apps_dir))
    built = model_dir / target.name / precision
    artifact = built / FORMATS[target.format].artifact
    if not artifact.is_file() or not (built / "report.json").is_file():
        raise UsageError(f"No verified {target.name} {precision} artifact of '{model_dir.name}' to package.",
                         got=f"nothing at {built}",
                         tip=f"Convert it first: edgekit convert {model} --target {target.name} --precision "
                         f"{precision} --calib calib.npz --eval eval.npz --out {model_dir.parent}")
    if samples is None:
        raise UsageError("A user's model is packaged with real samples for --demo and --evaluate.",
                         got="no --samples", tip="Pass --samples eval.npz: held-out inputs keyed by input name "
                         "(integer class labels under 'labels' add top-1 accuracy).")
    _check_not_degraded(built, allow_degraded)
    progress("running the artifact on the samples (the workstation's outputs the device is compared with)")
    eval_arrays, names = _evaluation(artifact, samples, built)
    from edgekit.agent.generic import compare, expected_outputs

    workstation = compare(expected_outputs(eval_arrays), eval_arrays)  # the same code the device runs, on the workstation's outputs
    data = {"data/eval.npz": npz_bytes(eval_arrays),
            "data/demo.npz": npz_bytes({k: eval_arrays[k][:DEMO_SAMPLES] for k in names}),
            "data/workstation.json": (json.dumps(workstation, indent=2, sort_keys=True) + "\n").encode()}
    spec = {"model": model_dir.name, "inputs": names,
            "demonstrates": f"{model_dir.name} (a user's model) on packed samples, compared with the workstation"}
    return write_bundle(model_dir.name, spec, Path(apps_dir) / GENERIC_APP, built, data, target, precision,
                        out_dir, wheels)


def _evaluation(artifact: Path, samples: str, built: Path) -> tuple[dict[str, np.ndarray], list[str]]:
    """The first EVAL_SAMPLES samples, the artifact's outputs on them (with the target's runtime, here), the
    primary output's name and the labels."""
    from edgekit.agent.generic import EXPECTED, LABELS, PRIMARY
    from edgekit.converters.common import data as data_mod
    from edgekit.runtime import open_session

    session = open_session(artifact)
    given = data_mod.by_input_name(data_mod.load_data(samples, "samples"), session.inputs)
    n = data_mod.check_inputs({k: v for k, v in given.items() if k != data_mod.LABELS_KEY}, session.inputs, "samples")
    take = min(n, EVAL_SAMPLES)
    names = [t.name for t in session.inputs]
    inputs = {k: np.asarray(given[k][:take]) for k in names}
    outputs = session.predict(inputs)
    meta = json.loads((built / "metadata.json").read_text(encoding="utf-8"))
    # the source's first output, as convert judged it (metadata lists the outputs in the source's order)
    primary = next((o for o in meta.get("outputs", ()) if o in outputs), sorted(outputs)[0])
    arrays = {**inputs, **{f"{EXPECTED}{k}": np.asarray(v) for k, v in outputs.items()},
              PRIMARY: np.array(primary)}
    if data_mod.LABELS_KEY in given:
        arrays[LABELS] = data_mod.class_labels(given[data_mod.LABELS_KEY], n)[:take]
    return arrays, names
