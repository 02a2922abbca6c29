r"""The fitting engine: one way to fit, report uncertainty and compare models.

Every model in :mod:`scurve.models` is an :class:`SCurveModel`, an
:class:`lmfit.Model` with parameter hints, derived quantities and a
self-starting :meth:`~SCurveModel.guess`. :func:`fit_curve` fits one curve and
returns a :class:`FitResult`, which *is* an :class:`lmfit.model.ModelResult`
(``fit_report``, ``conf_interval``, ``eval_uncertainty`` keep working) with:

* a parameter table (value, stderr, lower, upper) at a chosen level, with
  intervals by the delta method (t-based, as R's drc) or by profiling the
  residual sum of squares (asymmetric, as GraphPad Prism);
* confidence and prediction bands for the curve;
* fit statistics (n, dof, rss, rmse, sigma, r2, aic, aicc, bic);
* ``converged`` and a plain-words ``status``/``message``: a fit that hit a
  bound, did not converge or has a singular covariance says so.

:func:`fit_groups` fits every group of a table, independently or with some
parameters shared across groups (one joint least-squares problem with the
joint covariance). :func:`compare` and :func:`f_test` compare models.

Statistics
----------
With weights :math:`w_i` multiplying the residuals (lmfit's convention),
:math:`\mathrm{rss} = \sum w_i^2 (y_i - f(x_i))^2`, the residual standard
error is :math:`s = \sqrt{\mathrm{rss}/\nu}` with :math:`\nu = n - p` and the
Gaussian log-likelihood, with the variance estimated,

.. math:: \ell = -\tfrac{n}{2}\left(\log 2\pi + \log(\mathrm{rss}/n) + 1\right)
          + \textstyle\sum \log w_i

so that AIC :math:`= -2\ell + 2k`, BIC :math:`= -2\ell + k \log n` and
AICc :math:`= \mathrm{AIC} + 2k(k+1)/(n-k-1)` with :math:`k = p + 1` (the
variance counts), exactly as R's ``AIC()`` and ``BIC()`` of an ``nls`` fit.

References
----------
.. [1] D. M. Bates, D. G. Watts, *Nonlinear Regression Analysis and Its
   Applications*, Wiley, 1988 (profile intervals, ch. 6).
.. [2] C. Ritz, F. Baty, J. C. Streibig, D. Gerhard, "Dose-Response Analysis
   Using R", PLoS ONE 10:e0146021, 2015 (drc).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import lmfit
import numpy as np
import pandas as pd
from lmfit.model import ModelResult
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

from scurve.core import stacked
from scurve.errors import FitError

#: ``jacobian(values)`` -> the Jacobian ``(b, n, k)`` of the weighted
#: residuals of a stack of ``(b, k)`` parameter vectors
#: (:func:`derivative_hessian`).
Jacobian = Callable[[NDArray[np.float64]], NDArray[np.float64]]

#: The steps of the Hessians of the sums of squares (:func:`numeric_hessian`,
#: :func:`derivative_hessian`), relative to the standard errors from J'J:
#: small enough that the differences' truncation error stays below the
#: printed digits (about 1e-7 of H), large enough that rounding does too.
HESSIAN_STEP = 1e-3

__all__ = [
    "LEVEL",
    "FitError",
    "FitResult",
    "GroupFits",
    "SCurveModel",
    "compare",
    "f_test",
    "fit",
    "fit_curve",
    "fit_groups",
]

#: Default confidence level of intervals and bands.
LEVEL = 0.95

CI = Literal["delta", "profile", "none"]
Status = Literal["ok", "at_bound", "singular", "flat", "not_converged", "failed"]
#: A fit whose curve explains no more than a constant at this significance
#: (F test) is ``flat``: no S-curve in the data (a well that did not grow).
FLAT_P = 0.01


# ---------------------------------------------------------------------- model


class SCurveModel(lmfit.Model):
    """Base of every scurve model: an :class:`lmfit.Model` that knows its curve.

    A subclass sets

    ``name``
        the registry name (``scurve models`` lists them);
    ``formula``
        the curve in plain text;
    ``hints``
        parameter hints, ``{param: {"min": ..., "max": ..., "value": ...}}``;
    ``derived``
        derived quantities as lmfit expressions of the parameters,
        ``{name: expr}``: they get standard errors and intervals like the
        parameters;

    implements :meth:`function` (pure, vectorized, built on
    :mod:`scurve.core.special` / :mod:`scurve.core.shapes`) and :meth:`guess` (a
    self-start needing no user input on ordinary data).
    """

    name: ClassVar[str] = ""
    formula: ClassVar[str] = ""
    hints: ClassVar[Mapping[str, Mapping[str, float]]] = {}
    derived: ClassVar[Mapping[str, str]] = {}
    #: Draw x on a log axis (dose-response).
    log_x: ClassVar[bool] = False
    #: How standard errors are computed: ``"jacobian"`` (lmfit's
    #: :math:`s^2 (J^T J)^{-1}`) or ``"hessian"`` (:math:`2 s^2 H^{-1}` with
    #: :math:`H` the full Hessian of the residual sum of squares, as R's drc).
    covariance: ClassVar[Literal["jacobian", "hessian"]] = "jacobian"
    #: Derived quantities of one parameter whose delta-method interval is
    #: that parameter's interval mapped through the expression (``ec50`` from
    #: ``log_ec50``: asymmetric, always positive).
    mapped_intervals: ClassVar[frozenset[str]] = frozenset()
    #: Extra keywords for the optimizer (leastsq's ``xtol``, ``ftol``).
    solver_options: ClassVar[Mapping[str, float]] = {}
    #: Parameters :math:`\beta_l` of which the curve is a linear combination,
    #: :math:`f = \sum_l \beta_l \, \partial f / \partial \beta_l` (the
    #: 4PL's bottom and top): the sum of squares is quadratic along them,
    #: which :func:`derivative_hessian` uses (with :meth:`partials`).
    linear_params: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, log_y: bool = False, **kws: Any) -> None:
        self.log_y = bool(log_y)
        kws.setdefault("independent_vars", ["x"])
        kws.setdefault("name", self.name)
        super().__init__(self.function, **kws)
        for param, hint in self.hints.items():
            self.set_param_hint(param, **hint)
        for quantity, expr in self.derived.items():
            self.set_param_hint(quantity, expr=expr)

    def make_params(self, verbose: bool = False, **kwargs: Any) -> lmfit.Parameters:
        """lmfit's parameters, whose expressions also know ``expit``,
        ``softplus`` and the data span ``x_min``, ``x_max`` (NaN until
        :func:`add_symbols` sets them from the data)."""
        params = super().make_params(verbose=verbose, **kwargs)
        add_symbols(params, np.array([math.nan]))
        return params

    def function(self, x: NDArray[np.float64], *args: float) -> NDArray[np.float64]:
        """The curve; subclasses define it with named parameters."""
        raise NotImplementedError

    def guess(  # type: ignore[override]
        self, data: ArrayLike, x: ArrayLike, **kws: Any
    ) -> lmfit.Parameters:
        """Self-starting parameter values from the data."""
        raise NotImplementedError

    def check_fit(self, result: FitResult) -> None:
        """Raise :class:`FitError` if a converged fit's values cannot be
        trusted for a reason the model knows (an EC50 outside the doses);
        nothing by default."""

    def partials(
        self, x: NDArray[np.float64], **values: Any
    ) -> dict[str, NDArray[np.float64]] | None:
        r"""The curve's derivatives :math:`\partial f / \partial \theta` at
        `x`, one per parameter of :attr:`curve_params` (broadcasting as
        :meth:`function` does, so over a stack of curves too), or None
        where the model has none (the default).

        The fast path (:mod:`scurve.batch`) iterates with them instead of
        forward differences, and takes its standard errors from them where
        no parameter is bounded (elsewhere from lmfit's forward-difference
        Jacobian at the solution, as the lmfit path).
        """
        return None

    @property
    def label(self) -> str:
        """The model's name as shown in tables and plots."""
        return self.name + self.log_suffix

    @property
    def log_suffix(self) -> str:
        """``" (log y)"`` for a model fitted on the log scale, else ``""``."""
        return " (log y)" if self.log_y else ""

    def scale(self, values: ArrayLike) -> NDArray[np.float64]:
        """Responses on the scale the residuals are taken: ``log(values)``
        with ``log_y`` (non-positive values give -inf), else `values`."""
        values = np.asarray(values, dtype=np.float64)
        if not self.log_y:
            return values
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(np.where(values > 0, values, 0.0))

    def _residual(
        self,
        params: lmfit.Parameters,
        data: NDArray[np.float64],
        weights: NDArray[np.float64] | None,
        **kwargs: Any,
    ) -> NDArray[np.float64]:
        """lmfit's ``(data - model) * weights``, on the log scale with ``log_y``
        (a curve value <= 0 counts as the smallest positive float)."""
        if not self.log_y:
            return super()._residual(params, data, weights, **kwargs)
        curve = np.maximum(self.eval(params, **kwargs), np.finfo(np.float64).tiny)
        diff = self.scale(data) - np.log(curve)
        return diff if weights is None else diff * weights

    @property
    def curve_params(self) -> list[str]:
        """The curve's own parameters, in order (lmfit's ``param_names`` also
        lists the derived quantities once they have hints)."""
        return [n for n in self.param_names if n not in self.derived]

    @property
    def options(self) -> dict[str, Any]:
        """Keyword options that rebuild this model with
        :func:`scurve.models.get_model` (``{"shape": "erf"}`` for sigmoid,
        ``{"log_y": True}`` for a fit on the log scale); subclasses add theirs
        to ``super().options``."""
        return {"log_y": True} if self.log_y else {}

    def describe(self) -> dict[str, Any]:
        """Parameters with bounds, the formula and derived quantities."""
        params = self.make_params()
        return {
            "model": self.label,
            "formula": self.formula,
            "parameters": {
                n: {"min": params[n].min, "max": params[n].max}
                for n in self.curve_params
            },
            "derived": dict(self.derived),
        }


