"""Plots of the S-curve family; the only module of scurve that imports matplotlib.

matplotlib is imported inside the functions, on first use, so that importing
scurve (and running ``scurve --help``) never pays for it, and scurve works
without it until a plot is asked for. When no display is available and no
backend has been chosen, the non-interactive Agg backend is selected; inside
Jupyter the notebook's own backend is left alone.

Figures are written atomically by :func:`save_figure`: a crash or a full disk
leaves either the previous file or none, never a half-written one.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from scurve import shapes
from scurve.io import atomic_write

if TYPE_CHECKING:
    from types import ModuleType

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from scurve.shapes import Curve

__all__ = ["plot_shapes", "save_figure"]

Form = Literal["native", "odd", "unit"]

#: Default abscissae (start, stop, count): every curve of the family saturates.
DEFAULT_X = (-5.0, 5.0, 1001)


def _matplotlib() -> ModuleType:
    """Import matplotlib, or raise an ImportError saying how to install it."""
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError(
            "plotting needs matplotlib, which is not installed; "
            "install it with 'pip install matplotlib'"
        ) from exc
    return matplotlib


def _no_display() -> bool:
    """True when no GUI window can open and nobody has chosen a backend."""
    if os.environ.get("MPLBACKEND") or "ipykernel" in sys.modules:
        return False
    if sys.platform in ("darwin", "win32"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _pyplot() -> ModuleType:
    """matplotlib.pyplot, on the Agg backend when there is no display."""
    matplotlib = _matplotlib()
    if "matplotlib.pyplot" not in sys.modules and _no_display():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _curves(names: str | Iterable[str] | None, form: Form) -> list[tuple[str, Curve]]:
    """(shape name, curve) pairs to draw, in registry order when `names` is None.

    Shapes without the requested form are skipped when `names` is None and
    rejected when they were asked for by name.
    """
    if form not in ("native", "odd", "unit"):
        raise ValueError(f"form must be 'native', 'odd' or 'unit', not {form!r}")
    if isinstance(names, str):
        names = [names]
    if names is None:
        chosen = [
            (name, getattr(shape, form)) for name, shape in shapes.REGISTRY.items()
        ]
        return [(name, curve) for name, curve in chosen if curve is not None]
    pairs = []
    for name in names:
        try:
            shape = shapes.get(name)
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        pairs.append((shape.name, shape.form(form)))
    return pairs


def plot_shapes(
    names: str | Iterable[str] | None = None,
    form: Form = "native",
    x: ArrayLike | None = None,
    ax: Axes | None = None,
    derivative: bool = False,
) -> Axes:
    """Draw S-curves of :data:`scurve.shapes.REGISTRY` on one set of axes.

    Parameters
    ----------
    names : str or iterable of str, optional
        Curves to draw, by registry name (``"hard-clip"`` is accepted for
        ``"hard_clip"``). Default: every curve that has the requested `form`.
    form : {"native", "odd", "unit"}, optional
        Which form of each shape to draw: ``"odd"`` has range (-1, 1) and
        slope 1 at 0, ``"unit"`` has range (0, 1), ``"native"`` is each
        shape's conventional form. Default ``"native"``.
    x : array_like, optional
        Abscissae. Default: 1001 points evenly spaced on [-5, 5].
    ax : matplotlib.axes.Axes, optional
        Axes to draw on. Default: new axes on a new pyplot figure.
    derivative : bool, optional
        Draw the derivatives instead of the curves. Default False.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with one line per curve and a legend naming them.

    Raises
    ------
    ValueError
        If a name is not in the registry, a named shape has no such `form`,
        or `form` is not one of the three.
    ImportError
        If matplotlib is not installed.

    See Also
    --------
    save_figure : write the figure (``ax.figure``) atomically.
    scurve.shapes.REGISTRY : the curves drawn.

    Examples
    --------
    >>> from scurve.plotting import plot_shapes
    >>> ax = plot_shapes(["logistic", "gompertz"], form="unit")
    >>> [line.get_label() for line in ax.get_lines()]
    ['logistic', 'gompertz']
    """
    curves = _curves(names, form)
    xs = np.linspace(*DEFAULT_X) if x is None else np.asarray(x, dtype=np.float64)
    if ax is None:
        _, ax = _pyplot().subplots(figsize=(8.0, 5.0), layout="constrained")
    # The family outnumbers the default colour cycle: once the colours run
    # out, start again dashed, so that no two curves look alike.
    cycle = _matplotlib().rcParams["axes.prop_cycle"].by_key()
    n_colours = len(cycle.get("color", ())) or 1
    for i, (name, curve) in enumerate(curves):
        ys = curve.derivative(xs) if derivative else curve.value(xs)
        linestyle = ("-", "--", "-.", ":")[i // n_colours % 4]
        ax.plot(xs, ys, label=name, linestyle=linestyle)
    ax.set_xlabel("x")
    ax.set_ylabel("f'(x)" if derivative else "f(x)")
    what = "Derivatives of S-curves" if derivative else "S-curves"
    ax.set_title(f"{what}, {form} form")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    return ax


def plot_family(
    forms: Iterable[Literal["odd", "unit"]] = ("odd", "unit"),
    x: ArrayLike | None = None,
) -> Figure:
    """The whole family: one row per form, curves on the left, slopes on the right.

    Odd forms (range (-1, 1), slope 1 at 0) and unit forms (range (0, 1))
    live on different scales, so each gets its own row.

    Parameters
    ----------
    forms : iterable of {"odd", "unit"}, optional
        The rows, top to bottom. Default both.
    x : array_like, optional
        Abscissae. Default: 1001 points evenly spaced on [-5, 5].

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from scurve.plotting import plot_family
    >>> fig = plot_family()
    >>> [ax.get_title() for ax in fig.axes]  # doctest: +NORMALIZE_WHITESPACE
    ['S-curves, odd form', 'Derivatives of S-curves, odd form',
     'S-curves, unit form', 'Derivatives of S-curves, unit form']
    """
    forms = list(forms)
    fig, axes = _pyplot().subplots(
        len(forms),
        2,
        figsize=(12.0, 4.0 * len(forms)),
        layout="constrained",
        squeeze=False,
    )
    for row, form in zip(axes, forms, strict=True):
        plot_shapes(form=form, x=x, ax=row[0])
        plot_shapes(form=form, x=x, ax=row[1], derivative=True)
        row[0].get_legend().remove()
    return fig


def save_figure(fig: Figure, path: str | os.PathLike[str], **savefig: Any) -> Path:
    """Write `fig` to `path` atomically, in the format named by its extension.

    The figure is written with :func:`scurve.io.atomic_write`: to a temporary
    file in the same directory, flushed to disk, then moved over `path` with
    :func:`os.replace`; on any error the temporary file is removed and an
    existing `path` is left untouched.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure, e.g. ``ax.figure`` of :func:`plot_shapes`.
    path : str or os.PathLike
        Destination; its extension (``.png``, ``.pdf``, ``.svg``, or any other
        format matplotlib writes) chooses the format.
    **savefig
        Passed to :meth:`matplotlib.figure.Figure.savefig` (``dpi`` ...).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        If the extension names no format matplotlib can write.
    OSError
        If the file cannot be written (missing directory, permissions, a
        directory in the way ...).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from scurve.plotting import plot_shapes, save_figure
    >>> ax = plot_shapes(["tanh"])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save_figure(ax.figure, pathlib.Path(tmp) / "tanh.svg").stat().st_size > 0
    True
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{str(path)!r} is a directory")
    fmt = path.suffix[1:].lower()
    formats = fig.canvas.get_supported_filetypes()
    if fmt not in formats:
        raise ValueError(
            f"cannot tell which format to write {str(path)!r} in: give it one "
            f"of the extensions {', '.join('.' + f for f in sorted(formats))}"
        )
    if not path.parent.is_dir():
        # An OSError, as documented (atomic_write would raise an InputError).
        raise FileNotFoundError(
            errno.ENOENT, os.strerror(errno.ENOENT), str(path.parent)
        )
    with atomic_write(path, "wb") as stream:
        fig.savefig(stream, format=fmt, **savefig)
    return path
