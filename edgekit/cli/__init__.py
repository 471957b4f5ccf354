"""The `edgekit` command line. Commands live in their own modules and are imported only when used,
so `edgekit --help` never loads TensorFlow, ONNX Runtime or OpenVINO."""

from __future__ import annotations

import errno
import importlib
import logging
import sys

import click

from edgekit import __version__
from edgekit.errors import EdgekitError

# command name -> "module:function"
COMMANDS = {
    "bench": "edgekit.cli.bench:bench",
    "convert": "edgekit.cli.convert:convert",
    "doctor": "edgekit.cli.doctor:doctor",
    "emulate": "edgekit.cli.emulate:emulate",
    "explain": "edgekit.cli.explain:explain",
    "flash": "edgekit.cli.device:flash",
    "package": "edgekit.cli.device:package",
    "profile": "edgekit.cli.device:profile",
    "run": "edgekit.cli.device:run",
    "prune-sweep": "edgekit.cli.prune_sweep:prune_sweep",
    "report": "edgekit.cli.report:report",
    "targets": "edgekit.cli.info:targets",
    "zoo": "edgekit.cli.info:zoo",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name].split(":")
        return getattr(importlib.import_module(module), attr)

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            from edgekit.errors import did_you_mean

            if args and args[0] not in COMMANDS:
                raise click.UsageError(f"No such command '{args[0]}'.{did_you_mean(args[0], COMMANDS)}") from exc
            raise


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edgekit")
@click.option("--debug", is_flag=True, help="Show tracebacks and library logs.")
@click.option("--quiet", is_flag=True, help="No progress lines on stderr (results, warnings and errors still print).")
@click.pass_context
def cli(ctx: click.Context, debug: bool, quiet: bool) -> None:
    """edgekit: prune, quantize and verify neural networks for edge devices.

    \b
    edgekit targets                      the devices edgekit knows
    edgekit zoo                          the reference models
    edgekit convert face-id --target all convert + verify for every target
    edgekit report old/face-id build/face-id  what changed between two runs
    """
    ctx.obj = {"debug": debug, "quiet": quiet}
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


GLOBAL_FLAGS = ("--debug", "--quiet")


def with_global_flags_first(args: list[str]) -> list[str]:
    """Every TIP says "run again with --debug": accept it (and --quiet) anywhere before a `--`, as the group's
    option."""
    head = args[: args.index("--")] if "--" in args else args
    flags = [f for f in GLOBAL_FLAGS if f in head]
    rest = list(args)
    for f in flags:
        rest.remove(f)
    return [*flags, *rest]


# errors of writing an output (the disk filled, a mount went read-only): the user's to fix, not a bug
_WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


def main(argv: list[str] | None = None) -> None:
    args = with_global_flags_first(list(argv if argv is not None else sys.argv[1:]))
    debug = "--debug" in args[:len(GLOBAL_FLAGS)]
    try:
        cli.main(args=args, prog_name="edgekit", standalone_mode=False)
    except EdgekitError as exc:
        if debug:  # the traceback, and still the error's own exit code
            import traceback

            traceback.print_exc()
            sys.exit(exc.exit_code)
        click.secho(f"ERROR: {exc.message}", fg="red", err=True)
        if exc.tip:
            click.echo(f"TIP: {exc.tip}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except OSError as exc:
        if debug:
            raise
        if exc.errno not in _WRITE_ERRORS:
            _unexpected(exc)
        # checked up front (edgekit._fs.check_writable); this is the disk filling or a mount changing mid-run
        click.secho(f"ERROR: Cannot write or read {exc.filename or 'a file'}: {exc.strerror}.", fg="red", err=True)
        click.echo("TIP: Free space or fix the permissions (or choose another --out), then run again (finished "
                   "artifacts are kept; a half-written one was discarded).", err=True)
        sys.exit(2)
    except Exception as exc:  # an edgekit bug or an unexpected library failure
        if debug:
            raise
        _unexpected(exc)


def _unexpected(exc: Exception) -> None:
    # Framework messages can embed whole tensors: show the first line, bounded.
    first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), "")[:300]
    click.secho(f"ERROR: unexpected {type(exc).__name__}: {first}", fg="red", err=True)
    click.echo("TIP: run again with --debug for the traceback, and report it if it looks like a bug.", err=True)
    sys.exit(1)
