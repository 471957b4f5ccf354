"""`edgekit package | flash | run | profile`: demo apps as bundles, on devices reached over SSH (or a local dir)."""

from __future__ import annotations

import contextlib
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click

from edgekit.cli._paths import writable_directory
from edgekit.cli._progress import echo_folded, progress_to
from edgekit.formats import PRECISIONS

_JSON = click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout (progress stays on stderr).")
_INVENTORY = click.option("--inventory", type=click.Path(dir_okay=False), default=None,
                          help="Device inventory TOML naming devices (default: $EDGEKIT_INVENTORY, else "
                          "~/.config/edgekit/devices.toml; never a file in the current directory unless named).")


@click.command()
@click.argument("app")
@click.option("--target", "-t", "target_spec", required=True, help="Target name or .toml.")
@click.option("--precision", "-p", type=click.Choice(PRECISIONS), default=None,
              help="Default: the target's default precision.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), callback=writable_directory,
              default="dist", show_default=True)
@click.option("--build", "build_dir", type=click.Path(file_okay=False), callback=writable_directory,
              default="build", show_default=True,
              help="Where `edgekit convert` put (or will put) the artifact.")
@click.option("--samples", type=click.Path(dir_okay=False), default=None,
              help="A user's model: real held-out inputs (.npz keyed by input name, optional 'labels') packed for "
              "--demo and --evaluate, with the workstation's outputs on them.")
@click.option("--apps-dir", type=click.Path(file_okay=False), default=None, help="Default: the apps shipped with edgekit (edgekit.apps).")
@click.option("--with-wheels", is_flag=True, help="Add the wheels the device needs (its platform and Python).")
@click.option("--allow-degraded", is_flag=True, help="Package an artifact `edgekit convert` marked DEGRADED vs fp32.")
@click.option("--sign", "sign_key", type=click.Path(dir_okay=False), default=None, metavar="KEY",
              help="Sign the bundle with your SSH key (ssh-keygen -Y sign); devices flashed with --allowed-signers "
              "take only signed bundles.")
@_JSON
@click.pass_context
def package(ctx, app, target_spec, precision, out_dir, build_dir, samples, apps_dir, with_wheels, allow_degraded,
            sign_key, as_json):
    """Bundle APP — a zoo app, or a user's model (its file or build directory) with the generic app — with its
    verified artifact, data and edgekit's device layer.

    \b
    edgekit package face-id --target raspberry-pi-5 --precision int8
    edgekit package my_model.keras --target raspberry-pi-5 --samples eval.npz
    edgekit package build/my_model --target jetson-orin-nano --precision fp16 --samples eval.npz
    """
    from edgekit.bundle.package import default_apps_dir, list_apps, load_app, package as make_bundle
    from edgekit.bundle.user_model import package_model
    from edgekit.targets import resolve_targets

    apps = Path(apps_dir) if apps_dir else default_apps_dir()
    user_model = app not in list_apps(apps)
    spec = {} if user_model else load_app(app, apps)
    (target,) = resolve_targets([target_spec])
    precision = target.check_precision(precision or target.default_precision)
    if sign_key:
        from edgekit.bundle.signing import check_key

        sign_key = check_key(Path(sign_key))
    wheels, started = None, time.monotonic()
    if with_wheels:
        from edgekit.bundle.wheels import download_wheels

        progress_to(since=started)(f"downloading wheels for {target.arch}, Python {target.python}, glibc {target.glibc}: "
                  f"{', '.join(target.device_requirements)}")
        wheels = download_wheels([*target.device_requirements, *spec.get("requirements", [])], target.arch,
                                 target.python, target.glibc)
    from edgekit._quiet import framework_output_captured

    debug = bool(ctx.obj and ctx.obj.get("debug"))
    with contextlib.nullcontext(sys.stderr) if debug else framework_output_captured() as terminal:
        common = dict(build_dir=Path(build_dir), out_dir=Path(out_dir), apps_dir=apps, wheels=wheels,
                      progress=progress_to(terminal, since=started), allow_degraded=allow_degraded)
        out = (package_model(app, target, precision, samples=samples, **common) if user_model
               else make_bundle(app, target, precision, **common))
        if sign_key:
            from edgekit.bundle.signing import sign_bundle

            sign_bundle(out, sign_key)
    from edgekit.bundle.manifest import sha256_bytes

    digest, size = sha256_bytes(out.read_bytes()), out.stat().st_size
    if as_json:
        from edgekit.remote.flash import check_bundle

        manifest = check_bundle(out)
        _echo_json({"bundle": str(out), "app": manifest["app"], "model": manifest["model"], "target": target.name,
                    "precision": precision, "size_bytes": size, "sha256": digest, "with_wheels": bool(with_wheels)})
        return
    click.echo(f"wrote {out} ({size / 1024:.0f} KiB, sha256 {digest[:16]})")


