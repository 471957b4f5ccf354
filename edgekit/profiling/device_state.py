"""What the device was doing while it was measured: CPU frequency, temperature and throttle flags over time.

Linux exposes them under /sys (cpufreq, thermal zones); a Raspberry Pi adds its firmware's throttle word
(sysfs or `vcgencmd get_throttled`), a Jetson its `tegrastats` stream. Whatever a machine lacks is reported
as unavailable, never guessed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

# Raspberry Pi firmware throttle word: bit -> meaning (bits 0-3 now, 16-19 "has occurred since boot").
PI_THROTTLE_BITS = {0: "under-voltage", 1: "ARM frequency capped", 2: "throttled", 3: "soft temperature limit"}
PI_THROTTLE_SYSFS = "sys/devices/platform/soc/soc:firmware/get_throttled"
FREQ_DROP = 0.85  # a sampled CPU frequency below this fraction of the run's first sample counts as a drop
_TEGRA_TEMP = re.compile(r"(\w+)@(-?\d+(?:\.\d+)?)C\b")
_TEGRA_CPU = re.compile(r"CPU \[([^\]]*)\]")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def parse_tegrastats(line: str) -> dict:
    """One tegrastats line -> {"cpu_mhz": [...], "temp_c": {...}} (cores that are off are left out)."""
    cpu = _TEGRA_CPU.search(line)
    mhz = [int(m) for m in re.findall(r"@(\d+)", cpu.group(1))] if cpu else []
    return {"cpu_mhz": mhz, "temp_c": {name.lower(): float(v) for name, v in _TEGRA_TEMP.findall(line)}}


class DeviceStateSampler:
    """Samples every ``interval`` seconds on a thread while the profile runs: ``with DeviceStateSampler() as s:``."""

    def __init__(self, root: str | Path = "/", interval: float = 0.5):
        self.root, self.interval = Path(root), interval
        self.samples: list[dict] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._tegra: subprocess.Popen | None = None
        self._tegra_last: dict | None = None
        cpus = sorted((self.root / "sys/devices/system/cpu").glob("cpu[0-9]*/cpufreq/scaling_cur_freq"),
                      key=lambda p: int(p.parent.parent.name[3:]))
        self._freq_files = cpus
        self.cpu_max_mhz = [round(int(v) / 1000) for p in cpus
                            if (v := _read(p.parent / "cpuinfo_max_freq")) and v.isdigit()]
        self._zones = {}
        for zone in sorted((self.root / "sys/class/thermal").glob("thermal_zone*")):
            name = _read(zone / "type") or zone.name
            self._zones[f"{name}" if name not in self._zones else f"{name}-{zone.name}"] = zone / "temp"
        self._pi_sysfs = self.root / PI_THROTTLE_SYSFS
        self._vcgencmd = shutil.which("vcgencmd") if self.root == Path("/") else None
        self._tegrastats = shutil.which("tegrastats") if self.root == Path("/") else None

    def sources(self) -> dict:
        return {"cpufreq": len(self._freq_files), "thermal_zones": sorted(self._zones),
                "pi_throttle": "sysfs" if self._pi_sysfs.is_file() else ("vcgencmd" if self._vcgencmd else None),
                "tegrastats": bool(self._tegrastats)}

    def _pi_throttle(self) -> int | None:
        raw = _read(self._pi_sysfs)
        if raw is None and self._vcgencmd:
            try:
                raw = subprocess.run([self._vcgencmd, "get_throttled"], capture_output=True, text=True,
                                     timeout=2).stdout.strip().split("=")[-1]
            except (OSError, subprocess.SubprocessError):
                raw = None
        try:
            return int(raw, 16) if raw else None
        except ValueError:
            return None

    def sample(self, t: float) -> dict:
        mhz = [round(int(v) / 1000) for p in self._freq_files if (v := _read(p)) and v.lstrip("-").isdigit()]
        temps = {k: int(v) / 1000 for k, p in self._zones.items() if (v := _read(p)) and v.lstrip("-").isdigit()}
        if self._tegra_last:
            mhz = mhz or self._tegra_last["cpu_mhz"]
            temps.update({f"tegra-{k}": v for k, v in self._tegra_last["temp_c"].items()})
        out = {"t": round(t, 3), "cpu_mhz": mhz, "temp_c": temps}
        word = self._pi_throttle()
        if word is not None:
            out["pi_throttled"] = word
        return out

    def _loop(self, start: float) -> None:
        while not self._stop.wait(self.interval):
            self.samples.append(self.sample(time.perf_counter() - start))

    def _read_tegrastats(self) -> None:
        for line in self._tegra.stdout:
            self._tegra_last = parse_tegrastats(line)

    def __enter__(self) -> DeviceStateSampler:
        start = time.perf_counter()
        if self._tegrastats:
            self._tegra = subprocess.Popen([self._tegrastats, "--interval", str(int(self.interval * 1000))],
                                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            threading.Thread(target=self._read_tegrastats, daemon=True).start()
        self.samples.append(self.sample(0.0))
        self._thread = threading.Thread(target=self._loop, args=(start,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        if self._tegra:
            self._tegra.terminate()
            self._tegra.wait(timeout=5)

    def result(self) -> dict:
        return {"interval_s": self.interval, "sources": self.sources(), "cpu_max_mhz": self.cpu_max_mhz,
                "samples": self.samples, **throttling(self.samples)}


def throttling(samples: list[dict]) -> dict:
    """Did the device slow itself down during the run? Reasons in words, from the samples alone."""
    reasons = []
    freqs = [min(s["cpu_mhz"]) for s in samples if s["cpu_mhz"]]
    if freqs and min(freqs) < FREQ_DROP * freqs[0]:
        reasons.append(f"CPU frequency fell from {freqs[0]} to {min(freqs)} MHz during the run "
                       "(thermal throttling or a power-saving governor)")
    words = [s["pi_throttled"] for s in samples if "pi_throttled" in s]
    now = 0
    for w in words:
        now |= w & 0xF
    if now:
        reasons.append("Raspberry Pi firmware reported: "
                       + ", ".join(m for b, m in PI_THROTTLE_BITS.items() if now >> b & 1))
    temps = [max(s["temp_c"].values()) for s in samples if s["temp_c"]]
    return {"throttled": bool(reasons), "throttle_reasons": reasons,
            "max_temp_c": max(temps) if temps else None,
            "temp_rise_c": round(temps[-1] - temps[0], 1) if temps else None,
            "min_cpu_mhz": min(freqs) if freqs else None, "max_cpu_mhz": max(freqs) if freqs else None}
