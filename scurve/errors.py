"""The two errors scurve raises for what a user can fix.

This module imports nothing, so that any floor of the package (the audio
commands among them) can raise and catch them without loading the fitting
engine. The command line maps them to its exit codes: an :class:`InputError`
is a usage or input error (exit 2), a :class:`FitError` a curve that cannot
be fitted (exit 1 for a single curve; a ``failed`` row in a table of
groups).
"""

__all__ = ["FitError", "InputError"]


class InputError(ValueError):
    """Bad input: a one-line message naming the file, column, row or value.

    The command line reports it on stderr and exits with status 2.
    """


class FitError(ValueError):
    """A curve that cannot be fitted (too few points, constant data, ...).

    The message says why in plain words; the command line exits 1 for it.
    """
