"""python -m edgekit.agent {verify,activate,status,profile,bench,app}: the commands a workstation runs on a device."""

from __future__ import annotations

import argparse
import json
import sys

from edgekit.agent.options import ProfileOptions
from edgekit.errors import EdgekitError


# `edgekit run` reads these statuses of `app` as the device layer's own failures, not the app's
NOT_FLASHED, MISSING_MODULE = 66, 69


def _missing_module(exc: ModuleNotFoundError) -> None:
    print(f"ERROR: The device's Python ({sys.executable}) lacks the module '{exc.name}' this app needs.",
          file=sys.stderr)
    print("TIP: Flash with --install (makes <path>/venv with numpy and the runtime, from the bundle's wheels "
          "when it has them), or install the runtime's extra there: pip install 'edgekit[litert]', "
          "'edgekit[onnxruntime]' or 'edgekit[openvino]' (see the bundle's manifest.json: requirements).",
          file=sys.stderr)


def run_flashed_app(root: str, args: list[str]) -> int:
    """The current release's app with ``args``: one clear error when the device's Python lacks a module, not a
    traceback (that nothing is flashed is checked before, by edgekit.remote.transport.app_argv)."""
    import runpy
    from pathlib import Path

    app = Path(root) / "current" / "app" / "app.py"
    sys.argv = [str(app), *args]
    try:
        runpy.run_path(str(app), run_name="__main__")
    except ModuleNotFoundError as exc:
        _missing_module(exc)
        return MISSING_MODULE
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["app"] and len(argv) >= 2:  # free-form app arguments: not for argparse
        return run_flashed_app(argv[1], argv[2:])
    ap = argparse.ArgumentParser(prog="python -m edgekit.agent")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("verify", help="check an unpacked bundle against its manifest").add_argument("directory")
    act = sub.add_parser("activate", help="verify staging/<release>, make it current")
    act.add_argument("root")
    act.add_argument("release")
    sub.add_parser("status", help="which release is current").add_argument("root")
    prof = sub.add_parser("profile", help="profile the current release; JSON on stdout")
    prof.add_argument("root")
    ProfileOptions.add_arguments(prof)
    bench = sub.add_parser("bench", help="measure an artifact copied with its inputs (edgekit bench --device)")
    bench.add_argument("directory", help="holds the artifact and feeds.npz (its inputs, stacked by input name)")
    bench.add_argument("--artifact", required=True)
    bench.add_argument("--threads", type=int, default=None)
    bench.add_argument("--min-runs", type=int, default=100)
    bench.add_argument("--min-seconds", type=float, default=2.0)
    bench.add_argument("--no-ops", action="store_true")
    args = ap.parse_args(argv)
    try:
        if args.command == "verify":
            from edgekit.bundle.manifest import verify_tree

            result = {"verified": True, "app": verify_tree(args.directory)["app"]}
        elif args.command == "activate":
            from edgekit.agent.releases import activate

            result = activate(args.root, args.release)
        elif args.command == "status":
            from edgekit.agent.releases import status

            result = status(args.root)
        elif args.command == "bench":
            from pathlib import Path

            import numpy as np

            from edgekit.profiling.measure import feeds_from_npz, measure

            with np.load(Path(args.directory) / "feeds.npz") as npz:
                feeds = feeds_from_npz({k: npz[k] for k in npz.files})
            result = measure(Path(args.directory) / args.artifact, lambda _: feeds, args.threads, args.min_runs,
                             args.min_seconds, not args.no_ops)
            from edgekit.agent.profile import this_device

            result["device"] = this_device()
        else:
            from pathlib import Path

            from edgekit.agent.profile import profile

            result = profile(Path(args.root) / "current", ProfileOptions.from_namespace(args))
    except (EdgekitError, ValueError) as exc:  # ValueError: profile options out of range
        print(exc.render() if isinstance(exc, EdgekitError) else f"ERROR: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)
    except ModuleNotFoundError as exc:  # numpy or the runtime missing from the device's Python
        _missing_module(exc)
        return 3
    print(json.dumps(result, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
