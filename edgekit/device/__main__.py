"""python -m edgekit.device {verify,activate,status,profile}: the commands a workstation runs on a device."""

from __future__ import annotations

import argparse
import json
import sys

from edgekit.errors import EdgekitError


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m edgekit.device")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("verify", help="check an unpacked bundle against its manifest").add_argument("directory")
    act = sub.add_parser("activate", help="verify staging/<release>, make it current")
    act.add_argument("root")
    act.add_argument("release")
    sub.add_parser("status", help="which release is current").add_argument("root")
    prof = sub.add_parser("profile", help="profile the current release; JSON on stdout")
    prof.add_argument("root")
    prof.add_argument("--threads", type=int, default=None)
    prof.add_argument("--min-runs", type=int, default=100)
    prof.add_argument("--min-seconds", type=float, default=2.0)
    prof.add_argument("--no-evaluate", action="store_true")
    prof.add_argument("--soak", type=float, default=0.0, help="seconds of sustained load after the timed runs")
    prof.add_argument("--sample-interval", type=float, default=0.5, help="seconds between device-state samples")
    args = ap.parse_args(argv)
    try:
        if args.command == "verify":
            from edgekit.bundle.manifest import verify_tree

            result = {"verified": True, "app": verify_tree(args.directory)["app"]}
        elif args.command == "activate":
            from edgekit.device.releases import activate

            result = activate(args.root, args.release)
        elif args.command == "status":
            from edgekit.device.releases import status

            result = status(args.root)
        else:
            from pathlib import Path

            from edgekit.device.profile import profile

            result = profile(Path(args.root) / "current", threads=args.threads, min_runs=args.min_runs,
                             min_seconds=args.min_seconds, evaluate=not args.no_evaluate,
                             soak_seconds=args.soak, sample_interval=args.sample_interval)
    except EdgekitError as exc:
        print(exc.render(), file=sys.stderr)
        return exc.exit_code
    except ModuleNotFoundError as exc:  # numpy or the runtime missing from the device's Python
        print(f"ERROR: The device's Python ({sys.executable}) lacks the module '{exc.name}' this app needs.",
              file=sys.stderr)
        print("TIP: Flash with --install (makes <path>/venv with numpy and the runtime, from the bundle's wheels "
              "when it has them), or install the runtime's extra there: pip install 'edgekit[litert]', "
              "'edgekit[onnxruntime]' or 'edgekit[openvino]' (see the bundle's manifest.json: requirements).",
              file=sys.stderr)
        return 3
    print(json.dumps(result, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
