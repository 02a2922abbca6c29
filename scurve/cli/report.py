"""What a command did, said on stderr, and the exit code that follows from it.

Every command makes one :class:`Report`, does its work inside
``with report.catching(label):`` and ends with
``ctx.exit(report.return_code)``, as black's ``Report`` owns its exit code.
The report prints the one-line warnings and errors (``Warning: ...``,
``Error: ...``) and counts them:

- exit 0: done; warnings (a fit at a bound, singular or flat, dropped rows,
  clipped samples) do not change it;
- exit 1: the work could not be finished: a fit failed or did not converge,
  a single curve could not be fitted (:class:`scurve.errors.FitError`), a
  file could not be written (:class:`OutputError`);
- exit 2: a usage or input error (:class:`scurve.errors.InputError`, or a
  :class:`click.UsageError` raised by a command): nothing is done.

Usage errors found by click while parsing, before a command runs, are made one
line with exit code 2 by :class:`OneLineErrorGroup`.
"""

from __future__ import annotations

import itertools
import os
import warnings as python_warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click
from click.exceptions import NoArgsIsHelpError

from scurve.errors import FitError, InputError

__all__ = [
    "EXIT_CODES",
    "FAILED",
    "MAX_REPORTED",
    "OneLineErrorGroup",
    "OutputError",
    "Report",
    "group_text",
    "output_errors",
]

EXIT_CODES = """\b
Exit codes:
  0  success; every fit has status ok, at_bound, singular or flat (the
     last three are warned about on stderr)
  1  the work could not be finished: a fit failed or did not converge (a
     group's row is still written, with its status and message; a single
     curve that cannot be fitted at all, e.g. with fewer points than
     parameters, writes nothing), or a file could not be written
  2  usage or input error (unknown curve or model, missing file or column,
     a value that is not a number, bad --param ...); nothing is written
"""

#: Statuses that make a command exit 1; the others are warnings.
FAILED = ("failed", "not_converged")
#: Fits that are not ok reported one line each on stderr; the rest counted.
MAX_REPORTED = 10


class OutputError(Exception):
    """An output that could not be written (exit 1), in one line."""


def one_line(exc: click.UsageError) -> str:
    """A click usage error's message (usage, hint and message) in one line,
    with where to look for help when click knows the command."""
    message = " ".join(exc.format_message().split())
    if exc.ctx is not None:
        message += f" (see '{exc.ctx.command_path} --help')"
    return message


class _OneLineUsageError(click.ClickException):
    """A usage error as one line on stderr, exit code 2."""

    exit_code = 2


@contextmanager
def _one_line_usage_errors() -> Iterator[None]:
    try:
        yield
    except NoArgsIsHelpError:
        raise
    except click.UsageError as exc:
        raise _OneLineUsageError(one_line(exc)) from None


