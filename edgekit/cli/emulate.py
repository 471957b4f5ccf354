"""`edgekit emulate TARGET`: a stand-in board on this machine (arm64 Debian under qemu-user, its own sshd on
loopback) that bundles are flashed to, run and profiled on like a real one."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import click

from edgekit.cli._progress import progress_to


@click.command()
@click.argument("target")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Loopback port for its sshd (default: a free one).")
@click.option("--name", default=None, help="Its name in the inventory (default: TARGET-emulated).")
@click.option("--state", "state_dir", type=click.Path(file_okay=False), default=None,
              help="Where its client key, known_hosts and inventory go (default: beside the cached root file system).")
@click.option("--mirror", default=None, help="Debian mirror to build the root file system from (default: this host's apt mirror).")
@click.option("--prepare", is_flag=True, help="Build and cache the root file system, then exit (for CI and scripts).")
@click.option("--json", "as_json", is_flag=True,
              help="Print the device as one JSON line (name, url, port, inventory, ssh) for scripts, then run.")
def emulate(target, port, name, state_dir, mirror, prepare, as_json):
    """Run an emulated TARGET board here until Ctrl-C, and print how to reach it.

    \b
    edgekit emulate raspberry-pi-5
    edgekit flash dist/face-id-raspberry-pi-5-int8.tar.gz raspberry-pi-5-emulated \\
        --inventory ~/.cache/edgekit/emulator/raspberry-pi-5-emulated/devices.toml --install

    The first start builds an arm64 Debian root file system (~1 min, cached; EDGEKIT_EMULATOR_CACHE moves the
    cache). Needs root and Debian's debootstrap, qemu-user-static and binfmt-support. Expect code to run 10-400x
    slower than on the board: latency measured here is not the board's, outputs are.
    """
    from edgekit.emulate import emulation_for
    from edgekit.emulate.rootfs import cache_root, check_host, ensure_rootfs

    emulation = emulation_for(target)  # a target without a stand-in fails before anything is checked or built
    check_host()
    rootfs = ensure_rootfs(emulation, mirror=mirror, progress=progress_to())
    if prepare:
        click.echo(json.dumps({"target": emulation.target, "rootfs": str(rootfs)}) if as_json
                   else f"{emulation.model}: root file system ready at {rootfs}")
        return
    from edgekit.emulate.device import start, stop

    name = name or f"{emulation.target}-emulated"
    device = start(emulation, rootfs, Path(state_dir) if state_dir else cache_root() / name, port=port, name=name)
    stopping = signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as cleanly as Ctrl-C
    ssh = f"ssh -p {device.port} {' '.join(device.ssh_options)} {emulation.user}@127.0.0.1"
    try:
        if as_json:  # one line, flushed: a script reads it and goes on while the device runs
            click.echo(json.dumps({"target": emulation.target, "model": emulation.model, "name": device.name,
                                   "url": device.url, "port": device.port, "inventory": str(device.inventory),
                                   "ssh": ssh}))
        else:
            click.echo(f"{emulation.model}\n"
                       f"  device:    {device.name}  {device.url}\n"
                       f"  inventory: {device.inventory}\n"
                       f"  flash:     edgekit flash BUNDLE {device.name} --inventory {device.inventory} --install\n"
                       f"  shell:     {ssh}\n"
                       "Running until Ctrl-C.")
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        stop(device)
        signal.signal(signal.SIGTERM, stopping)
        click.echo(f"{device.name} stopped.", err=True)


def _interrupt(signum, frame):
    raise KeyboardInterrupt
