r"""One curve's fit, as an lmfit :class:`~lmfit.model.ModelResult`.

A :class:`FitResult` is built from its row of a
:class:`~scurve.results.table.ResultTable` and the curve's data, on demand:
the engine fills the table from arrays, and a result is made only when
someone asks for it (``scurve.fit`` of one curve, ``fits["A1"]``). It *is*
an lmfit ModelResult (``fit_report``, ``conf_interval``, ``eval_uncertainty``
keep working) whose numbers are the table's: the same values, standard
errors, covariance and statistics (``aic`` and ``bic`` are R's, as the
table's), and it adds the interval table at a level, bands, a status in
plain words, plots and JSON.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import lmfit
import numpy as np
from lmfit.model import ModelResult
from numpy.typing import ArrayLike, NDArray

from scurve.inference.intervals import CI, check_level, curve_band
from scurve.inference.likelihoods import Likelihood, Robust
from scurve.inference.statistics import stats_text
from scurve.models.base import add_symbols
from scurve.results.table import ResultTable

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CurveData", "FitResult", "JointFit"]

#: The statistics of a result's text report (:meth:`FitResult.summary`).
SHOWN_STATS = ("n", "dof", "rss", "sigma", "r2", "aic")


@dataclass
class CurveData:
    """One curve's points: x, y and weights (None: all 1). For binomial
    data y holds the proportions and the weights the numbers of trials."""

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    w: NDArray[np.float64] | None = None


@dataclass
class JointFit:
    """The joint fit of groups that share parameters: each group's
    parameter names in the joint fit (``{model name: joint name}``), the
    joint covariance of the fitted joint parameters ``names`` and its
    residual degrees of freedom and sum of squares."""

    groups: dict[tuple, dict[str, str]]
    names: list[str]
    covariance: NDArray[np.float64] | None
    values: dict[str, float]
    nfree: float
    chisqr: float


class FitResult(ModelResult):
    """The result of one fit: an :class:`lmfit.model.ModelResult` and more.

    Attributes
    ----------
    level : float
        Confidence level of :attr:`table` and of bands (default 0.95).
    ci : {"delta", "profile", "none"}
        How :attr:`table` computes intervals.
    converged : bool
        The values are an optimum.
    status : {"ok", "at_bound", "singular", "flat", "not_converged", "failed"}
    message : str
        What the status means for this fit, in plain words.
    likelihood : Likelihood
        How the parameters were estimated.
    key : tuple
        The group's key (``()`` for a single curve).
    joint : JointFit or None
        The joint fit this group is part of (``share=``).
    axis_labels : (str, str)
        The names of x and y: the columns fitted (``("x", "y")`` for
        arrays), the default axis labels of plots.

    Notes
    -----
    A new result is returned by every fit; the input data are not modified.
    """

    axis_labels: tuple[str, str] = ("x", "y")

    def __init__(
        self,
        table: ResultTable,
        row: int,
        data: CurveData | None,
        likelihood: Likelihood,
        *,
        joint: JointFit | None = None,
        extras: Mapping[str, Any] | None = None,
    ) -> None:
        model = table.model
        names = table.params
        self._rows = table.take([row])
        self.likelihood = likelihood
        self.key = table.groups[row]
        self.joint = joint
        self.level, self.ci = table.level, table.ci
        self.converged = bool(table.converged[row])
        self.status = str(table.status[row])
        self._extras = dict(extras or {})
        for name, value in self._extras.items():
            setattr(self, name, value)
        params = model.make_params()
        for j, name in enumerate(names):
            lo, hi = table.bounds[j]
            params[name].set(min=lo, max=hi, vary=bool(table.vary[j]))
            params[name].set(value=float(table.value[row, j]))
        if data is None:
            data = CurveData(np.array([math.nan]), np.array([math.nan]))
            self._loaded = True
        else:
            self._loaded = False
            add_symbols(params, data.x)
        _update(params)
        super().__init__(
            model,
            params,
            data=data.y,
            weights=data.w,
            fcn_kws={"x": data.x},
            scale_covar=False,
        )
        self.userfcn = self._objective
        self._start = {
            name: float(v)
            for name, v in zip(names, table.start[row], strict=True)
            if math.isfinite(v)
        }
        covariance = None
        if table.has_covariance[row]:
            covariance = np.array(table.covariance[row])
        self._solution = {
            "values": {n: params[n].value for n in names},
            "covar": covariance,
            "names": list(table.covariance_names),
            "nfev": int(table.nfev[row]),
            "objective": float(table.objective[row]),
        }
        start = params.copy()
        for name, value in self._start.items():
            start[name].value = value
        _update(start)
        with np.errstate(all="ignore"):
            self.fit(params=start)
        self.message = str(table.message[row])
        self.aic = float(table.stats["aic"][row])
        self.bic = float(table.stats["bic"][row])
        self.chisqr = float(table.objective[row])
        if self._loaded or table.shared:  # not lmfit's count of the residuals
            dof = table.stats["dof"][row]
            self.nfree = int(dof) if math.isfinite(dof) else self.nfree
        if self._loaded and math.isfinite(table.stats["dof"][row]):
            # and the pseudo-observations of priors, as lmfit counts them
            self.nfree += self.model.penalty(self.params.valuesdict()).size
        self.redchi = self.chisqr / self.nfree if self.nfree > 0 else math.nan
        for j, name in enumerate(table.quantities):
            if name in self.params:
                se = float(table.stderr[row, j])
                self.params[name].stderr = se if math.isfinite(se) else None

    # -- lmfit's machinery on the engine's solution ---------------------------------

    def _objective(
        self,
        params: lmfit.Parameters,
        data: NDArray[np.float64],
        weights: NDArray[np.float64] | None,
        **kws: Any,
    ) -> NDArray[np.float64]:
        """The likelihood's objective residuals (lmfit's ``userfcn``)."""
        values = {n: params[n].value for n in self.model.curve_params}
        return self.likelihood.residual(self.model, values, kws["x"], data, weights)

    def minimize(self, method: str = "leastsq", params: Any = None, **kws: Any) -> Any:
        """The engine's solution, in lmfit's result form (no new fit)."""
        result = self.prepare_fit(params=params)
        result.method = (
            "leastsq" if self.likelihood.name != "robust" else "least_squares"
        )
        solution = self._solution
        for name, value in solution["values"].items():
            result.params[name].value = value
        _update(result.params)
        result.residual = self.userfcn(result.params, *self.userargs, **self.userkws)
        result.nfev = solution["nfev"]
        result._calculate_statistics()
        result.success = self.converged
        result.ier = 1 if result.success else 5
        result.message = ""
        covar = solution["covar"]
        result.errorbars = covar is not None and bool(np.all(np.diag(covar) > 0))
        if covar is not None and list(result.var_names) == solution["names"]:
            result.covar = covar
            self._calculate_uncertainties_correlations()
        else:
            result.covar = None
        return result

    # -- the curve and its data -------------------------------------------------------

    @property
    def fitted(self) -> bool:
        """Whether there is a fit: False for a curve that could not be
        fitted at all (status ``failed``, no numbers; :attr:`message` says
        why)."""
        return not (self.status == "failed" and math.isnan(self.stats["n"]))

    @property
    def x(self) -> NDArray[np.float64]:
        """The independent variable the model was fitted to."""
        return np.asarray(self.userkws["x"], dtype=np.float64)

    @property
    def stats(self) -> dict[str, float]:
        """n, dof, rss, rmse, sigma (residual standard error), r2, loglik,
        aic, aicc, bic (:mod:`scurve.inference.statistics`)."""
        return self._rows.row_stats(0)

    @property
    def known_dispersion(self) -> bool:
        """Intervals use the normal quantile (binomial data)."""
        return self.likelihood.known_dispersion

    @property
    def result_table(self) -> ResultTable:
        """This fit as a one-row results table, at :attr:`level` by
        :attr:`ci`."""
        return self._table_at(self.level, self.ci)

    @property
    def table(self) -> pd.DataFrame:
        """Parameters and derived quantities at :attr:`level` by :attr:`ci`:
        value, stderr, lower, upper, vary, kind, method."""
        return self.result_table.quantity_table(0)

    def intervals(
        self, level: float | None = None, ci: CI | None = None
    ) -> pd.DataFrame:
        """The table of :attr:`table` at another `level` or interval method
        (``delta``, ``profile``, ``none``), by the engine's one rule.

        Raises
        ------
        OptionError
            A `level` that is not strictly between 0 and 1.
        """
        level = self.level if level is None else check_level(level)
        return self._table_at(level, self.ci if ci is None else ci).quantity_table(0)

    def _table_at(self, level: float, ci: CI) -> ResultTable:
        """The one-row table at `level` by `ci` (the fit's own, or computed
        anew from this curve as a stack of one)."""
        from scurve.errors import FitError
        from scurve.inference.derived import Expressions
        from scurve.inference.summary import summarize

        rows = self._rows
        if (level, ci) == (rows.level, rows.ci):
            return rows
        cache = self.__dict__.setdefault("_tables", {})
        if (level, ci) not in cache:
            if ci == "profile" and not self.likelihood.profiles:
                raise FitError(
                    "profile intervals are not available for a "
                    f"{self.likelihood.name} fit"
                )
            summary = summarize(
                self._fitted(), level=level, ci=ci, expressions=Expressions(self.model)
            )
            table = ResultTable.from_summary(
                self.model, summary, keys=rows.keys, groups=rows.groups,
                varied=[rows.params.index(n) for n in rows.covariance_names],
                bounds=rows.bounds, level=level, ci=ci, shared=rows.shared,
            )  # fmt: skip
            cache[level, ci] = replace(
                table, extra=rows.extra, sections=rows.sections, aliases=rows.aliases
            )
        return cache[level, ci]

    def _fitted(self) -> Any:
        """This curve as a stack of one, with its final covariance."""
        from scurve.inference.summary import Fitted

        rows = self._rows
        names = rows.params
        varied = np.array(
            [names.index(n) for n in rows.covariance_names], dtype=np.intp
        )
        x, y = self.x[None], np.asarray(self.data, dtype=np.float64)[None]
        w = np.ones_like(y) if self.weights is None else np.asarray(self.weights)[None]
        values = np.array([[self.params[n].value for n in names]])
        k = len(varied)
        covar = (
            rows.covariance if rows.has_covariance[0] else np.full((1, k, k), np.nan)
        )
        lower = rows.bounds[varied, 0][None]
        upper = rows.bounds[varied, 1][None]

        def profile(c: int, name: str, level: float, se: float) -> tuple[float, float]:
            return self._profile(name, level)

        return Fitted(
            model=self.model,
            likelihood=self.likelihood,
            varied=varied,
            values=values,
            lower=lower,
            upper=upper,
            covar=covar,
            has=rows.has_covariance.copy(),
            x=x,
            y=y,
            w=w,
            mask=np.ones(x.shape, dtype=bool),
            fit=self.model.function(
                x, **{n: values[0, i] for i, n in enumerate(names)}
            ),
            objective=rows.objective.copy(),
            success=np.array([self.status not in ("not_converged", "failed")]),
            aborted=np.array([False]),
            why=[self.message],
            nfev=np.array([self.nfev]),
            final_covariance=True,
            profile=profile,
        )

    def _profile(self, name: str, level: float) -> tuple[float, float]:
        from scurve.inference.intervals import profile_interval

        return profile_interval(
            self._objective,
            self.params,
            name,
            level,
            args=(np.asarray(self.data, dtype=np.float64), self.weights),
            kws={"x": self.x},
            nfree=self.nfree,
            known_dispersion=self.likelihood.known_dispersion,
        )

    def predict(self, x: ArrayLike) -> NDArray[np.float64]:
        """The fitted curve at `x`."""
        return self.eval(x=np.asarray(x, dtype=np.float64))

    def band(
        self,
        x: ArrayLike | None = None,
        kind: Literal["confidence", "prediction"] = "confidence",
        level: float | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Curve and pointwise band at `x`: ``(fit, lower, upper)``
        (:func:`scurve.inference.intervals.curve_band`); the prediction band
        adds the residual variance."""
        x = self.x if x is None else np.asarray(x, dtype=np.float64)
        return self._band(
            lambda p: self.model.eval(p, x=x), kind, level, self.model.log_y
        )

    def inverse_band(
        self, y: ArrayLike, level: float | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """The x at which the curve reaches each `y`, with its pointwise
        confidence band: ``(x, lower, upper)``, the delta method on the
        model's inverse as :meth:`band` on the curve (NaN where `y` is
        outside the curve's range).

        Raises
        ------
        NotImplementedError
            A model without an inverse (``model.invertible`` is False).
        """
        y = np.asarray(y, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return self._band(
                lambda p: np.asarray(self.model.inverse(y, p), dtype=np.float64),
                "confidence",
                level,
                False,
            )

    def _band(
        self,
        curve: Callable[[lmfit.Parameters], NDArray[np.float64]],
        kind: Literal["confidence", "prediction"],
        level: float | None,
        log: bool,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """`curve` of the parameters with its band, at the fit's degrees of
        freedom (infinite for a known dispersion) and `level` (the fit's).

        Raises
        ------
        OptionError
            A `level` that is not strictly between 0 and 1; a prediction
            band of a quantal fit, or of a fit without a residual sigma.
        """
        if kind == "prediction":
            self._check_prediction()
        return curve_band(
            curve,
            self.params,
            self.covar,
            self.var_names,
            math.inf if self.known_dispersion else self.nfree,
            self.stats["sigma"],
            kind,
            self.level if level is None else check_level(level),
            log,
        )

    def _check_prediction(self) -> None:
        """A prediction band needs a residual variance: quantal (binomial)
        fits have none, and a saved fit may lack its sigma."""
        from scurve.errors import OptionError

        if self.known_dispersion:
            raise OptionError(
                "kind", "a quantal (binomial) fit has no prediction band: its "
                "observations are counts, with no residual variance",
            )  # fmt: skip
        if not math.isfinite(self.stats["sigma"]):
            raise OptionError("kind", "no residual sigma, so no prediction band")

    # -- robust fits ---------------------------------------------------------

    @property
    def points(self) -> pd.DataFrame:
        """Per point of a robust fit: x, y, fitted, residual, scaled,
        weight (the loss's down-weighting) and outlier.

        Raises
        ------
        AttributeError
            For a fit that is not robust.
        """
        import pandas as pd

        if not isinstance(self.likelihood, Robust):
            raise AttributeError("points: only a robust fit (loss=) flags outliers")
        return pd.DataFrame(
            self.likelihood.points(
                self.x,
                np.asarray(self.data, dtype=np.float64),
                np.asarray(self.best_fit, dtype=np.float64),
                self.weights,
                self._extras["scale"],
                self._extras["f_scale"],
            )
        )

    @property
    def n_outliers(self) -> int:
        """How many points a robust fit flags (:attr:`points`)."""
        return int(self.points["outlier"].sum())

    # -- output --------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Everything in JSON-ready types: parameters and derived quantities
        with intervals, statistics, status, the model's name and options,
        and the covariance of the fitted parameters (NaN as null,
        infinities as "inf"), enough to rebuild the curve and its band."""
        entry = self.result_table.documents()[0]
        entry.pop("group", None)
        return entry

    def plot(self, **kws: Any) -> Any:
        """Data, fitted curve and confidence band (:func:`scurve.plotting.plot_fit`)."""
        from scurve.plotting import plot_fit

        return plot_fit(self, **kws)

    def summary(self) -> str:
        """A text report: the table, the statistics and the status."""
        table = self.table[["value", "stderr", "lower", "upper"]]
        # a known dispersion (binomial: 1) is no estimate of the scatter
        names = [s for s in SHOWN_STATS if s != "sigma" or not self.known_dispersion]
        shown = stats_text(self.stats, names, sep=", ")
        lines = [
            f"{self.model.label} fit: {shown}",
            f"{self.level:.0%} intervals by the {self.ci} method",
            table.to_string(float_format=lambda v: f"{v:.6g}", na_rep=""),
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
        shown = stats_text(self.stats, ("n", "rss", "r2", "aic"), sep=", ")
        head = (
            f"<p><b>{self.model.label}</b>: {shown.replace('r2=', 'r<sup>2</sup>=')}"
            f", status <b>{self.status}</b> ({self.message})</p>"
        )
        table = self.table.to_html(float_format=lambda v: f"{v:.6g}", na_rep="")
        lmfit_html = super()._repr_html_(show_correl=show_correl, min_correl=min_correl)
        return (
            f"{head}{table}<details><summary>lmfit report</summary>"
            f"{lmfit_html}</details>"
        )


def _update(params: lmfit.Parameters) -> None:
    """The derived quantities' values from the parameters', NaN where their
    expressions cannot be evaluated (a fit without numbers has NaN
    parameters, and 1/NaN is fine but 1/0 is not)."""
    try:
        params.update_constraints()
    except (ArithmeticError, ValueError):
        for param in params.values():
            if param.expr:
                param._expr_eval.error = []
                param.value = math.nan
