"""Click callbacks for paths a command writes to: checked while the arguments are read, before any heavy work
(a read-only --out was found after a 68 s conversion)."""

from __future__ import annotations


def writable_directory(ctx, param, value):
    """An output directory option: creatable and writable, with room left (edgekit._fs.check_writable)."""
    from edgekit._fs import check_writable

    if value is not None and not ctx.resilient_parsing:
        check_writable(value, "--" + param.name.replace("_dir", "").replace("_", "-"))
    return value
