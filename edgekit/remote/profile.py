"""`edgekit profile`, the workstation side: run the agent's profiler on a device, add what needs the workstation's
code (intervals, sanity checks) and write the reports under build/devices/<device>/<app>/."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from edgekit._fs import atomic_write_json, atomic_write_text
from edgekit._heartbeat import heartbeat
from edgekit.agent.options import ProfileOptions
from edgekit.remote.address import Device
from edgekit.remote.transport import DeviceError, Transport, agent_argv
from edgekit.reporting.records import DeviceProfile


def safe_name(name: str) -> str:
    """A device name or address as one directory name."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("_")


def profile_device(device: Device, options: ProfileOptions, out_dir: Path,
                   progress: Callable[[str], None] = lambda msg: None) -> tuple[Path, DeviceProfile]:
    """Profile the app flashed on ``device``; return where its reports went and the report."""
    from edgekit.reporting.device import enrich, render_profile
    from edgekit.reporting.html import device_html

    progress(f"{device.name}: profiling")
    with heartbeat(progress, f"{device.name}: profiling"):
        proc = Transport(device).run(agent_argv(device, "profile", *options.to_argv()), what="profiling",
                                     timeout=3600 + options.soak_seconds)
    try:
        report = json.loads(proc.stdout)
    except ValueError as exc:
        raise DeviceError(f"The profiler on device '{device.name}' did not answer with a report.",
                          got=(proc.stdout.strip().splitlines() or ["(no output)"])[-1][:300],
                          tip="Flash the bundle again: the device's edgekit agent may be from another version.") from exc
    report["device"]["address"] = device.name
    profile = enrich(report)
    where = Path(out_dir) / safe_name(device.name) / profile.app
    atomic_write_json(where / "report.json", profile.to_json())
    atomic_write_text(where / "report.md", render_profile(profile))
    atomic_write_text(where / "report.html", device_html(profile))
    return where, profile
