#!/usr/bin/env bash
# An emulated Raspberry Pi 5 on this machine (arm64 Debian bookworm under qemu-user, its own sshd on loopback):
# installs the Debian packages it needs, builds the root file system once (cached) and runs it until Ctrl-C.
#   sudo scripts/emulated_pi.sh             # start it; prints the device, its inventory and an ssh line
#   sudo scripts/emulated_pi.sh --prepare   # only build the cached root file system (e.g. in a CI cache step)
set -euo pipefail
cd "$(dirname "$0")/.."
missing=$(for p in debootstrap qemu-user-static binfmt-support; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
exec "${PYTHON:-.venv/bin/python}" -m edgekit emulate raspberry-pi-5 "$@"