# ---------------------------------------------------------------------- result


@dataclass
class _Assessment:
    converged: bool
    status: Status
    message: str


class _JSONReport:
    """``to_dict()`` for anything with a model, a table, stats and a status."""

    model: SCurveModel
    table: pd.DataFrame
    stats: dict[str, float]
    converged: bool
    status: Status
    message: str
    level: float
    ci: CI

    def _covariance(self) -> tuple[list[str], NDArray[np.float64]] | None:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """Everything in JSON-ready types: parameters and derived quantities
        with intervals, statistics, status, the model's name and options, and
        the covariance of the varied parameters (NaN as null, infinities as
        "inf"), enough to rebuild the curve and its band."""
        return _result_dict(
            self.model,
            self._covariance(),
            self.table,
            self.stats,
            self.converged,
            self.status,
            self.message,
            self.level,
            self.ci,
        )


class FitResult(_JSONReport, ModelResult):
    """The result of one fit: an :class:`lmfit.model.ModelResult` and more.

    Attributes
    ----------
    level : float
        Confidence level of :attr:`table` and of bands (default 0.95).
    ci : {"delta", "profile", "none"}
        How :attr:`table` computes intervals.
    converged : bool
        The optimizer reported convergence to finite values.
    status : {"ok", "at_bound", "singular", "flat", "not_converged", "failed"}
    message : str
        What the status means for this fit, in plain words (lmfit's own
        optimizer message is kept as ``optimizer_message``).

    Notes
    -----
    A new result is returned by every fit; the input data are not modified.
    """

    level: float = LEVEL
    ci: CI = "delta"

    converged: bool = False
    status: Status = "failed"

    def fit(self, *args: Any, **kws: Any) -> None:
        super().fit(*args, **kws)
        self._update_covariance()
        self._table_cache: dict[tuple[float, str], pd.DataFrame] = {}
        self.optimizer_message = self.message
        verdict = _assess(
            self.params,
            self.success,
            self.message,
            self.errorbars,
            self.covar,
            self.nfev,
            self.best_fit,
            aborted=bool(getattr(self, "aborted", False)),
            exact=bool(self.chisqr <= 1e-28 * np.sum(np.square(self.data))),
        )
        self.converged, self.status, self.message = (
            verdict.converged,
            verdict.status,
            verdict.message,
        )
        flat = self._no_signal() if self.converged else ""
        if flat:
            self.status, self.message = "flat", flat

    def _update_covariance(self) -> None:
        """After the optimizer: the model's own covariance if it asks for one
        (``covariance = "hessian"``); robust fits override this."""
        if self.model.covariance == "hessian":
            self._hessian_covariance()

    def _no_signal(self) -> str:
        """Why the curve is no better than a constant (:func:`no_signal`), or
        ``""``; a likelihood other than least squares tests its own way, and
        a model that minimizes its own residuals (``bass`` with estimator
        ``ols`` or ``ml``) tests them with its ``no_signal(result)``."""
        own = getattr(self.model, "no_signal", None)
        if own is not None:
            return own(self)
        return no_signal(self.stats, self.nvarys)

    def _dispersion(self) -> float:
        """The variance scale of the covariance: :math:`s^2` for least
        squares (a likelihood with a known scale returns 1)."""
        return self.chisqr / self.nfree

    def _hessian_covariance(self) -> None:
        """Replace lmfit's covariance by :math:`2 s^2 H^{-1}`, :math:`H` the
        Hessian of the residual sum of squares (steps of
        :data:`HESSIAN_STEP` of lmfit's standard errors): from the model's
        derivatives (:func:`derivative_hessian`) where it has them and no
        parameter is within a step of a bound, else by central differences
        (:func:`numeric_hessian`); kept as is if H is not positive definite
        (:func:`hessian_covariance`)."""
        if self.covar is None or not self.errorbars or self.nfree <= 0:
            return
        names = list(self.var_names)
        trial = self.params.copy()
        start = np.array([[trial[n].value for n in names]])
        steps = HESSIAN_STEP * np.sqrt(np.diag(self.covar))[None, :]
        if not np.all(np.isfinite(steps) & (steps > 0)):
            return

        def residual(stack: NDArray[np.float64]) -> NDArray[np.float64]:
            for n, v in zip(names, stack[0], strict=True):
                trial[n].value = float(v)  # Python's 10**v overflows loudly
            return self.model._residual(trial, self.data, self.weights, **self.userkws)

        def rss(stack: NDArray[np.float64]) -> NDArray[np.float64]:
            r = residual(stack)
            try:  # a derived expression may overflow (10**log_ec50)
                trial.update_constraints()
            except (RuntimeError, OverflowError):
                return np.array([math.nan])
            return np.array([np.dot(r, r)])

        columns = linear_columns(self.model, names)
        lower = np.array([[trial[n].min for n in names]], dtype=np.float64)
        upper = np.array([[trial[n].max for n in names]], dtype=np.float64)
        near = near_bound(start, steps, lower, upper)[0]
        if columns is None or near or not set(names) <= set(self.model.curve_params):
            hess = numeric_hessian(rss, start, steps)
        else:
            x, w, every = self.userkws["x"], self.weights, self.model.curve_params

            def jacobian(stack: NDArray[np.float64]) -> NDArray[np.float64]:
                values = {n: trial[n].value for n in every}
                values |= dict(zip(names, stack[0], strict=True))
                d = self.model.partials(x, **values)
                jac = np.stack([np.broadcast_to(d[n], np.shape(x)) for n in names], -1)
                return (jac if w is None else jac * np.reshape(w, (-1, 1)))[None]

            r = -residual(start)[None]  # model - data, as the partials' sign
            hess = derivative_hessian(jacobian, start, steps, r, columns)
        covar, used = hessian_covariance(
            hess, self.covar[None], np.array([True]), np.array([self._dispersion()])
        )
        if used[0]:
            self._set_covariance(names, covar[0])

    def _set_covariance(self, names: Sequence[str], covar: NDArray[np.float64]) -> None:
        """Use `covar` (of the varied parameters `names`) for the standard
        errors, correlations and uncertainties of every parameter and derived
        quantity, in place of lmfit's."""
        self.covar = covar
        sd = np.sqrt(np.abs(np.diag(covar)))
        for i, n in enumerate(names):
            par = self.params[n]
            par.stderr = float(sd[i])
            par.correl = {
                m: float(covar[i, j] / (sd[i] * sd[j]))
                for j, m in enumerate(names)
                if j != i
            }
        self.uvars = self.params.create_uvars(covar=covar)

    @property
    def x(self) -> NDArray[np.float64]:
        """The independent variable the model was fitted to."""
        return np.asarray(self.userkws["x"], dtype=np.float64)

    # -- statistics ----------------------------------------------------------

    @property
    def stats(self) -> dict[str, float]:
        """n, dof, rss, rmse, sigma (residual standard error), r2, loglik, aic,
        aicc, bic; see the module docstring for the formulas."""
        return _statistics(
            self.data, self.best_fit, self.weights, self.nvarys, self.model
        )

    # -- parameters and intervals -------------------------------------------

    @property
    def table(self) -> pd.DataFrame:
        """Parameters and derived quantities at :attr:`level` by :attr:`ci`."""
        return self.intervals()

    def intervals(
        self, level: float | None = None, ci: CI | None = None
    ) -> pd.DataFrame:
        """Table of value, stderr, lower, upper, vary and kind per quantity.

        Parameters
        ----------
        level : float, optional
            Confidence level; default :attr:`level`.
        ci : {"delta", "profile", "none"}, optional
            ``delta``: value +/- t(dof) stderr. ``profile``: where the
            residual sum of squares, minimized over the other parameters,
            rises by ``s^2 F(1, dof; level)``; derived quantities that are
            monotone functions of one parameter are mapped through, others
            fall back to the delta method (noted in ``method``). Default
            :attr:`ci`.
        """
        level = self.level if level is None else float(level)
        ci = self.ci if ci is None else ci
        key = (level, ci)
        if key not in self._table_cache:
            self._table_cache[key] = _interval_table(
                self.params,
                self.nfree,
                level,
                ci,
                lambda p: self._profile(p, level),
                mapped=self.model.mapped_intervals,
            )
        return self._table_cache[key]

    def _profile(self, name: str, level: float) -> tuple[float, float]:
        return profile_interval(
            self.model._residual,
            self.params,
            name,
            level,
            args=(self.data, self.weights),
            kws=self.userkws,
            nfree=self.nfree,
        )

    # -- the curve -------------------------------------------------------------

    def predict(self, x: ArrayLike) -> NDArray[np.float64]:
        """The fitted curve at `x`."""
        return self.eval(x=np.asarray(x, dtype=np.float64))

    def band(
        self,
        x: ArrayLike | None = None,
        kind: Literal["confidence", "prediction"] = "confidence",
        level: float | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Curve and pointwise band at `x`: ``(fit, lower, upper)``.

        The confidence band is :math:`\\hat y \\pm t\\sqrt{g^T C g}` with
        :math:`g` the gradient of the curve in the varied parameters and
        :math:`C` their covariance; the prediction band adds :math:`s^2` (for
        a new observation of unit weight) under the root.
        """
        x = self.x if x is None else np.asarray(x, dtype=np.float64)
        level = self.level if level is None else level
        return curve_band(
            lambda p: self.model.eval(p, x=x),
            self.params,
            self.covar,
            self.var_names,
            self.nfree,
            self.stats["sigma"],
            kind,
            level,
            self.model.log_y,
        )

    def row(self, key: tuple = (), keys: Sequence[str] = ()) -> dict[str, Any]:
        """The fit as one row of :attr:`GroupFits.table` (keys, model, NAME,
        NAME_stderr, NAME_lower, NAME_upper, statistics, status)."""
        return _tidy_row(
            self.model,
            key,
            list(keys),
            self.table,
            self.stats,
            self.converged,
            self.status,
            self.message,
        )

    def plot(self, **kws: Any) -> Any:
        """Data, fitted curve and confidence band (:func:`scurve.plotting.plot_fit`)."""
        from scurve.plotting import plot_fit

        return plot_fit(self, **kws)

    def forecast(self, periods: int, level: float | None = None) -> pd.DataFrame:
        """The `periods` periods after the data, with prediction intervals at
        `level` (default :attr:`level`), for models that forecast (``bass``:
        :meth:`scurve.models.diffusion.BassModel.forecast`).

        Raises
        ------
        TypeError
            If the model does not forecast.
        """
        forecaster = getattr(self.model, "forecast", None)
        if forecaster is None:
            raise TypeError(f"the model {self.model.label} does not forecast")
        return forecaster(self, periods, self.level if level is None else level)

    # -- output ------------------------------------------------------------------

    def _covariance(self) -> tuple[list[str], NDArray[np.float64]] | None:
        return None if self.covar is None else (list(self.var_names), self.covar)

    def summary(self) -> str:
        """A text report: the table, the statistics and the status."""
        table = self.table[["value", "stderr", "lower", "upper"]]
        st = self.stats
        lines = [
            f"{self.model.label} fit: n={st['n']:.0f}, dof={st['dof']:.0f}, "
            f"rss={st['rss']:.6g}, sigma={st['sigma']:.6g}, r2={st['r2']:.6f}, "
            f"aic={st['aic']:.6g}",
            f"{self.level:.0%} intervals by the {self.ci} method",
            table.to_string(float_format=lambda v: f"{v:.6g}"),
            f"status: {self.status} ({self.message})",
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        values = ", ".join(
            f"{n}={self.params[n].value:.4g}" for n in self.model.curve_params
        )
        return f"<FitResult {self.model.label}: {values}; status={self.status}>"

    def _repr_html_(self, show_correl: bool = True, min_correl: float = 0.1) -> str:
        st = self.stats
        head = (
            f"<p><b>{self.model.label}</b>: n={st['n']:.0f}, "
            f"rss={st['rss']:.6g}, r<sup>2</sup>={st['r2']:.6f}, "
            f"status <b>{self.status}</b> ({self.message})</p>"
        )
        table = self.table.to_html(float_format=lambda v: f"{v:.6g}")
        lmfit_html = super()._repr_html_(show_correl=show_correl, min_correl=min_correl)
        return (
            f"{head}{table}<details><summary>lmfit report</summary>"
            f"{lmfit_html}</details>"
        )


def _result_dict(
    model: SCurveModel,
    covariance: tuple[list[str], NDArray[np.float64]] | None,
    table: pd.DataFrame,
    statistics: Mapping[str, float],
    converged: bool,
    status: str,
    message: str,
    level: float,
    ci: str,
) -> dict[str, Any]:
    """The JSON form of one curve's fit (NaN as null, infinities as "inf")."""
    from scurve.io import jsonable

    params, derived = {}, {}
    for name, row in table.iterrows():
        entry = {k: float(row[k]) for k in ("value", "stderr", "lower", "upper")}
        if row["kind"] == "param":
            entry["vary"] = bool(row["vary"])
            params[name] = entry
        else:
            derived[name] = entry
    names, matrix = covariance if covariance is not None else ([], None)
    return jsonable(
        {
            "model": model.label,
            "name": model.name,
            "options": model.options,
            "params": params,
            "derived": derived,
            "stats": dict(statistics),
            "converged": bool(converged),
            "status": status,
            "message": message,
            "level": level,
            "ci": ci,
            "covariance": None
            if matrix is None
            else {"names": list(names), "matrix": np.asarray(matrix).tolist()},
        }
    )


# ------------------------------------------------------------------ statistics


def numeric_hessian(
    rss: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    values: NDArray[np.float64],
    steps: NDArray[np.float64],
) -> NDArray[np.float64]:
    r"""The Hessian of sums of squares by central differences, over a stack:
    `rss` evaluates each row of a ``(b, k)`` array of parameter vectors;
    `steps` (``(b, k)``) are the :math:`h_i`; a row whose steps are not all
    finite and positive gets NaN.

    .. math:: H_{ii} \approx \frac{S(\theta + h_i e_i) - 2 S(\theta)
              + S(\theta - h_i e_i)}{h_i^2}, \quad
              H_{ij} \approx \frac{S_{++} - S_{+-} - S_{-+} + S_{--}}
              {4 h_i h_j}

    For models without derivatives, or a parameter within a step of its
    bound (the step is clipped there); :func:`derivative_hessian` is the
    better where it applies.
    """
    b, k = values.shape
    good = np.all(np.isfinite(steps) & (steps > 0), axis=1)
    steps = np.where(good[:, None], steps, 1.0)
    hess = np.empty((b, k, k))

    def shifted(offsets: Mapping[int, float]) -> NDArray[np.float64]:
        trial = values.copy()
        for i, sign in offsets.items():
            trial[:, i] += sign * steps[:, i]
        return rss(trial)

    centre = rss(values)
    known = {(i, sign): shifted({i: sign}) for i in range(k) for sign in (1.0, -1.0)}
    for i in range(k):
        for j in range(i, k):
            hi, hj = steps[:, i], steps[:, j]
            if i == j:
                value = (known[i, 1.0] - 2 * centre + known[i, -1.0]) / hi**2
            else:
                value = (
                    shifted({i: 1.0, j: 1.0})
                    - shifted({i: 1.0, j: -1.0})
                    - shifted({i: -1.0, j: 1.0})
                    + shifted({i: -1.0, j: -1.0})
                ) / (4 * hi * hj)
            hess[:, i, j] = hess[:, j, i] = value
    hess[~good] = np.nan
    return hess


def derivative_hessian(
    jacobian: Jacobian,
    values: NDArray[np.float64],
    steps: NDArray[np.float64],
    residuals: NDArray[np.float64],
    linear: Sequence[int] = (),
    centre: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    r"""The Hessian of sums of squares :math:`S = \sum_n r_n^2` from the
    residuals' derivatives, over a stack of ``(b, k)`` parameter vectors
    `values` with `residuals` ``(b, n)`` there:

    .. math:: H = 2 J^T J + 2 M, \quad
              M_{ij} = \sum_n r_n \frac{\partial^2 r_n}
              {\partial\theta_i \partial\theta_j}
              \approx \sum_n r_n \frac{\partial_i r_n|_{\theta + h_j e_j}
              - \partial_i r_n|_{\theta - h_j e_j}}{2 h_j}

    (:math:`M` made symmetric). `jacobian(values)` is :math:`J`, ``(b, n,
    k)``, analytic (:meth:`SCurveModel.partials`); `centre`, if given, is
    its value at `values`. Along the `linear` columns (the model's
    :attr:`~SCurveModel.linear_params`) the residuals are linear:
    :math:`\partial^2 r / \partial\beta_l \partial\beta_m = 0`, and the
    mixed terms come from the other columns' differences, so only those
    are differenced: 4 Jacobians for the 4PL (1 more without `centre`).

    Differencing the exact first derivatives, not :math:`S`, the
    truncation error is :math:`O(h^2)` in the curve's third derivatives
    and rounding is :math:`O(\epsilon / h)`, not :math:`O(\epsilon /
    h^2)`: with steps of :data:`HESSIAN_STEP` standard errors, H agrees
    with the closed-form Hessian of the 4PL to about 1e-7, where central
    second differences of :math:`S` with 10x those steps are 1e-5 off (and
    standard errors up to 0.4%, on curves whose parameters are strongly
    correlated). A row whose steps are not all finite and positive gets
    NaN.
    """
    b, k = values.shape
    good = np.all(np.isfinite(steps) & (steps > 0), axis=1)
    steps = np.where(good[:, None], steps, 1.0)
    jac = jacobian(values) if centre is None else centre
    lin = np.isin(np.arange(k), list(linear))
    second = np.zeros((b, k, k))  # column j: d(J^T r)/d theta_j, r held
    for j in np.flatnonzero(~lin):
        pulls = []
        for sign in (1.0, -1.0):
            trial = values.copy()
            trial[:, j] += sign * steps[:, j]
            pulls.append((residuals[:, None, :] @ jacobian(trial))[:, 0, :])
        second[:, :, j] = (pulls[0] - pulls[1]) / (2 * steps[:, j, None])
    # the linear columns' entries are their rows' (transposed); the others'
    # the mean of both differences
    second += second.transpose(0, 2, 1)
    second *= np.where(lin[:, None] | lin[None, :], 1.0, 0.5)
    hess = 2 * (jac.transpose(0, 2, 1) @ jac + second)
    hess[~good] = np.nan
    return hess


def near_bound(
    values: NDArray[np.float64],
    steps: NDArray[np.float64],
    lower: NDArray[np.float64],
    upper: NDArray[np.float64],
) -> NDArray[np.bool_]:
    """Which rows of a ``(b, k)`` stack of parameter vectors have a parameter
    within its step of a bound: their Hessian is taken by
    :func:`numeric_hessian` (the step clipped at the bound), the others' by
    :func:`derivative_hessian`. A NaN step is near nothing."""
    with np.errstate(invalid="ignore"):
        return np.any((values - steps < lower) | (values + steps > upper), axis=1)


def linear_columns(model: SCurveModel, names: Sequence[str]) -> list[int] | None:
    """The places in `names` of the model's :attr:`~SCurveModel.linear_params`,
    for :func:`derivative_hessian`; None where that does not apply: the
    model has no analytic :meth:`~SCurveModel.partials`, or its residuals
    are not the weighted differences from the curve (the log scale, a
    likelihood's), whose derivatives those are."""
    if model.log_y or type(model).partials is SCurveModel.partials:
        return None
    if type(model)._residual is not SCurveModel._residual:
        return None
    return [i for i, n in enumerate(names) if n in model.linear_params]


def hessian_covariance(
    hess: NDArray[np.float64],
    covar: NDArray[np.float64],
    usable: NDArray[np.bool_],
    dispersion: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    r"""drc's covariance :math:`2 s^2 H^{-1}` of a stack of curves, from the
    Hessians `hess` (``(b, k, k)``) of their sums of squares;
    `dispersion` is :math:`s^2`, the residual variance.

    Curves that are not `usable`, whose Hessian is not finite or not
    positive definite keep `covar`; returns the covariances and which
    curves got the Hessian's.
    """
    k = hess.shape[1]
    usable = usable & np.all(np.isfinite(hess), axis=(1, 2))
    hess = np.where(usable[:, None, None], hess, np.eye(k))
    low, positive = stacked.cholesky(hess)  # positive definite: every pivot > 0
    usable = usable & positive
    new = 2 * np.asarray(dispersion)[:, None, None] * stacked.cholesky_inverse(low)
    return np.where(usable[:, None, None], new, covar), usable


def _statistics(
    data: NDArray[np.float64],
    fit: NDArray[np.float64],
    weights: NDArray[np.float64] | None,
    nvarys: int,
    model: SCurveModel | None = None,
) -> dict[str, float]:
    """Fit statistics on the scale of the residuals; with ``model.log_y`` the
    log-likelihood is that of the responses themselves (log-normal errors:
    the Jacobian term :math:`-\\sum \\log y_i`), so that AIC compares fits on
    either scale."""
    jacobian = 0.0
    if model is not None and model.log_y:
        jacobian = -float(np.sum(model.scale(data)))
        data, fit = model.scale(data), model.scale(fit)
    y = np.asarray(data, dtype=np.float64)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=np.float64)
    n = y.size
    dof = n - nvarys
    rss = float(np.sum((w * (y - fit)) ** 2))
    w2 = w * w
    mean = np.sum(w2 * y) / np.sum(w2)
    tss = float(np.sum(w2 * (y - mean) ** 2))
    k = nvarys + 1
    if rss > 0:
        loglik = -0.5 * n * (math.log(2 * math.pi) + math.log(rss / n) + 1)
        loglik += float(np.sum(np.log(w))) + jacobian
    else:
        loglik = math.inf
    aic = -2 * loglik + 2 * k
    return {
        "n": float(n),
        "dof": float(dof),
        "rss": rss,
        "rmse": math.sqrt(rss / n),
        "sigma": math.sqrt(rss / dof) if dof > 0 else math.nan,
        "r2": 1 - rss / tss if tss > 0 else math.nan,
        "loglik": loglik,
        "aic": aic,
        "aicc": aic + 2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else math.nan,
        "bic": -2 * loglik + k * math.log(n),
    }


def _at_bound(params: lmfit.Parameters) -> list[str]:
    hits = []
    for p in params.values():
        if not p.vary or p.expr:
            continue
        for bound, side in ((p.min, "lower"), (p.max, "upper")):
            if math.isfinite(bound) and abs(p.value - bound) <= 1e-6 * max(
                1.0, abs(bound)
            ):
                hits.append(f"{p.name} is at its {side} bound {bound:g}")
    return hits


#: A correlation matrix whose condition number exceeds this is singular in
#: practice: some combination of parameters is not determined by the data.
_MAX_CONDITION = 1e12


def _collinear(params: lmfit.Parameters, covar: NDArray[np.float64] | None) -> str:
    """Why the covariance is numerically rank-deficient, or '' if it is not."""
    if covar is None or covar.size == 0:
        return ""
    sd = np.sqrt(np.abs(np.diag(covar)))
    if not np.all(np.isfinite(sd)) or np.any(sd == 0):
        return "a standard error is zero or infinite"
    corr = covar / np.outer(sd, sd)
    eig = np.linalg.eigvalsh(corr)
    if eig[0] <= 0 or eig[-1] / eig[0] > _MAX_CONDITION:
        names = [p.name for p in params.values() if p.vary and not p.expr]
        # the strongest pair to the printed digits, the first in parameter
        # order among equals (the covariance's last bits, which two
        # computations of one fit may round apart, do not pick the pair)
        off = np.round(np.abs(np.triu(corr, 1)), 6)
        i, j = np.unravel_index(np.argmax(off), off.shape)
        pair = f"{names[i]} and {names[j]}" if len(names) == len(sd) else "two"
        return (
            f"parameters are not identifiable from these data: {pair} have "
            f"correlation {corr[i, j]:+.6f}"
        )
    return ""


def no_signal(statistics: Mapping[str, float], nvarys: int) -> str:
    """Why the fitted curve is no better than a constant, or ``""``.

    The F test of the fit against the (weighted) mean,
    :math:`F = \\frac{R^2}{1 - R^2}\\,\\frac{\\nu}{p - 1}` on
    :math:`(p - 1, \\nu)` degrees of freedom: at p-values above
    :data:`FLAT_P` the data hold no S-curve (a well that did not grow, a
    compound without effect) and the parameters mean nothing.
    """
    r2, dof = statistics["r2"], statistics["dof"]
    if nvarys < 2 or dof <= 0:
        return ""
    if not math.isfinite(r2):
        return "no S-curve: the data are constant"
    if r2 >= 1:
        return ""
    f = r2 / (1 - r2) * dof / (nvarys - 1)
    p = float(stats.f.sf(f, nvarys - 1, dof)) if f > 0 else 1.0
    if p <= FLAT_P:
        return ""
    return (
        f"no S-curve: the fit explains no more than a constant (F = {f:.3g}, "
        f"p = {p:.2g}); its parameters are not reported"
    )


def _assess(
    params: lmfit.Parameters,
    success: bool,
    message: str | None,
    errorbars: bool,
    covar: NDArray[np.float64] | None,
    nfev: int,
    best_fit: NDArray[np.float64],
    aborted: bool = False,
    exact: bool = False,
) -> _Assessment:
    """What a finished fit means, in plain words; the worst finding wins."""
    finite = all(math.isfinite(p.value) for p in params.values())
    if not finite or not np.all(np.isfinite(best_fit)):
        return _Assessment(False, "failed", "the fit produced non-finite values")
    if not success or aborted:
        why = (
            f"stopped at the limit of {nfev} function evaluations"
            if aborted
            else (message or "").strip()
        )
        return _Assessment(
            False,
            "not_converged",
            f"did not converge ({why}); the values are the last iterate, "
            "not an optimum",
        )
    bounds = _at_bound(params)
    collinear = _collinear(params, covar)
    if not errorbars or covar is None or collinear:
        why = "; ".join(bounds) if bounds else "parameters are not identifiable"
        if collinear:
            why = collinear
        elif exact:
            why = "the curve passes through every point: no error to estimate"
        return _Assessment(
            True,
            "singular",
            f"the covariance matrix is singular ({why}): no standard errors",
        )
    if bounds:
        return _Assessment(
            True,
            "at_bound",
            "; ".join(bounds) + ": intervals that touch it are not reliable",
        )
    return _Assessment(True, "ok", f"converged after {nfev} evaluations")


# ------------------------------------------------------------------ intervals


def _t_quantile(level: float, dof: float) -> float:
    return float(stats.t.ppf(0.5 + level / 2, dof)) if dof > 0 else math.nan


def _dependencies(expr: str, names: Iterable[str]) -> list[str]:
    return [n for n in names if re.search(rf"\b{re.escape(n)}\b", expr)]


def _interval_table(
    params: lmfit.Parameters,
    dof: float,
    level: float,
    ci: CI,
    profile: Callable[[str], tuple[float, float]],
    mapped: Iterable[str] = (),
) -> pd.DataFrame:
    """Value, stderr, interval per quantity; `mapped` names derived quantities
    (or their ``_gN`` group copies) whose delta interval is their one
    parameter's, mapped through the expression."""
    t = _t_quantile(level, dof)
    mapped = set(mapped)
    varying = [p.name for p in params.values() if p.vary and not p.expr]
    rows = {}
    for p in params.values():
        se = p.stderr if p.stderr is not None else math.nan
        fixed = not p.vary and not p.expr
        if fixed:
            se, lower, upper, method = 0.0, p.value, p.value, "fixed"
        elif ci == "none":
            lower, upper, method = math.nan, math.nan, "none"
        else:
            lower, upper, method = p.value - t * se, p.value + t * se, "delta"
            deps = _dependencies(p.expr, varying) if p.expr else []
            if re.sub(r"_g\d+$", "", p.name) in mapped and len(deps) == 1:
                dep = params[deps[0]]
                half = t * (dep.stderr if dep.stderr is not None else math.nan)
                lower, upper = _map_through(
                    params, p.name, dep.name, dep.value - half, dep.value + half
                )
            if ci == "profile" and math.isfinite(se):
                lower, upper, method = _profile_or_delta(
                    params, p, varying, profile, (lower, upper)
                )
        rows[p.name] = {
            "value": p.value,
            "stderr": se,
            "lower": lower,
            "upper": upper,
            "vary": bool(p.vary and not p.expr),
            "kind": "derived" if p.expr else "param",
            "method": method,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def _profile_or_delta(
    params: lmfit.Parameters,
    p: lmfit.Parameter,
    varying: list[str],
    profile: Callable[[str], tuple[float, float]],
    delta: tuple[float, float],
) -> tuple[float, float, str]:
    if not p.expr:
        lo, hi = profile(p.name)
        return lo, hi, "profile"
    deps = _dependencies(p.expr, varying)
    if len(deps) != 1:
        return *delta, "delta"
    # a derived quantity of one parameter: map the parameter's profile
    # interval through the (monotone) expression
    lo, hi = profile(deps[0])
    return *_map_through(params, p.name, deps[0], lo, hi), "profile"


def _map_through(
    params: lmfit.Parameters, name: str, dep: str, lo: float, hi: float
) -> tuple[float, float]:
    """The range of the derived `name` as its one parameter `dep` spans
    [lo, hi] (the expression is monotone)."""
    ends = []
    for v in (lo, hi):
        trial = params.copy()
        trial[dep].value = v
        try:
            trial.update_constraints()
        except (RuntimeError, OverflowError):  # e.g. 10**v overflows
            return math.nan, math.nan
        ends.append(trial[name].value)
    return min(ends), max(ends)


def profile_interval(
    residual: Callable[..., NDArray[np.float64]],
    params: lmfit.Parameters,
    name: str,
    level: float,
    *,
    args: tuple = (),
    kws: Mapping[str, Any] | None = None,
    nfree: int,
) -> tuple[float, float]:
    r"""Profile-likelihood interval of one parameter of a least-squares fit.

    The interval is :math:`\{\theta: (S(\theta) - S_{min}) / s^2 \le
    F_{1,\nu}(\text{level})\}` where :math:`S(\theta)` is the residual sum of
    squares minimized over the other parameters with this one held at
    :math:`\theta`, and :math:`s^2 = S_{min}/\nu`. Each end is bracketed by
    stepping out in multiples of the standard error and found by Brent's
    method; an end that runs into a bound is that bound, and one that never
    closes is infinite.
    """
    kws = dict(kws or {})

    def rss(p: lmfit.Parameters) -> float:
        r = residual(p, *args, **kws)
        return float(np.dot(r, r))

    best = params.copy()
    s_min = rss(best)
    s2 = s_min / nfree
    crit = float(stats.f.ppf(level, 1, nfree))
    v0 = best[name].value
    step0 = best[name].stderr or max(abs(v0) * 0.1, 1e-8)
    others = [n for n, p in best.items() if p.vary and not p.expr and n != name]
    cache: dict[float, float] = {}

    def excess(v: float) -> float:
        if v not in cache:
            trial = best.copy()
            trial[name].set(value=v, vary=False)
            if others:
                out = lmfit.minimize(residual, trial, args=args, kws=kws)
                cache[v] = (rss(out.params) - s_min) / s2 - crit
            else:
                cache[v] = (rss(trial) - s_min) / s2 - crit
        return cache[v]

    ends = []
    for sign in (-1.0, 1.0):
        bound = best[name].min if sign < 0 else best[name].max
        inner, step, end = v0, step0, None
        for _ in range(40):
            outer = v0 + sign * step
            if (sign < 0 and outer <= bound) or (sign > 0 and outer >= bound):
                outer = bound
                end = bound if excess(bound) <= 0 else None
                if end is None:
                    end = optimize.brentq(
                        excess, *sorted((inner, bound)), xtol=step0 * 1e-4
                    )
                break
            if excess(outer) > 0:
                end = optimize.brentq(
                    excess, *sorted((inner, outer)), xtol=step0 * 1e-4
                )
                break
            inner, step = outer, step * 2
        ends.append(end if end is not None else sign * math.inf)
    return ends[0], ends[1]


def curve_band(
    evaluate: Callable[[lmfit.Parameters], NDArray[np.float64]],
    params: lmfit.Parameters,
    covar: NDArray[np.float64] | None,
    var_names: Sequence[str],
    dof: float,
    sigma: float,
    kind: Literal["confidence", "prediction"],
    level: float,
    log_y: bool = False,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Pointwise confidence or prediction band by the delta method.

    The gradient of the curve in each varied parameter is a centred
    difference with a step of 1e-3 standard errors (the curve is smooth on
    that scale). With `log_y` (a fit on the log scale, `sigma` in log units)
    the band is built for log y and returned exponentiated: multiplicative
    and always positive.
    """
    if log_y:
        log_band = curve_band(
            lambda p: np.log(evaluate(p)), params, covar, var_names, dof, sigma,
            kind, level,
        )  # fmt: skip
        fit, lower, upper = (np.exp(b) for b in log_band)
        return fit, lower, upper
    fit = evaluate(params)
    if covar is None:
        nan = np.full_like(fit, np.nan)
        return fit, nan, nan
    grads = []
    for i, name in enumerate(var_names):
        h = 1e-3 * math.sqrt(covar[i, i]) or 1e-8 * max(1.0, abs(params[name].value))
        up, down = params.copy(), params.copy()
        up[name].value = params[name].value + h
        down[name].value = params[name].value - h
        up.update_constraints()
        down.update_constraints()
        grads.append((evaluate(up) - evaluate(down)) / (2 * h))
    g = np.array(grads)
    var = np.einsum("in,ij,jn->n", g, covar, g)
    if kind == "prediction":
        var = var + sigma**2
    elif kind != "confidence":
        raise ValueError(f"kind must be 'confidence' or 'prediction', not {kind!r}")
    half = _t_quantile(level, dof) * np.sqrt(np.maximum(var, 0))
    return fit, fit - half, fit + half


# ------------------------------------------------------------------ one curve


def _clean_data(
    x: ArrayLike, y: ArrayLike, weights: ArrayLike | None
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64] | None]:
    """Data as float arrays, checked before anything (the guess) looks at them.

    Points with weight 0 carry no information and are dropped, as R's
    ``nls``/``lm`` do, so that they count neither in the degrees of freedom
    nor in the log-likelihood.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise FitError(
            f"x and y must be 1-D of one length, got {x.shape} and {y.shape}"
        )
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        raise FitError(f"{int(bad.sum())} points are NaN or infinite; drop them first")
    if weights is None:
        return x, y, None
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != y.shape:
        raise FitError(f"weights have shape {w.shape}, the data {y.shape}")
    bad_w = ~np.isfinite(w) | (w < 0)
    if bad_w.any():
        raise FitError(
            f"weights must be finite and >= 0: {int(bad_w.sum())} are NaN, "
            "infinite or negative"
        )
    keep = w > 0
    return x[keep], y[keep], w[keep]


def _check_log_scale(model: SCurveModel, y: NDArray) -> None:
    """A fit on the log scale needs positive responses."""
    bad = y <= 0
    if model.log_y and bad.any():
        raise FitError(
            f"log_y needs positive responses: {int(bad.sum())} of {y.size} are "
            f"<= 0 (the smallest is {float(y.min()):g})"
        )


def _check_size(x: NDArray, y: NDArray, nvarys: int) -> None:
    if y.size <= nvarys:
        raise FitError(
            f"{y.size} points for {nvarys} free parameters: need at least "
            f"{nvarys + 1} to fit and estimate the error"
        )
    if np.all(x == x[0]):
        raise FitError(
            f"all x are equal ({x[0]:g}): the curve's shape is not determined"
        )
    if np.all(y == y[0]):
        raise FitError(f"y is constant ({y[0]:g}): there is no S-curve to fit")


def add_symbols(
    params: lmfit.Parameters, x: NDArray[np.float64], suffix: str = ""
) -> None:
    """Names that derived-quantity expressions may use besides the parameters:
    the core's ``expit`` and ``softplus`` and the data's span ``x_min``,
    ``x_max`` (e.g. the area under a growth curve over the observed times).
    With `suffix`, the span is stored as ``x_min{suffix}`` (one per group of a
    joint fit)."""
    from scurve.core.special import expit, softplus

    params._asteval.symtable.update(
        {
            "expit": expit,
            "softplus": softplus,
            f"x_min{suffix}": float(np.min(x)),
            f"x_max{suffix}": float(np.max(x)),
        }
    )


def make_params(
    model: SCurveModel,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    *,
    fix: Mapping[str, float] | None = None,
    init: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
) -> lmfit.Parameters:
    """Starting parameters: the model's guess, then the user's bounds, starting
    values and fixed values (in that order, so a user value wins)."""
    params = model.guess(y, x)
    add_symbols(params, x)
    for what, mapping in (("fix", fix), ("init", init), ("bounds", bounds)):
        for name in mapping or {}:
            if name not in model.curve_params:
                known = ", ".join(model.curve_params)
                raise FitError(
                    f"{what}: {model.label} has no parameter {name!r} ({known})"
                )
    for name, (lo, hi) in (bounds or {}).items():
        if not lo < hi:
            raise FitError(f"bounds: {name} needs lower < upper, got {lo:g}:{hi:g}")
        params[name].set(min=lo, max=hi)
        params[name].set(value=float(np.clip(params[name].value, lo, hi)))
    for name, value in (init or {}).items():
        params[name].set(value=value)
    for name, value in (fix or {}).items():
        params[name].set(value=value, vary=False)
    return params


def fit_curve(
    model: SCurveModel,
    x: ArrayLike,
    y: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    fix: Mapping[str, float] | None = None,
    init: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    ci: CI = "delta",
    level: float = LEVEL,
    max_nfev: int | None = None,
    loss: str = "linear",
) -> FitResult:
    """Fit one curve by (weighted) least squares, starting from the model's guess.

    Parameters
    ----------
    model : SCurveModel
    x, y : array_like
        Finite data of one length.
    weights : array_like, optional
        Multipliers of the residuals (1/sigma), lmfit's convention.
    fix, init, bounds : mapping, optional
        Parameter values to hold fixed, starting values that override the
        guess, and ``(lower, upper)`` bounds.
    ci : {"delta", "profile", "none"}
        Interval method of :attr:`FitResult.table`.
    level : float
        Confidence level of intervals and bands.
    loss : {"linear", "soft_l1", "huber", "cauchy"}
        A robust loss instead of least squares ("linear"): a
        :class:`scurve.robust.RobustResult`, outliers flagged.

    Returns
    -------
    FitResult

    Raises
    ------
    FitError
        Too few points for the free parameters, constant y, all x equal,
        non-finite data, or an unknown parameter name.
    """
    x, y, w = _clean_data(x, y, weights)
    if y.size == 0:
        raise FitError("no data points")
    _check_log_scale(model, y)
    params = make_params(model, x, y, fix=fix, init=init, bounds=bounds)
    nvarys = sum(p.vary and not p.expr for p in params.values())
    _check_size(x, y, nvarys)
    if not 0 < level < 1:
        raise FitError(f"level must be between 0 and 1, got {level}")
    if loss != "linear":
        from scurve.robust import robust_result

        result = robust_result(model, params, x, loss, ci, max_nfev)
    else:
        result = FitResult(
            model, params, fcn_kws={"x": x}, max_nfev=max_nfev, **model.solver_options
        )
    result.level, result.ci = level, ci
    result.fit(data=y, weights=w)
    if result.converged:
        model.check_fit(result)
    return result


# ------------------------------------------------------------------ groups


@dataclass
class GroupFits:
    """Fits of one model to every group of a table.

    Attributes
    ----------
    model : SCurveModel
    keys : list of str
        The grouping columns.
    results : mapping
        Group key tuple -> :class:`FitResult` (independent fits), a
        :class:`SharedGroup` (the group's part of a joint fit), or the
        :class:`FitError` that stopped that group. For the fast path a
        :class:`scurve.batch.BatchResults`, which builds each FitResult on
        first access.
    table : pandas.DataFrame
        One row per group: the keys, ``model``, ``NAME``, ``NAME_stderr``,
        ``NAME_lower``, ``NAME_upper`` per parameter and derived quantity,
        then ``n, dof, rss, rmse, r2, aic, aicc, bic, converged, status,
        message``.
    shared : list of str
        Parameters shared across groups (a joint fit), if any.
    joint : lmfit.minimizer.MinimizerResult or None
        The joint fit when parameters are shared.
    """

    model: SCurveModel
    keys: list[str]
    results: Mapping[tuple, FitResult | SharedGroup | FitError]
    table: pd.DataFrame
    shared: list[str] = field(default_factory=list)
    joint: Any = None

    @property
    def ok(self) -> bool:
        """Every group converged."""
        return bool(self.table["converged"].all()) if len(self.table) else False

    def __getitem__(self, key: Any) -> FitResult | SharedGroup | FitError:
        return self.results[key if isinstance(key, tuple) else (key,)]

    def __len__(self) -> int:
        return len(self.table)

    def to_dict(self) -> dict[str, Any]:
        """``{"model": ..., "groups": [{"group": {...}, "params": ..., ...}]}``."""
        from scurve.io import jsonable

        # the fast path gives its curves' documents without building their
        # FitResults (scurve.batch.BatchResults.document)
        document = getattr(self.results, "document", lambda key: None)
        groups = []
        for key in self.results:
            entry: dict[str, Any] = {"group": dict(zip(self.keys, key, strict=True))}
            known = document(key)
            res = self.results[key] if known is None else None
            if isinstance(res, FitError):
                entry.update(converged=False, status="failed", message=str(res))
            else:
                known = res.to_dict() if known is None else known
                entry.update({k: v for k, v in known.items() if k != "model"})
            groups.append(entry)
        return jsonable(
            {"model": self.model.label, "shared": self.shared, "groups": groups}
        )

    def plot(self, **kws: Any) -> Any:
        """All groups' data and curves (:func:`scurve.plotting.plot_groups`)."""
        from scurve.plotting import plot_groups

        return plot_groups(self, **kws)

    def __repr__(self) -> str:
        bad = int((~self.table["converged"]).sum()) if len(self.table) else 0
        shared = f", shared {self.shared}" if self.shared else ""
        return (
            f"<GroupFits {self.model.label}: {len(self)} groups, {bad} failed{shared}>"
        )

    def _repr_html_(self) -> str:
        return f"<p>{self!r}</p>" + self.table.to_html(
            float_format=lambda v: f"{v:.6g}"
        )


@dataclass
class SharedGroup(_JSONReport):
    """One group's part of a joint fit with shared parameters.

    Attributes
    ----------
    model : SCurveModel
    key : tuple
    x, y : ndarray
        The group's data.
    table : pandas.DataFrame
        Its parameters and derived quantities (shared ones included), with
        standard errors and intervals from the joint covariance.
    stats : dict
        n, rss, rmse, r2 of this group; dof, aic, aicc, bic of the joint fit.
    """

    model: SCurveModel
    key: tuple
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    table: pd.DataFrame
    stats: dict[str, float]
    converged: bool
    status: Status
    message: str
    level: float
    ci: CI
    joint: Any = field(repr=False)
    names: dict[str, str] = field(repr=False)  # model parameter -> joint name

    @property
    def params(self) -> lmfit.Parameters:
        """The group's parameter values and standard errors, by model name."""
        out = lmfit.Parameters()
        for name, joint_name in self.names.items():
            src = self.joint.params[joint_name]
            out.add(name, value=src.value, vary=False)
            out[name].stderr = src.stderr
        return out

    def _evaluate(self, joint_params: lmfit.Parameters, x: NDArray) -> NDArray:
        values = {n: joint_params[j].value for n, j in self.names.items()}
        return self.model.function(x, **values)

    def predict(self, x: ArrayLike) -> NDArray[np.float64]:
        """The group's fitted curve at `x`."""
        return self._evaluate(self.joint.params, np.asarray(x, dtype=np.float64))

    def band(
        self,
        x: ArrayLike | None = None,
        kind: Literal["confidence", "prediction"] = "confidence",
        level: float | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Curve and pointwise band from the joint covariance (as FitResult.band)."""
        x = self.x if x is None else np.asarray(x, dtype=np.float64)
        return curve_band(
            lambda p: self._evaluate(p, x),
            self.joint.params,
            self.joint.covar,
            self.joint.var_names,
            self.joint.nfree,
            math.sqrt(self.joint.chisqr / self.joint.nfree),
            kind,
            self.level if level is None else level,
            self.model.log_y,
        )

    def _covariance(self) -> tuple[list[str], NDArray[np.float64]] | None:
        """The joint covariance restricted to this group's varied parameters."""
        if self.joint.covar is None:
            return None
        joint_names = list(self.joint.var_names)
        mine = [(n, j) for n, j in self.names.items() if j in joint_names]
        idx = [joint_names.index(j) for _, j in mine]
        return [n for n, _ in mine], self.joint.covar[np.ix_(idx, idx)]


STAT_COLUMNS = ("n", "dof", "rss", "rmse", "r2", "aic", "aicc", "bic")


def _tidy_row(
    model: SCurveModel,
    key: tuple,
    keys: list[str],
    table: pd.DataFrame | None,
    statistics: Mapping[str, float] | None,
    converged: bool,
    status: str,
    message: str,
) -> dict[str, Any]:
    row: dict[str, Any] = dict(zip(keys, key, strict=True))
    row["model"] = model.label
    if status == "flat":  # no curve in the data: its parameters mean nothing
        table = None
    names = list(model.curve_params) + list(model.derived)
    for name in names:
        for suffix, col in (
            ("", "value"),
            ("_stderr", "stderr"),
            ("_lower", "lower"),
            ("_upper", "upper"),
        ):
            row[name + suffix] = (
                float(table.loc[name, col])
                if table is not None and name in table.index
                else math.nan
            )
    for s in STAT_COLUMNS:
        row[s] = statistics[s] if statistics else math.nan
    row.update(converged=converged, status=status, message=message)
    return row


def fit_groups(
    model: SCurveModel,
    groups: Mapping[tuple, tuple[ArrayLike, ArrayLike, ArrayLike | None]],
    keys: Sequence[str],
    *,
    share: Sequence[str] = (),
    fix: Mapping[str, float] | None = None,
    init: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    ci: CI = "delta",
    level: float = LEVEL,
    progress: Callable[[int], None] | None = None,
    fast: bool = True,
    loss: str = "linear",
    workers: int | None = None,
) -> GroupFits:
    """Fit `model` to every group; with `share`, one joint fit.

    Parameters
    ----------
    groups : mapping
        Group key tuple -> ``(x, y, weights or None)``.
    keys : sequence of str
        Names of the key columns.
    share : sequence of str
        Parameters common to all groups (e.g. ``["bottom", "top"]``); the
        others are fitted per group, all in one least-squares problem whose
        covariance gives the standard errors.
    progress : callable, optional
        Called with the number of groups done, after each group.
    fast : bool
        Independent fits with ``ci`` "delta" or "none" go through the
        vectorized fast path (:mod:`scurve.batch`: the same table, all groups
        at once) when the model broadcasts; False fits them one by one with
        lmfit.
    loss : str
        A robust loss (:func:`fit_curve`); fitted one by one with lmfit, not
        with `share`.
    workers : int, optional
        Processes for the fast path (:func:`scurve.batch.fit_groups`): None
        uses every core available to this process for large batches; 1 fits
        in this process (as inside a Dask task).

    A group that cannot be fitted gets a row with status ``failed`` and the
    reason; the others are fitted.
    """
    keys = list(keys)
    if loss != "linear":
        if share:
            raise FitError(f"a robust loss ({loss}) cannot be used with share")
        fast = False
    if share:
        return _fit_shared(
            model, groups, keys, list(share), fix, init, bounds, ci, level
        )
    if fast and ci in ("delta", "none") and 0 < level < 1 and groups:
        from scurve import batch

        fits = batch.fit_groups(
            model,
            groups,
            keys,
            fix=fix,
            init=init,
            bounds=bounds,
            ci=ci,
            level=level,
            progress=progress,
            workers=workers,
        )
        if fits is not None:
            return fits
    options = {
        "fix": fix,
        "init": init,
        "bounds": bounds,
        "ci": ci,
        "level": level,
        "loss": loss,
    }
    return fit_each(
        model,
        groups,
        keys,
        lambda x, y, w: fit_curve(model, x, y, weights=w, **options),
        progress,
    )


def fit_each(
    model: SCurveModel,
    groups: Mapping[tuple, tuple[Any, ...]],
    keys: Sequence[str],
    fit_one: Callable[..., FitResult],
    progress: Callable[[int], None] | None = None,
) -> GroupFits:
    """Fit every group one by one: ``fit_one(*groups[key])`` gives its result,
    a :class:`FitError` a ``failed`` row with the reason (the others are
    fitted); `progress` is called with the number of groups done."""
    keys = list(keys)
    results: dict[tuple, FitResult | SharedGroup | FitError] = {}
    rows = []
    for i, (key, data) in enumerate(groups.items()):
        try:
            res = fit_one(*data)
        except FitError as exc:
            results[key] = exc
            rows.append(
                _tidy_row(model, key, keys, None, None, False, "failed", str(exc))
            )
        else:
            results[key] = res
            rows.append(res.row(key, keys))
        if progress is not None:
            progress(i + 1)
    if not rows:  # no groups: the columns all the same, without rows
        empty = _tidy_row(model, (None,) * len(keys), keys, None, None, False, "", "")
        return GroupFits(model, keys, results, pd.DataFrame(columns=list(empty)))
    return GroupFits(model, keys, results, pd.DataFrame(rows))


def _suffix(i: int) -> str:
    return f"_g{i}"


def _fit_shared(
    model: SCurveModel,
    groups: Mapping[tuple, tuple[ArrayLike, ArrayLike, ArrayLike | None]],
    keys: list[str],
    share: list[str],
    fix: Mapping[str, float] | None,
    init: Mapping[str, float] | None,
    bounds: Mapping[str, tuple[float, float]] | None,
    ci: CI,
    level: float,
) -> GroupFits:
    unknown = [s for s in share if s not in model.curve_params]
    if unknown:
        known = ", ".join(model.curve_params)
        raise FitError(
            f"share: {model.label} has no parameter {unknown[0]!r} ({known})"
        )
    data = {}
    for key, (x, y, w) in groups.items():
        try:
            data[key] = _clean_data(x, y, w)
            _check_log_scale(model, data[key][1])
        except FitError as exc:
            label = ", ".join(map(str, key))
            raise FitError(f"group {label}: {exc}") from None
    own = [p for p in model.curve_params if p not in share]
    joint = lmfit.Parameters()
    starts = {}
    for i, (key, (x, y, _)) in enumerate(data.items()):
        starts[key] = make_params(model, x, y, fix=fix, init=init, bounds=bounds)
        for p in own:
            src = starts[key][p]
            joint.add(
                p + _suffix(i), value=src.value, min=src.min, max=src.max, vary=src.vary
            )
    for p in share:
        first = next(iter(starts.values()))[p]
        joint.add(
            p,
            value=float(np.median([s[p].value for s in starts.values()])),
            min=first.min,
            max=first.max,
            vary=first.vary,
        )
    for i, (x, _, _) in enumerate(data.values()):
        add_symbols(joint, x, _suffix(i))
        for d, expr in model.derived.items():
            renamed = expr
            for p in [*own, "x_min", "x_max"]:
                renamed = re.sub(rf"\b{re.escape(p)}\b", p + _suffix(i), renamed)
            joint.add(d + _suffix(i), expr=renamed)

    def group_values(params: lmfit.Parameters, i: int) -> dict[str, float]:
        return {
            p: params[p if p in share else p + _suffix(i)].value
            for p in model.curve_params
        }

    def residual(params: lmfit.Parameters) -> NDArray[np.float64]:
        parts = []
        for i, (x, y, w) in enumerate(data.values()):
            r = model.scale(model.function(x, **group_values(params, i)))
            r = r - model.scale(y)
            parts.append(r if w is None else r * w)
        return np.concatenate(parts)

    nvarys = sum(p.vary and not p.expr for p in joint.values())
    n = sum(y.size for _, y, _ in data.values())
    if n <= nvarys:
        raise FitError(f"{n} points for {nvarys} free parameters in the joint fit")
    out = lmfit.minimize(residual, joint)
    out.model = model
    assessment = _assess(
        out.params,
        out.success,
        out.message,
        out.errorbars,
        out.covar,
        out.nfev,
        out.residual,
        aborted=bool(getattr(out, "aborted", False)),
    )
    table = _interval_table(
        out.params,
        out.nfree,
        level,
        ci,
        lambda p: profile_interval(residual, out.params, p, level, nfree=out.nfree),
        mapped=model.mapped_intervals,
    )
    results: dict[tuple, FitResult | SharedGroup | FitError] = {}
    y_all = np.concatenate([y for _, y, _ in data.values()])
    fit_all = np.concatenate(
        [
            model.function(x, **group_values(out.params, i))
            for i, (x, _, _) in enumerate(data.values())
        ]
    )
    weighted = any(w is not None for _, _, w in data.values())
    w_all = (
        np.concatenate(
            [np.ones_like(y) if w is None else w for _, y, w in data.values()]
        )
        if weighted
        else None
    )
    joint_stats = _statistics(y_all, fit_all, w_all, out.nvarys, model)
    rows = []
    own_names = list(model.curve_params) + list(model.derived)
    for i, (key, (x, y, w)) in enumerate(data.items()):
        suffix = _suffix(i)
        local = table.rename(
            index=lambda nm, s=suffix: nm[: -len(s)] if nm.endswith(s) else nm
        ).loc[own_names]
        st = _statistics(
            y, model.function(x, **group_values(out.params, i)), w, 0, model
        )
        st.update({k: joint_stats[k] for k in ("dof", "loglik", "aic", "aicc", "bic")})
        rows.append(
            _tidy_row(
                model,
                key,
                keys,
                local,
                st,
                assessment.converged,
                assessment.status,
                assessment.message,
            )
        )
        results[key] = SharedGroup(
            model,
            key,
            x,
            y,
            local,
            st,
            assessment.converged,
            assessment.status,
            assessment.message,
            level,
            ci,
            joint=out,
            names={p: p if p in share else p + suffix for p in model.curve_params},
        )
    return GroupFits(
        model, keys, results, pd.DataFrame(rows), shared=list(share), joint=out
    )


# ------------------------------------------------------------------ comparison


def compare(fits: Mapping[str, FitResult] | Sequence[FitResult]) -> pd.DataFrame:
    """Information criteria of several fits to the same data, best first.

    Columns: n, k (free parameters + 1 for the variance), rss, aic, aicc,
    bic, delta_aic (from the best), and ``aic_weight``, the Akaike weight
    :math:`e^{-\\Delta_i/2} / \\sum_j e^{-\\Delta_j/2}`.

    Raises
    ------
    ValueError
        If the fits are not to the same number of points.
    """
    if not isinstance(fits, Mapping):
        fits = {f.model.label: f for f in fits}
    rows = {}
    for label, res in fits.items():
        st = res.stats
        rows[label] = {
            "n": st["n"],
            "k": res.nvarys + 1,
            "rss": st["rss"],
            "aic": st["aic"],
            "aicc": st["aicc"],
            "bic": st["bic"],
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    if table["n"].nunique() > 1:
        raise ValueError("the fits are to different numbers of points: not comparable")
    table["delta_aic"] = table["aic"] - table["aic"].min()
    rel = np.exp(-0.5 * table["delta_aic"])
    table["aic_weight"] = rel / rel.sum()
    return table.sort_values("aic")


def f_test(reduced: FitResult, full: FitResult) -> dict[str, float]:
    r"""Extra-sum-of-squares F test of a reduced model nested in a full one.

    :math:`F = \frac{(S_r - S_f)/(\nu_r - \nu_f)}{S_f/\nu_f}` on
    :math:`(\nu_r - \nu_f, \nu_f)` degrees of freedom; a small p-value says
    the full model fits significantly better.

    Returns
    -------
    dict
        ``F``, ``df1``, ``df2`` and ``p_value``.
    """
    s_r, s_f = reduced.chisqr, full.chisqr
    df1 = reduced.nfree - full.nfree
    df2 = full.nfree
    if df1 <= 0:
        raise ValueError(
            "the reduced model must have fewer free parameters than the full one"
        )
    f = ((s_r - s_f) / df1) / (s_f / df2)
    return {
        "F": f,
        "df1": float(df1),
        "df2": float(df2),
        "p_value": float(stats.f.sf(f, df1, df2)),
    }


# ------------------------------------------------------------------ the API


def fit(
    data: Any = None,
    model: str | SCurveModel = "sigmoid",
    *,
    x: str | ArrayLike = "x",
    y: str | ArrayLike = "y",
    by: str | Sequence[str] | None = None,
    weights: str | ArrayLike | None = None,
    weights_kind: Literal["sigma", "variance", "weight"] = "sigma",
    fix: Mapping[str, float] | None = None,
    init: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    share: str | Sequence[str] | None = None,
    ci: CI = "delta",
    level: float = LEVEL,
    nan: Literal["drop", "error"] = "drop",
    progress: Callable[[int], None] | None = None,
    wide: bool = False,
    blank: str | float | None = None,
    trials: str | ArrayLike | None = None,
    loss: str = "linear",
    workers: int | None = None,
    **model_options: Any,
) -> FitResult | GroupFits:
    """Fit an S-curve model to a table or to arrays: the Python face of ``scurve fit``.

    Parameters
    ----------
    data : DataFrame, path, "-" or None
        A table (CSV/TSV/Parquet path, or a DataFrame). None when `x` and `y`
        are arrays. A Dask DataFrame is fitted group by group on the Dask
        workers (:func:`scurve.scale.fit_dask`), giving a lazy Dask DataFrame
        of the results table.
    model : str or SCurveModel
        A name from :data:`scurve.models.REGISTRY` (``"sigmoid"``) or a model.
    x, y : str or array_like
        Column names in `data`, or the data themselves.
    by : str or sequence of str, optional
        Group key column(s): one fit per group, returned as :class:`GroupFits`.
    weights : str or array_like, optional
        A column (or array) of per-point uncertainties; `weights_kind` says
        whether they are standard deviations (``sigma``, the default),
        variances, or weights proportional to 1/variance.
    fix, init, bounds : mapping, optional
        ``{name: value}`` held fixed; ``{name: value}`` starting values;
        ``{name: (lower, upper)}``.
    share : str or sequence of str, optional
        With `by`: parameters common to all groups (one joint fit).
    ci : {"delta", "profile", "none"}
        Interval method; `level` its confidence level.
    nan : {"drop", "error"}
        Rows with NaN or infinite values are dropped (with a warning) or an
        error.
    wide : bool
        `data` is a plate-reader table: the `x` column (time) and one column
        per well; every other column is a group, keyed ``well``
        (:func:`scurve.io.wide_to_long`). `y` and `by` are not given.
    blank : "min", str or float, optional
        Background correction before fitting
        (:func:`scurve.io.subtract_blank`): each group's minimum, a column of
        blank readings (with `wide`, that well is then not fitted), or a
        constant.
    trials : str or array_like, optional
        Quantal data for the dose-response models: a column (or array) of
        numbers of trials, `y` then counting the responders; fitted by
        binomial maximum likelihood
        (:func:`scurve.models.dose.fit_quantal`), LD50 as ``ec50``.
    loss : {"linear", "soft_l1", "huber", "cauchy"}
        Robust fitting (:mod:`scurve.robust`): outliers are down-weighted
        and flagged; "linear" is least squares.
    workers : int, optional
        Processes for the fast path over groups (:func:`fit_groups`): None
        uses the available cores for large batches, 1 stays in this process.
    **model_options
        Passed to the model, e.g. ``shape="erf"`` for ``sigmoid``,
        ``log_y=True`` to fit on the log scale, ``baseline=True`` for the
        growth models.

    Returns
    -------
    FitResult or GroupFits

    Raises
    ------
    scurve.errors.InputError
        Unreadable table, missing or non-numeric column.
    FitError
        A single curve that cannot be fitted.

    Examples
    --------
    >>> import numpy as np, scurve
    >>> x = np.linspace(0, 10, 21)
    >>> y = 2 + 3 * scurve.expit(1.5 * (x - 4))
    >>> result = scurve.fit(x=x, y=y, model="sigmoid")
    >>> round(result.params["center"].value, 6)
    4.0
    """
    import warnings

    from scurve import io, scale
    from scurve.models import get_model

    if scale.is_dask(data):  # fitted partition by partition on the workers
        return scale.fit_dask(
            data, model, x=x, y=y, by=by, weights=weights, weights_kind=weights_kind,
            fix=fix, init=init, bounds=bounds, ci=ci, level=level, nan=nan,
            refused={"share": share, "wide": wide, "blank": blank, "trials": trials,
                     "loss": loss != "linear"},
            **model_options,
        )  # fmt: skip
    the_model = get_model(model, **model_options)
    if loss != "linear":
        from scurve.robust import check_loss

        check_loss(loss, ci=ci, quantal=trials is not None)
    keys = [by] if isinstance(by, str) else list(by or [])
    shared = [share] if isinstance(share, str) else list(share or [])
    if shared and not keys:
        raise FitError("share needs groups: give by= as well")
    if data is None:
        if isinstance(x, str) or isinstance(y, str):
            raise FitError("without data, x and y must be arrays, not column names")
        if keys:
            raise FitError("by= needs a table: pass data")
        if trials is not None:
            from scurve.models.dose import fit_quantal

            _check_quantal(the_model, weights, ci)
            return fit_quantal(
                x, y, trials, model=the_model, fix=fix, init=init, bounds=bounds,
                level=level,
            )  # fmt: skip
        w = (
            None
            if weights is None
            else io.weights_to_multipliers(weights, weights_kind)
        )
        return fit_curve(
            the_model,
            x,
            y,
            weights=w,
            fix=fix,
            init=init,
            bounds=bounds,
            ci=ci,
            level=level,
            loss=loss,
        )
    table = io.read_table(data)
    if wide:
        if keys:
            raise FitError("a wide table is grouped by its well columns: drop by=")
        column_blank = isinstance(blank, str) and blank != "min"
        table = io.wide_to_long(table, str(x), keep=[blank] if column_blank else [])
        y, keys = io.VALUE, [io.WELL]
    if blank is not None:
        table = io.subtract_blank(table, blank, str(y), keys)
    selection = io.select(
        table,
        x=str(x),
        y=str(y),
        by=keys,
        weights=None if weights is None else str(weights),
        nan=nan,
        weights_kind=weights_kind,
        trials=None if trials is None else str(trials),
        positive_x=bool(getattr(the_model, "positive_x", False)),
    )
    for note in selection.notes:
        warnings.warn(note, stacklevel=2)
    frame = selection.frame
    wcol = "weights" if weights is not None else None
    if trials is not None:
        return _fit_quantal_table(
            the_model, frame, keys, shared, weights, fix, init, bounds, ci, level,
            progress,
        )  # fmt: skip
    if not keys:
        return fit_curve(
            the_model,
            frame["x"].to_numpy(),
            frame["y"].to_numpy(),
            weights=None if wcol is None else frame[wcol].to_numpy(),
            fix=fix,
            init=init,
            bounds=bounds,
            ci=ci,
            level=level,
            loss=loss,
        )
    groups = split_groups(frame, keys, ["x", "y"] + ([wcol] if wcol else []))
    if wcol is None:
        groups = {key: (x, y, None) for key, (x, y) in groups.items()}
    return fit_groups(
        the_model,
        groups,
        keys,
        share=shared,
        fix=fix,
        init=init,
        bounds=bounds,
        ci=ci,
        level=level,
        progress=progress,
        loss=loss,
        workers=workers,
    )


def split_groups(
    frame: pd.DataFrame, keys: Sequence[str], columns: Sequence[str]
) -> dict[tuple, tuple[NDArray, ...]]:
    """Group key tuple -> the group's `columns` as arrays, in order of first
    appearance (``frame.groupby(keys, sort=False, dropna=False)``'s groups,
    without building a frame per group: one stable sort and a split, so
    that a screen of 10^5 groups is cut in well under a second). Where
    each group's rows are already together, as screens write them, the
    groups are those runs of rows, found by comparing neighbours, with no
    grouping or sort at all."""
    if not len(frame):
        return {}
    runs = _runs(frame, keys)
    if runs is not None:
        names = _key_values(frame, keys, runs)
        if len(set(names)) == len(names):  # no key comes back: runs are groups
            return _cut(frame, columns, names, runs[1:], None)
    codes = frame.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    order = np.argsort(codes, kind="stable")
    cuts = np.flatnonzero(np.diff(codes[order])) + 1
    names = _key_values(frame, keys, order[np.concatenate([[0], cuts])])
    return _cut(frame, columns, names, cuts, order)


def _key_values(
    frame: pd.DataFrame, keys: Sequence[str], rows: NDArray[np.intp]
) -> list[tuple]:
    """The keys of `rows` as tuples of Python values, column by column
    (``tolist`` converts in C)."""
    return list(zip(*(frame[k].iloc[rows].tolist() for k in keys), strict=True))


def _cut(
    frame: pd.DataFrame,
    columns: Sequence[str],
    names: list[tuple],
    cuts: NDArray[np.intp],
    order: NDArray[np.intp] | None,
) -> dict[tuple, tuple[NDArray, ...]]:
    """Key -> its slices of `columns`, the rows in `order` (None: as they
    are, copied) cut at `cuts` (np.split's views, at a fifth of its cost)."""
    bounds = list(zip([0, *cuts.tolist()], [*cuts.tolist(), len(frame)], strict=True))
    parts = []
    for c in columns:
        column = frame[c].to_numpy()
        column = column.copy() if order is None else column[order]
        parts.append([column[a:b] for a, b in bounds])
    return dict(zip(names, zip(*parts, strict=True), strict=True))


def _runs(frame: pd.DataFrame, keys: Sequence[str]) -> NDArray[np.intp] | None:
    """The first row of each run of equal keys, where every key column
    compares in bulk (numbers, dates, categories, Arrow strings: not Python
    objects) and misses no value; else None."""
    change = np.zeros(len(frame), dtype=bool)
    change[0] = True
    for k in keys:
        column = frame[k]
        if column.dtype == object or column.isna().any():
            return None
        values = column.array
        change[1:] |= np.asarray(values[1:] != values[:-1], dtype=bool)
    return np.flatnonzero(change)


def _check_quantal(model: SCurveModel, weights: Any, ci: str) -> None:
    """What quantal fits (``trials=``) refuse."""
    if "log_dose" not in getattr(model, "dose_options", ()):
        raise FitError(
            f"trials (quantal data) need a dose-response model (hill, hill5), "
            f"not {model.label}"
        )
    if weights is not None:
        raise FitError("trials weight the binomial likelihood: drop weights")
    if ci == "profile":
        raise FitError("profile intervals are not available for quantal fits")


def _fit_quantal_table(
    model: SCurveModel,
    frame: pd.DataFrame,
    keys: list[str],
    shared: list[str],
    weights: Any,
    fix: Mapping[str, float] | None,
    init: Mapping[str, float] | None,
    bounds: Mapping[str, tuple[float, float]] | None,
    ci: str,
    level: float,
    progress: Callable[[int], None] | None,
) -> FitResult | GroupFits:
    """:func:`fit` with ``trials``: binomial maximum likelihood per group."""
    from scurve.models import dose

    _check_quantal(model, weights, ci)
    if shared:
        raise FitError("share is not available for quantal fits (trials)")
    columns = ("x", "y", "trials")
    if not keys:
        x, k, n = (frame[c].to_numpy() for c in columns)
        return dose.fit_quantal(
            x, k, n, model=model, fix=fix, init=init, bounds=bounds, level=level
        )
    groups = {}
    for key, part in frame.groupby(keys, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        groups[key] = tuple(part[c].to_numpy() for c in columns)
    return dose.fit_quantal_groups(
        model, groups, keys, fix=fix, init=init, bounds=bounds, level=level,
        progress=progress,
    )  # fmt: skip