def _echo_json(doc) -> None:
    import json

    click.echo(json.dumps(doc, indent=2))


def _devices(specs: tuple[str, ...], inventory):
    from edgekit.remote.address import distinct, resolve_device

    return distinct([resolve_device(s, inventory) for s in specs])


def _each(devices, work):
    """Run ``work(device)`` on every device in parallel; report each; exit nonzero if any failed."""
    from edgekit.errors import EdgekitError

    def safe(device):
        try:
            return device, work(device), None
        except EdgekitError as exc:
            return device, None, exc

    with ThreadPoolExecutor(max_workers=max(1, len(devices))) as pool:
        results = list(pool.map(safe, devices))
    failed = [(d, e) for d, _, e in results if e is not None]
    if len(results) == 1 and failed:
        raise failed[0][1]
    for d, e in failed:
        click.echo(f"ERROR: {d.name}: {e.message}", err=True)
    if failed:
        sys.exit(max(e.exit_code for _, e in failed))
    return [r for _, r, _ in results]


@click.command()
@click.argument("bundle", type=click.Path(dir_okay=False))
@click.argument("devices", nargs=-1, required=True)
@click.option("--install", is_flag=True, help="Create <path>/venv on the device with the runtime requirements.")
@click.option("--bwlimit", type=click.IntRange(min=1), default=None, metavar="KBPS",
              help="Cap the upload at KBPS kilobytes per second (slow or shared links).")
@click.option("--allowed-signers", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="From now on the device takes only bundles signed by these keys (OpenSSH allowed_signers format; "
              "see `edgekit package --sign`).")
@_JSON
@_INVENTORY
def flash(bundle, devices, install, bwlimit, allowed_signers, as_json, inventory):
    """Copy BUNDLE to one or more DEVICES and make it current (atomically).

    A device is ssh://user@host[:port]/path, local:/path or a name in the inventory.

    \b
    edgekit flash dist/face-id-raspberry-pi-5-int8.tar.gz ssh://pi@raspberrypi.local/home/pi/edgekit
    edgekit flash dist/face-id-raspberry-pi-5-int8.tar.gz pi-kitchen pi-hall --install
    """
    from edgekit.remote.flash import check_bundle, flash as do_flash

    check_bundle(Path(bundle))  # a bad bundle is refused before any device is contacted
    if allowed_signers:
        from edgekit.bundle.signing import check_allowed_signers

        allowed_signers = check_allowed_signers(Path(allowed_signers))
    progress = progress_to()
    results = _each(_devices(devices, inventory), lambda d: do_flash(Path(bundle), d, install=install,
                                                                   bwlimit_kbps=bwlimit, allowed_signers=allowed_signers,
                                                                   progress=progress))
    if as_json:
        from dataclasses import asdict

        _echo_json([asdict(r) for r in results])
        return
    for r in results:
        state = "flashed" if r.changed else "unchanged (already current)"
        click.echo(f"{r.device}: {r.app} release {r.release} {state}{'; runtime installed' if r.installed else ''}")


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("device")
@click.argument("app_args", nargs=-1, type=click.UNPROCESSED)
@_INVENTORY
def run(device, app_args, inventory):
    """Run the app flashed on DEVICE, streaming its output; APP_ARGS go to the app (e.g. --demo, --evaluate;
    add --json for the app's own JSON on stdout).

    \b
    edgekit run ssh://pi@raspberrypi.local/home/pi/edgekit --demo
    edgekit run pi-kitchen --evaluate --json
    """
    import subprocess

    from edgekit.remote.transport import Transport, app_argv

    if inventory is None and "--inventory" in app_args:
        from edgekit.errors import UsageError

        raise UsageError("edgekit run's own options go before DEVICE: everything after it is passed to the app.",
                         got=f"edgekit run {device} {' '.join(app_args)}",
                         tip=f"edgekit run --inventory FILE {device} ...")
    (d,) = _devices((device,), inventory)
    t = Transport(d)
    argv = app_argv(d, *app_args)
    proc = subprocess.run(t.command(argv), stdin=subprocess.DEVNULL)
    if proc.returncode == 255 and d.kind == "ssh":
        t.check_reachable(subprocess.CompletedProcess(argv, 255, "", ""))
    t.check_signal(proc.returncode, "The app")
    from edgekit.agent.__main__ import MISSING_MODULE, NOT_FLASHED

    if proc.returncode in (NOT_FLASHED, MISSING_MODULE):  # the device layer said why (ERROR/TIP above)
        sys.exit(2 if proc.returncode == NOT_FLASHED else 3)
    if proc.returncode != 0:  # the app's own status would collide with edgekit's exit codes
        from edgekit.remote.transport import AppFailed

        raise AppFailed(f"The app on device '{d.name}' exited with status {proc.returncode}.",
                        got=f"{' '.join(app_args) or '(no arguments)'}",
                        tip="Its own output above says why; `edgekit run DEVICE --help` lists the app's options.")


