"""What every command shares: an option per process setting, and the one-line failure.

Apart from cli.py so the command modules (log_commands, csp_command, chain_commands, …)
import it without importing the command group that imports them.
"""

from __future__ import annotations

import dataclasses
import sys

import click

from .settings import Settings, declared, env_name

SECRET_SETTINGS = {f.name for f in dataclasses.fields(Settings) if f.metadata["secret"]}


def settings_options(*names: str):
    """Click options for the named settings, each also read from GATEKEEPER_<NAME>."""

    def decorate(command):
        for name, default, help_text in reversed([d for d in declared() if d[0] in names]):
            flag = f"--{name.replace('_', '-')}"
            # A yes/no setting is a plain switch: `--qa-fixtures`, `--no-qa-fixtures`.
            flags = (f"{flag}/--no-{flag[2:]}",) if isinstance(default, bool) else (flag,)
            command = click.option(
                *flags,
                name,
                envvar=env_name(name),
                default=default,
                type=type(default),
                show_default=name not in SECRET_SETTINGS and default != "",
                show_envvar=True,
                help=help_text,
            )(command)
        return command

    return decorate


def fail(message: str) -> None:
    click.secho(f"gatekeeper: {message}", fg="red", err=True)
    sys.exit(1)
