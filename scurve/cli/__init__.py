"""The ``scurve`` command line: a thin layer over the public API.

One click group, :func:`main`, with the commands of its modules:
:mod:`~scurve.cli.catalog` (``curves``, ``eval``, ``models``),
:mod:`~scurve.cli.fitting` (``fit``, ``compare``, ``predict``; large screens
in :mod:`~scurve.cli.screens`) and :mod:`~scurve.cli.audio` (``shape``,
``analyze``, ``fit-shaper``). Each command's exit code is its
:class:`~scurve.cli.report.Report`'s.

Importing this package must stay cheap, because every command pays for it: a
command's module is imported only when that command runs (or help lists
them all), and the command modules import click and the standard library,
and what a command needs when it runs. Neither scipy, pandas, lmfit nor
matplotlib is loaded to print help
(``tests/test_cli.py::test_help_imports_nothing_heavy``).
"""

from __future__ import annotations

import importlib

import click

import scurve
from scurve.cli.report import EXIT_CODES, OneLineErrorGroup

__all__ = ["COMMANDS", "main"]

#: Command name -> the module of scurve.cli that declares it (in its
#: ``COMMANDS``).
COMMANDS = {
    "curves": "catalog",
    "eval": "catalog",
    "models": "catalog",
    "fit": "fitting",
    "compare": "fitting",
    "predict": "fitting",
    "potency": "potency",
    "calibrate": "calibrate",
    "shape": "audio",
    "analyze": "audio",
    "fit-shaper": "audio",
}


class CommandGroup(OneLineErrorGroup):
    """The ``scurve`` group, importing a command's module when it is run
    (click's lazy group): ``scurve shape`` does not load the fitting
    commands, nor ``scurve fit`` the audio ones."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module = importlib.import_module(f"scurve.cli.{COMMANDS[cmd_name]}")
        return next(c for c in module.COMMANDS if c.name == cmd_name)


@click.group(
    cls=CommandGroup,
    epilog=EXIT_CODES,
    context_settings={"max_content_width": 100},
)
@click.version_option(scurve.__version__, prog_name="scurve")
def main() -> None:
    """scurve: S-curves done right.

    One numerically stable sigmoid core for growth, dose-response, innovation
    diffusion and audio waveshaping. Results go to stdout, diagnostics to
    stderr.
    """
