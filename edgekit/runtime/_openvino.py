"""OpenVINO backend. On an Intel Core Ultra the devices are NPU > CPU; on the host, CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgekit._lazy import require
from edgekit.errors import InputFileError, summarize
from edgekit.runtime import Session, TensorInfo


def _info(port) -> TensorInfo:
    shape = tuple(d.get_length() if d.is_static else None for d in port.get_partial_shape())
    return TensorInfo(port.get_any_name(), shape, port.get_element_type().to_dtype().name)


class OpenVINOSession(Session):
    runtime = "openvino"

    def __init__(self, path: Path, threads: int | None, devices: tuple[str, ...] | None):
        ov = require("openvino", purpose="Running OpenVINO IR models")
        core = ov.Core()
        available = set(core.available_devices)
        device = next((d for d in (devices or ("CPU",)) if d in available), "CPU")
        config = {}
        if device == "CPU":
            # Compute in f32 on the host: the CPU plugin would otherwise pick bf16 on CPUs that have it,
            # and verification would measure the host CPU instead of the artifact.
            config["INFERENCE_PRECISION_HINT"] = "f32"
            if threads:
                config["INFERENCE_NUM_THREADS"] = threads
        if not path.with_suffix(".bin").is_file():
            raise InputFileError(
                f"OpenVINO IR '{path.name}' has no weights file beside it.",
                got=f"missing {path.with_suffix('.bin')}",
                tip="Keep model.xml and model.bin together.",
            )
        try:
            self._compiled = core.compile_model(core.read_model(str(path)), device, config)
        except RuntimeError as exc:
            raise InputFileError(
                f"OpenVINO cannot load '{path.name}' ({summarize(exc)}).",
                got=str(path),
                tip="Check that model.xml and model.bin are complete; re-create them with `edgekit convert`.",
            ) from exc
        self._request = self._compiled.create_infer_request()
        self.inputs = [_info(p) for p in self._compiled.inputs]
        self.outputs = [_info(p) for p in self._compiled.outputs]
        self._dtypes = {t.name: np.dtype(t.dtype) for t in self.inputs}
        self.options = {"threads": threads, "device": device, **{k: str(v) for k, v in config.items()}}

    def _run(self, feeds):
        result = self._request.infer({k: v.astype(self._dtypes[k], copy=False) for k, v in feeds.items()})
        return {port.get_any_name(): np.array(value) for port, value in result.items()}


def open_session(path: Path, *, threads=None, devices=None) -> Session:
    return OpenVINOSession(path, threads, devices)
