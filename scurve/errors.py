"""The errors scurve raises for what a user can fix.

This module imports nothing, so that any floor of the package (the audio
commands among them) can raise and catch them without loading the fitting
engine. The command line maps them to its exit codes: an :class:`InputError`
is a usage or input error (exit 2), an :class:`OptionError` (an input error)
names the option refused, and a :class:`FitError` is a curve that cannot be
fitted (exit 1 for a single curve; a ``failed`` row in a table of
groups).
"""

__all__ = ["FitError", "InputError", "OptionError"]


class InputError(ValueError):
    """Bad input: a one-line message naming the file, column, row or value.

    The command line reports it on stderr and exits with status 2.
    """


class FitError(ValueError):
    """A curve that cannot be fitted (too few points, constant data, ...).

    The message says why in plain words; the command line exits 1 for it.
    """


class OptionError(InputError, FitError):
    """An option of a fit that cannot apply: an unknown parameter in ``fix``,
    a bad ``level``, quantal data for a curve that is not a probability ...

    It is an input error (the command line exits 2) and, for callers that
    catch what keeps a fit from being made, a :class:`FitError`.
    ``str(error)`` is ``"option: reason"``; the command line names its flag
    instead (``Invalid value for '--fix': ...``) from :attr:`option` and
    :attr:`reason`.
    """

    def __init__(self, option: str, reason: str) -> None:
        super().__init__(f"{option}: {reason}")
        self.option = option
        self.reason = reason
