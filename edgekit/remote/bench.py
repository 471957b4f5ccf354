"""`edgekit bench ARTIFACT --device DEVICE`, the workstation side: the artifact, its inputs (prepared and checked
here) and edgekit's measuring code go to ``<path>/bench/<key>`` on the device; the agent measures with the device's
runtime (its flashed venv when there is one) and answers with the same JSON `edgekit bench` prints on this host."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edgekit._fs import scratch_directory
from edgekit._heartbeat import heartbeat
from edgekit.remote.address import Device
from edgekit.remote.transport import DeviceError, Transport, device_agent

# what the agent's bench command imports, besides the runtime's session module
BENCH_MODULES = ("edgekit.agent.__main__", "edgekit.profiling.measure", "edgekit.profiling.op_profile")


def bench_on_device(device: Device, artifact: Path, feeds: list[dict[str, np.ndarray]], *, threads: int | None,
                    min_runs: int, min_seconds: float, with_ops: bool,
                    progress: Callable[[str], None] = lambda msg: None) -> dict:
    from edgekit.bundle._tar import write_tree
    from edgekit.bundle.package import lib_files
    from edgekit.formats import BY_SUFFIX, RUNTIMES
    from edgekit.profiling.measure import feeds_to_npz

    files = {artifact.name: artifact.read_bytes()}
    if artifact.suffix == ".xml":  # an OpenVINO IR is two files
        files[artifact.with_suffix(".bin").name] = artifact.with_suffix(".bin").read_bytes()
    buf = io.BytesIO()
    np.savez(buf, **feeds_to_npz(feeds))
    files["feeds.npz"] = buf.getvalue()
    runtime = RUNTIMES[BY_SUFFIX[artifact.suffix].runtime]
    files.update(lib_files([*BENCH_MODULES, runtime.session_module]))
    key = hashlib.sha256(b"".join(hashlib.sha256(files[n]).digest() for n in sorted(files))).hexdigest()[:16]
    remote = f"{device.path}/bench/{key}"
    t = Transport(device)
    t.run(["mkdir", "-p", f"{device.path}/bench"], what="creating the bench directory")
    with scratch_directory("edgekit-bench-") as tmp:
        write_tree(Path(tmp) / key, files)
        progress(f"{device.name}: copying {artifact.name}, its inputs and edgekit's measuring code")
        t.sync(Path(tmp) / key, remote)
    argv = ["--artifact", artifact.name, "--min-runs", str(min_runs), "--min-seconds", str(min_seconds)]
    argv += ["--threads", str(threads)] if threads else []
    argv += [] if with_ops else ["--no-ops"]
    progress(f"{device.name}: measuring with {runtime.name}")
    # the device's Python as the app runs it (the flashed venv first), with the measuring code just copied
    with heartbeat(progress, f"{device.name}: measuring"):
        proc = t.run([*device_agent(device, lib=f"{remote}/lib"), "bench", remote, *argv],
                     what="benchmarking", timeout=3600)
    try:
        result = json.loads(proc.stdout)
    except ValueError as exc:
        raise DeviceError(f"The benchmark on device '{device.name}' did not answer with a result.",
                          got=(proc.stdout.strip().splitlines() or ["(no output)"])[-1][:300]) from exc
    result["artifact"], result["device"]["address"] = str(artifact), device.name
    return result
