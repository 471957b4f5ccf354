"""Who built a bundle: an OpenSSH signature of its manifest (which holds every file's sha256), made with the
user's SSH key (`ssh-keygen -Y sign`) and checked on the device by the device's own ssh-keygen against the keys it
was told to trust, before any of the bundle's code runs there. OpenSSH is already what reaches devices.

    edgekit package face-id --target raspberry-pi-5 --sign ~/.ssh/id_ed25519
    edgekit flash dist/face-id-raspberry-pi-5-int8.tar.gz pi --allowed-signers ~/.config/edgekit/allowed_signers

A device with ``<path>/trust/allowed_signers`` (put there by ``flash --allowed-signers``) refuses every bundle
that is not signed by one of its keys; a device without it takes any bundle whose checksums match.
"""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

from edgekit.bundle.manifest import SIGNATURE
from edgekit.errors import InputFileError, UsageError

NAMESPACE = "edgekit-bundle"  # ssh-keygen -Y's namespace: a signature for something else does not verify here
ALLOWED_SIGNERS = "trust/allowed_signers"


def _ssh_keygen() -> str:
    from edgekit._lazy import require_program

    return require_program("ssh-keygen", purpose="Signing a bundle", package="openssh-client")


def check_key(key: Path) -> Path:
    """The signing key exists (checked before any packaging work)."""
    key = Path(key).expanduser()
    if not key.is_file():
        raise UsageError("The signing key does not exist.", got=f"--sign {key}",
                         tip="Name your SSH private key (e.g. ~/.ssh/id_ed25519), or its .pub when the key is in "
                         "ssh-agent.")
    _ssh_keygen()
    return key


def sign_manifest(manifest: bytes, key: Path) -> bytes:
    from edgekit._fs import scratch_directory

    with scratch_directory("edgekit-sign-") as tmp:
        path = tmp / "manifest.json"
        path.write_bytes(manifest)
        proc = subprocess.run([_ssh_keygen(), "-Y", "sign", "-f", str(key), "-n", NAMESPACE, str(path)],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise UsageError("ssh-keygen could not sign the bundle with that key.",
                             got=f"--sign {key}: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ''}",
                             tip="A key with a passphrase must be loaded in ssh-agent (ssh-add), then pass its .pub.")
        return (tmp / "manifest.json.sig").read_bytes()


def sign_bundle(bundle: Path, key: Path) -> None:
    """Add the signature of ``bundle``'s manifest to it (rewritten deterministically, atomically)."""
    from edgekit.bundle._tar import write_deterministic
    from edgekit.bundle.manifest import MANIFEST

    with tarfile.open(bundle, "r:gz") as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile() and m.name != SIGNATURE}
    files[SIGNATURE] = sign_manifest(files[MANIFEST], key)
    write_deterministic(bundle, files)


def check_allowed_signers(path: Path) -> Path:
    path = Path(path).expanduser()
    text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None
    if not text or not any(line.strip() and not line.startswith("#") for line in text.splitlines()):
        raise InputFileError("The allowed-signers file is missing or empty.", got=str(path),
                             tip='One line per trusted key: "you@example.com ssh-ed25519 AAAA..." (man ssh-keygen, '
                             "ALLOWED SIGNERS).")
    return path


def device_check_argv(release_dir: str, root: str) -> list[str]:
    """The device's own ssh-keygen checks an uploaded release's signature when the device trusts only some keys
    (exit 0 when it trusts any bundle)."""
    script = ('trust="$2/' + ALLOWED_SIGNERS + '"; [ -f "$trust" ] || exit 0; cd "$1" || exit 1; '
              f'[ -f {SIGNATURE} ] || {{ echo "the bundle is not signed" >&2; exit 1; }}; '
              f'who=$(ssh-keygen -Y find-principals -s {SIGNATURE} -f "$trust" | head -n 1) && [ -n "$who" ] || '
              '{ echo "no key in $trust made this signature" >&2; exit 1; }; '
              f'ssh-keygen -Y verify -f "$trust" -I "$who" -n {NAMESPACE} -s {SIGNATURE} < manifest.json')
    return ["sh", "-c", script, "edgekit", release_dir, root]
