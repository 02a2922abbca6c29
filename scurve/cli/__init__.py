"""The ``scurve`` command line: a thin layer over the public API.

One click group, :func:`main`, with the commands of its modules:
:mod:`~scurve.cli.catalog` (``curves``, ``eval``, ``models``),
:mod:`~scurve.cli.fitting` (``fit``, ``compare``, ``predict``; large screens
in :mod:`~scurve.cli.screens`) and :mod:`~scurve.cli.audio` (``shape``,
``analyze``, ``fit-shaper``). Each command's exit code is its
:class:`~scurve.cli.report.Report`'s.

Importing this package must stay cheap, because ``scurve --help`` pays for
it: the command modules import click and the standard library, and what a
command needs when it runs. Neither scipy, pandas, lmfit nor matplotlib is
loaded to print help (``tests/test_cli.py::test_help_imports_nothing_heavy``).
"""

from __future__ import annotations

import click

import scurve
from scurve.cli import audio, catalog, fitting
from scurve.cli.report import EXIT_CODES, OneLineErrorGroup

__all__ = ["main"]


@click.group(
    cls=OneLineErrorGroup,
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


for command in (*catalog.COMMANDS, *fitting.COMMANDS, *audio.COMMANDS):
    main.add_command(command)
