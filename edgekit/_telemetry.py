"""The runtimes edgekit drives phone home and write identifiers into the user's HOME unless told not to: ONNX
Runtime ≥ 1.29 on Linux (a device id and an event database under ~/.cache/Microsoft/DeveloperTools/.onnxruntime)
and OpenVINO's converter and NNCF (a client id and usage counters under ~/intel). A user converting a model did not
ask for either, on the workstation or on a device, so every edgekit process turns both off before any runtime loads.
Keras likewise creates ~/.keras/keras.json on import when it is missing; a user without one gets it in edgekit's own
cache instead (KERAS_HOME), and a user with one keeps reading theirs.

A user who decided otherwise keeps their choice: ORT_DISABLE_TELEMETRY set to anything is left alone, and a consent
file written by OpenVINO's own `opt_in_out` tool (~/intel/openvino_telemetry) is left to OpenVINO to read.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def turn_off() -> None:
    home = _home()
    # ONNX Runtime reads this once, when its environment is created (onnxruntime PR #27379, "a full non-Windows
    # opt-out when set before initialization"); os.environ reaches getenv() through putenv.
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    # openvino_telemetry has no environment switch; without a consent file it counts as consent. OpenVINO's
    # converter (openvino/tools/ovc/telemetry_utils.py) and NNCF (nncf/telemetry/wrapper.py) both fall back to no
    # telemetry when the package cannot be imported, and None in sys.modules makes `import` raise ImportError.
    if "openvino_telemetry" not in sys.modules and not (home and (home / "intel" / "openvino_telemetry").exists()):
        sys.modules["openvino_telemetry"] = None
    if home and "KERAS_HOME" not in os.environ and not (home / ".keras").exists():
        cache = os.environ.get("XDG_CACHE_HOME") or str(home / ".cache")
        os.environ["KERAS_HOME"] = str(Path(cache) / "edgekit" / "keras")


def _home() -> Path | None:
    try:
        return Path.home()
    except (OSError, RuntimeError):  # no HOME and no passwd entry (a service account): nothing to protect there
        return None