@click.command()
@click.argument("devices", nargs=-1, required=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), callback=writable_directory,
              default="build/devices", show_default=True)
@click.option("--min-runs", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--min-seconds", type=click.FloatRange(min=0), default=2.0, show_default=True)
@click.option("--pipeline-runs", type=click.IntRange(min=0), default=3, show_default=True,
              help="Timed runs of the app's demo for the pipeline split (after one untimed); 0 skips the split "
              "(an emulated or very slow device).")
@click.option("--threads", type=click.IntRange(min=1), default=None)
@click.option("--soak", type=click.FloatRange(min=0), default=0.0, metavar="SECONDS", show_default=True,
              help="Sustained load after the timed runs (e.g. 600): latency and temperature over time.")
@click.option("--max-accuracy-drop", type=float, default=None, metavar="PT",
              help="CI gate: exit 6 if the device's metric is more than PT points (or %) worse than fp32.")
@click.option("--max-p99-ms", type=float, default=None, help="CI gate: exit 6 if the device's p99 latency exceeds it.")
@click.option("--max-size-mb", type=float, default=None, help="CI gate: exit 6 if the artifact is larger.")
@_JSON
@_INVENTORY
def profile(devices, out_dir, min_runs, min_seconds, pipeline_runs, threads, soak, max_accuracy_drop, max_p99_ms,
            max_size_mb, as_json, inventory):
    """Profile the flashed app on each DEVICE: cold start, latency, memory, its metric; reports come back.

    \b
    edgekit profile ssh://pi@raspberrypi.local/home/pi/edgekit
    """
    from edgekit.agent.options import ProfileOptions
    from edgekit.remote.profile import profile_device
    from edgekit.reporting.device import render_profile
    from edgekit.reporting.gates import GateRow, Gates, enforce

    options = ProfileOptions(threads=threads, min_runs=min_runs, min_seconds=min_seconds, soak_seconds=soak,
                             pipeline_runs=pipeline_runs)
    rows, mismatched, progress = [], [], progress_to()
    results = _each(_devices(devices, inventory), lambda d: profile_device(d, options, Path(out_dir), progress))
    if as_json:  # the reports as written (edgekit.device-profile/1), then the same checks and gates
        _echo_json([{"directory": str(where), "report": profile.to_json()} for where, profile in results])
    for where, profile in results:
        if not as_json:
            echo_folded(render_profile(profile, markdown=False), fold=lambda line: line.startswith("check "))
            click.echo(f"wrote {where}/report.json, report.md, report.html\n")
        rows.append(GateRow.of_profile(profile))
        mismatched += [f for f in profile.sanity if f["check"] == "device-mismatch"]
    if mismatched:  # before the gates: their tips would blame the artifact for what the device got wrong
        from edgekit.remote.transport import DeviceError

        raise DeviceError(f"{len(mismatched)} device(s) compute a different result than the workstation for the "
                          "same artifact.", got="; ".join(f"{f['artifact']}: {f['message'].split(' (')[0]}"
                                                          for f in mismatched),
                          tip="Compare the runtime version and CPU on the device with the workstation's (an "
                          "emulator needs the device's CPU model, e.g. QEMU_CPU=cortex-a76); the reports are written.")
    enforce(rows, Gates(max_accuracy_drop, max_p99_ms, max_size_mb))
