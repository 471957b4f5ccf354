"""`edgekit doctor`: what this machine has, what each missing piece is for, and the command that installs it."""

from __future__ import annotations

import json

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
@click.option("--debian-packages", is_flag=True,
              help="Print only the missing Debian packages, space-separated (what `make test` installs).")
def doctor(as_json, debian_packages):
    """Check this machine for everything edgekit uses: converters, runtimes, the zoo's data, device and emulator
    tools. Imports no framework, so it answers in about a second."""
    from edgekit.doctor import examine, missing_debian_packages
    from edgekit.reporting.summary import format_table

    if debian_packages:
        click.echo(" ".join(missing_debian_packages()))
        return
    result = examine()
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    rows = [[f["group"], f["name"], f["found"] or "MISSING", f["used_for"], "" if f["found"] else f["install"]]
            for f in result["findings"]]
    click.echo(format_table(["part", "needs", "found", "for", "install"], rows))
    ok = [t for t, yes in result["targets_verifiable"].items() if yes]
    not_ok = [t for t, yes in result["targets_verifiable"].items() if not yes]
    click.echo(f"\ntargets verifiable here: {', '.join(ok) or 'none'}"
               + (f"; not: {', '.join(not_ok)} (their runtime is missing)" if not_ok else ""))
    if not result["root"]:
        click.echo("not root: `edgekit emulate` needs root (chroot, mounts, binfmt_misc)")
    if result["missing"]:
        click.echo(f"\n{len(result['missing'])} missing. To install them:")
        for command in result["install"]:
            click.echo(f"  {command}")
    else:
        click.echo("\nnothing missing")
