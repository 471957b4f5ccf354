"""Build (once) and cache the arm64 Debian root file system an emulated board runs.

debootstrap's first stage, native on the host, resolves and downloads the packages (~1 min). Its second stage
would run every maintainer script under qemu — measured here: after 5 minutes it had configured 3 packages and
was still unpacking the base system — so the packages are instead unpacked natively and the few facts their scripts would set up are
written directly: accounts (base-passwd's tables + sshd's privilege-separation user + the board's user), sshd's
config and host keys, the dynamic linker cache (one ldconfig under qemu). The result is cached by what it was
built from; `edgekit emulate --print-cache` says where, so CI can keep that directory between runs.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from edgekit._heartbeat import heartbeat
from edgekit.emulate import Emulation, cpuinfo
from edgekit.errors import MissingDependencyError, UsageError
from edgekit.remote.transport import DeviceError

PACKAGES = ("python3", "python3-venv", "openssh-server", "rsync")
LAYOUT = 1  # bump when the steps below change what a cached root file system contains
CPUINFO = "/etc/edgekit/cpuinfo"  # inside the rootfs; bound over the guest's /proc/cpuinfo
HOST_TOOLS = {"debootstrap": "debootstrap", "unshare": "util-linux", "update-binfmts": "binfmt-support",
              "qemu-aarch64-static": "qemu-user-static", "dpkg-deb": "dpkg", "ssh-keygen": "openssh-client"}
BINFMT = Path("/proc/sys/fs/binfmt_misc")
_STAMP = ".edgekit-rootfs"


def cache_root() -> Path:
    if os.environ.get("EDGEKIT_EMULATOR_CACHE"):
        return Path(os.environ["EDGEKIT_EMULATOR_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "edgekit" / "emulator"


def guest_home(emulation: Emulation) -> str:
    return f"/home/{emulation.user}"


def default_mirror() -> str:
    """The Debian mirror this host's apt uses (the one its network reaches), else deb.debian.org."""
    for path in sorted(Path("/etc/apt").glob("sources.list.d/*.sources")) + [Path("/etc/apt/sources.list")]:
        try:
            text = path.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            words = line.split()
            if words[:1] == ["URIs:"] and len(words) > 1 and "security" not in words[1]:
                return words[1]
            if words[:1] == ["deb"] and len(words) > 2 and "security" not in line:
                return words[2] if not words[1].startswith("[") else words[3]
    return "http://deb.debian.org/debian"


def rootfs_path(emulation: Emulation, cache: Path | None = None) -> Path:
    key = hashlib.sha256(f"{emulation.suite}|arm64|{','.join(PACKAGES)}|{emulation.user}|{LAYOUT}".encode())
    return (cache or cache_root()) / f"{emulation.suite}-arm64-{key.hexdigest()[:12]}"


def check_host() -> None:
    """Root, and the Debian tools: before anything is downloaded or started."""
    if os.geteuid() != 0:
        raise UsageError("The emulated device needs root: it chroots, mounts its /proc in a private namespace and "
                         "registers qemu with binfmt_misc.", got=f"uid {os.geteuid()}",
                         tip="Run it as root (sudo edgekit emulate ...), or use a real board.")
    missing = sorted({pkg for tool, pkg in HOST_TOOLS.items() if not shutil.which(tool)})
    if missing:
        raise MissingDependencyError("The emulated device needs Debian's qemu-user and debootstrap tools.",
                                     got=f"missing packages: {', '.join(missing)}",
                                     tip=f"apt-get install {' '.join(missing)}")


def enable_binfmt() -> None:
    """Let the kernel run aarch64 programs through qemu (the F flag opens qemu once, so the rootfs needs no copy)."""
    if not (BINFMT / "status").exists():
        _run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)], "mounting binfmt_misc")
    if not (BINFMT / "qemu-aarch64").exists():
        _run(["update-binfmts", "--enable", "qemu-aarch64"], "registering qemu-aarch64 with binfmt_misc")
    if "enabled" not in (BINFMT / "qemu-aarch64").read_text().splitlines()[0]:
        raise DeviceError("binfmt_misc has qemu-aarch64 registered but disabled.", got=str(BINFMT / "qemu-aarch64"),
                          tip="Enable it: update-binfmts --enable qemu-aarch64")