class OneLineErrorGroup(click.Group):
    """A click group whose usage errors are one line on stderr, exit code 2."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        with _one_line_usage_errors():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _one_line_usage_errors():
            return super().invoke(ctx)


@contextmanager
def output_errors(path: str | os.PathLike[str]) -> Iterator[None]:
    """A file that cannot be written, or a plot without matplotlib, as an
    :class:`OutputError` (exit 1) naming `path`; an output refused before
    writing (:class:`~scurve.errors.InputError`) stays an input error."""
    try:
        yield
    except ImportError as exc:
        raise OutputError(str(exc)) from None
    except OSError as exc:
        reason = exc.strerror or exc
        raise OutputError(f"could not write {os.fspath(path)!r}: {reason}") from None


def group_text(keys: Sequence[str], key: tuple) -> str:
    """``Herbicide=Bentazone``, comma-joined for several keys; a missing
    (empty) key is ``(empty)``, not ``nan``, which may be a key."""
    return ", ".join(f"{k}={key_text(v)}" for k, v in zip(keys, key, strict=True))


def key_text(value: Any) -> str:
    """A group key as text: ``(empty)`` when missing (None, NaN, pandas' NA)."""
    try:
        missing = value is None or bool(value != value)
    except TypeError:  # pandas' NA: neither equal nor unequal
        missing = True
    return "(empty)" if missing else str(value)


class Report:
    """What a command did: its warnings and errors, said once each on
    stderr as they come, and the exit code that follows.

    Attributes
    ----------
    finished : int
        Items finished: fits (ok or with a warning), files written.
    warned : int
        Warnings said.
    failed : int
        Items that could not be finished (exit 1).
    refused : int
        Usage or input errors (exit 2).

    Examples
    --------
    >>> report = Report()
    >>> report.return_code
    0
    >>> with report.catching("data.csv"):
    ...     raise FitError("3 points for 4 free parameters")
    >>> report.return_code
    1
    """

    def __init__(self) -> None:
        self.finished = 0
        self.warned = 0
        self.failed = 0
        self.refused = 0
        self._said: set[str] = set()

    @property
    def return_code(self) -> int:
        """2 after a usage or input error, 1 after a failure, else 0."""
        if self.refused:
            return 2
        return 1 if self.failed else 0

    # -- saying things ---------------------------------------------------------------

    def done(self, count: int = 1) -> None:
        """`count` more items finished."""
        self.finished += count

    def note(self, message: str) -> None:
        """Information on stderr (``wrote fits.csv``)."""
        click.echo(message, err=True)

    def wrote(self, path: str | os.PathLike[str], what: str = "") -> None:
        """A file was written: ``wrote PATH`` (and `what`) on stderr."""
        self.done()
        self.note(f"wrote {os.fspath(path)}" + (f" ({what})" if what else ""))

    def warn(self, message: str) -> None:
        """``Warning: MESSAGE`` on stderr, once per message (whitespace
        folded, so that a multi-line warning is one line)."""
        text = " ".join(str(message).split())
        if text in self._said:
            return
        self._said.add(text)
        self.warned += 1
        click.echo(f"Warning: {text}", err=True)

    def fail(self, message: str) -> None:
        """``Error: MESSAGE`` on stderr: the work could not be finished (exit 1)."""
        self.failed += 1
        click.echo(f"Error: {' '.join(str(message).split())}", err=True)

    def refuse(self, message: str) -> None:
        """``Error: MESSAGE`` on stderr: a usage or input error (exit 2)."""
        self.refused += 1
        click.echo(f"Error: {' '.join(str(message).split())}", err=True)

    def fits(
        self,
        label: str,
        keys: Sequence[str],
        problems: Iterable[tuple[tuple, str, str]],
        *,
        count: int,
        failed: int,
        total: int,
        joint: bool = False,
    ) -> None:
        """The fits whose status is not ok: one line each for the first
        :data:`MAX_REPORTED` (``Error:`` for a failure, ``Warning:`` for
        at_bound, singular, flat), then how many more.

        Parameters
        ----------
        label : str
            The data, as messages name it.
        keys : sequence of str
            The group key columns (none for a single curve).
        problems : iterable of (key, status, message)
            The fits that are not ok, in order; only the first few are read.
        count, failed, total : int
            How many fits are not ok, how many of them failed or did not
            converge, how many there are.
        joint : bool
            One joint fit (shared parameters): its one status is said once.
        """
        if joint:
            count, failed = min(count, 1), min(failed, 1)
        shown = list(itertools.islice(problems, min(count, MAX_REPORTED)))
        for key, status, message in shown:
            kind = "Error" if status in FAILED else "Warning"
            where = label
            if joint:
                where += ": joint fit"
            elif keys:
                where += f": group {group_text(keys, key)}"
            click.echo(f"{kind}: {where}: {status}: {message}", err=True)
        if count > len(shown):
            click.echo(
                f"Warning: {label}: {count - len(shown)} more fits are not ok; "
                "see the status column",
                err=True,
            )
        self.failed += failed
        self.warned += count - failed
        self.done(total - failed)

    @contextmanager
    def warnings(self) -> Iterator[None]:
        """Python warnings raised by the work inside, said once each when it
        is done (:meth:`warn`)."""
        with python_warnings.catch_warnings(record=True) as caught:
            python_warnings.simplefilter("always")
            yield
        for record in caught:
            self.warn(str(record.message))

    # -- catching what stops the work ------------------------------------------------

    @contextmanager
    def catching(self, label: str | None = None) -> Iterator[None]:
        """Do the work of a command; what stops it is said in one line and
        counted, and the ``with`` block ends there (nothing after the error
        in it runs):

        - :class:`click.UsageError`, :class:`~scurve.errors.InputError`:
          refused (exit 2);
        - :class:`~scurve.errors.FitError`: failed (exit 1), prefixed with
          `label` (the data);
        - :class:`OutputError`: failed (exit 1);
        - :class:`OSError`: failed (exit 1), naming its file or `label`.
        """
        try:
            yield
        except click.UsageError as exc:
            self.refuse(one_line(exc))
        except InputError as exc:
            self.refuse(str(exc))
        except FitError as exc:
            self.fail(f"{label}: {exc}" if label else str(exc))
        except OutputError as exc:
            self.fail(str(exc))
        except OSError as exc:
            where = exc.filename or label
            reason = exc.strerror or exc
            self.fail(f"{where}: {reason}" if where else str(reason))