def ensure_rootfs(emulation: Emulation, *, cache: Path | None = None, mirror: str | None = None,
                  progress=lambda msg: None) -> Path:
    """The cached root file system, built first when there is none (the build goes to a .partial sibling that is
    renamed into place only when complete, so an interrupted build is never used)."""
    path = rootfs_path(emulation, cache)
    if (path / _STAMP).is_file():
        return path
    check_host()
    partial = path.with_name(path.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    mirror = mirror or default_mirror()
    progress(f"downloading Debian {emulation.suite} arm64 ({', '.join(PACKAGES)} and what they need) from {mirror}")
    with heartbeat(progress, "downloading"):
        _run(["debootstrap", "--arch=arm64", "--foreign", "--variant=minbase", f"--include={','.join(PACKAGES)}",
              emulation.suite, str(partial), mirror], "downloading the root file system (debootstrap)", timeout=1800)
    debs = sorted((partial / "var/cache/apt/archives").glob("*.deb"))
    progress(f"unpacking {len(debs)} packages")
    for deb in debs:
        _unpack(deb, partial)
    enable_binfmt()
    _configure(partial, emulation)
    shutil.rmtree(partial / "debootstrap", ignore_errors=True)
    for deb in debs:
        deb.unlink()
    (partial / _STAMP).write_text(f"{emulation.suite} arm64 {' '.join(PACKAGES)} layout {LAYOUT}\n")
    partial.rename(path)
    return path


def _unpack(deb: Path, root: Path) -> None:
    # the rootfs has merged /usr (bin -> usr/bin): keep those links when a package lists /bin
    fsys = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    tar = subprocess.run(["tar", "-x", "--keep-directory-symlink", "-C", str(root)], stdin=fsys.stdout,
                         capture_output=True, text=True)
    fsys.stdout.close()
    if fsys.wait() != 0 or tar.returncode != 0:
        raise DeviceError("A Debian package of the emulated device's root file system did not unpack.",
                          got=f"{deb.name}: {tar.stderr.strip()[-300:]}", tip="Run again; the download may be damaged.")


def _configure(root: Path, emulation: Emulation) -> None:
    """What the maintainer scripts of the unpacked packages would have set up, and nothing more."""
    etc = root / "etc"
    # accounts: base-passwd's tables (its preinst copies them), sshd's privilege separation, the board's user
    base = root / "usr/share/base-passwd"
    user, home = emulation.user, guest_home(emulation)
    (etc / "passwd").write_text((base / "passwd.master").read_text() + "sshd:x:100:65534::/run/sshd:/usr/sbin/nologin\n"
                                f"{user}:x:1000:1000::{home}:/bin/bash\n")
    (etc / "group").write_text((base / "group.master").read_text() + f"{user}:x:1000:\n")
    shadow = [f"{ln.split(':')[0]}:*:19000:0:99999:7:::" for ln in (etc / "passwd").read_text().splitlines()]
    (etc / "shadow").write_text("\n".join(shadow) + "\n")  # '*': no password; keys only ('!' would lock the account)
    os.chmod(etc / "shadow", 0o640)
    (root / home.lstrip("/")).mkdir(parents=True, exist_ok=True)
    os.chown(root / home.lstrip("/"), 1000, 1000)
    # sshd: Debian's default config (its postinst installs it) and host keys (ssh-keygen -A under this prefix)
    shutil.copyfile(root / "usr/share/openssh/sshd_config", etc / "ssh/sshd_config")
    _run(["ssh-keygen", "-A", "-f", str(root)], "making the emulated device's host keys")
    (root / "run/sshd").mkdir(parents=True, exist_ok=True)
    # a real /proc mount point (debootstrap's first stage leaves a link to the host's)
    if (root / "proc").is_symlink():
        (root / "proc").unlink()
    (root / "proc").mkdir(exist_ok=True)
    (root / CPUINFO.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
    (root / CPUINFO.lstrip("/")).write_text(cpuinfo(emulation))
    # the host's CA bundle, so pip on the device reaches the package index through this network's TLS
    host_ca = Path("/etc/ssl/certs/ca-certificates.crt")
    if host_ca.is_file():
        (etc / "ssl/certs").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(host_ca, etc / "ssl/certs/ca-certificates.crt")
        (etc / "pip.conf").write_text("[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n")
    (etc / "hostname").write_text(f"{emulation.target}-emulated\n")
    _run(["chroot", str(root), "/sbin/ldconfig"], "building the emulated device's linker cache",
         env={"QEMU_CPU": emulation.qemu_cpu, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})


def _run(cmd: list[str], what: str, *, timeout: float = 300, env: dict | None = None) -> None:
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as exc:
        raise DeviceError(f"{what[0].upper()}{what[1:]} took longer than {timeout:.0f} s.", got=" ".join(cmd)) from exc
    if r.returncode != 0:
        tail = (r.stderr.strip() or r.stdout.strip()).splitlines()[-3:]
        raise DeviceError(f"{what[0].upper()}{what[1:]} failed.", got=f"{' '.join(cmd[:3])} ...: {' | '.join(tail)}",
                          tip="Run again with --debug; a download error usually clears on a second try.")
