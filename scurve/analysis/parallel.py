r"""Parallel-line assays of binary outcomes: binomial ``sigmoid`` fits of
groups with a common slope (``by=``, ``share="scale"``), the relative
potency of two groups with delta and Fieller intervals, and the
likelihood-ratio test of parallelism.

References
----------
.. [1] D. J. Finney, "Statistical Method in Biological Assay", 3rd ed.,
   Griffin, 1978, chapters 3-4 (parallel-line assays, Fieller's theorem).
.. [2] D. J. Finney, "Probit Analysis", 3rd ed., Cambridge University
   Press, 1971, chapter 4.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from scurve.analysis.binary import is_binomial, link_factor, require_binomial
from scurve.analysis.dose import _group_data, fieller, shared_test
from scurve.errors import InputError, OptionError
from scurve.fitters.engine import fit_groups
from scurve.fitters.options import FitOptions
from scurve.inference.intervals import LEVEL
from scurve.results.fit import FitResult, JointFit
from scurve.results.groups import GroupFits

__all__ = ["fieller", "parallelism", "relative_potency"]


def _parallel(first: FitResult, second: FitResult) -> JointFit:
    """The joint fit of two groups of one parallel-line fit (``share``
    holding ``scale``), refusing anything else."""
    for one in (first, second):
        require_binomial(one)
        link_factor(one)
    joint = first.joint
    if (
        joint is None
        or second.joint is not joint
        or joint.covariance is None
        or joint.groups[first.key]["scale"] != joint.groups[second.key]["scale"]
    ):
        raise InputError(
            "relative potency of binomial sigmoids needs two groups of one "
            "parallel-line fit (by= with share='scale') and its covariance"
        )
    return joint


def relative_potency(
    first: FitResult,
    second: FitResult,
    *,
    base: float | None = None,
    level: float = LEVEL,
) -> pd.DataFrame:
    r"""Relative potency of two groups of a parallel-line binomial fit
    (``by=``, ``share="scale"``: a common slope), with delta and Fieller
    intervals (Finney's parallel-line assay).

    On the covariate the lines are a shift
    :math:`M = \text{center}_1 - \text{center}_2 = (\text{intercept}_2 -
    \text{intercept}_1)/\text{slope}` apart: the second group reaches each
    probability :math:`M` lower. With the covariate a logarithm of dose to
    `base`, the second is :math:`\rho = \text{base}^M` times as potent as the
    first (the dose ratio for equal effect).

    Parameters
    ----------
    first, second : FitResult
        Two groups of one joint fit whose shapes have a GLM link.
    base : float, optional
        The base of the covariate's logarithm (10, or ``math.e``): report
        :math:`\rho` (the interval's ends mapped) instead of :math:`M`.
    level : float
        Confidence level; the normal quantile (binomial dispersion is known).

    Returns
    -------
    pandas.DataFrame
        Rows ``delta`` and ``fieller``; columns value, stderr (of M, or of
        :math:`\rho` by the delta method), lower, upper.

    Raises
    ------
    InputError
        Fits that are not two groups of one parallel-line binomial fit.
    OptionError
        A `base` that is not a number > 0 other than 1.
    """
    if base is not None and not (math.isfinite(base) and base > 0 and base != 1):
        raise OptionError("base", f"must be a number > 0 other than 1, not {base:g}")
    joint = _parallel(first, second)
    names = list(joint.names)
    c1, c2 = joint.groups[first.key]["center"], joint.groups[second.key]["center"]
    s = joint.groups[first.key]["scale"]
    v = {n: joint.values[n] for n in names}
    # M = a / b with a = (center_1 - center_2) / scale (the intercepts'
    # difference) and b = 1 / scale (the slope; the link's k cancels)
    grad_a = np.zeros(len(names))
    grad_b = np.zeros(len(names))
    grad_a[names.index(c1)] += 1 / v[s]
    grad_a[names.index(c2)] -= 1 / v[s]
    grad_a[names.index(s)] = -(v[c1] - v[c2]) / v[s] ** 2
    grad_b[names.index(s)] = -1 / v[s] ** 2
    a, b = (v[c1] - v[c2]) / v[s], 1 / v[s]
    cov = np.asarray(joint.covariance)
    vaa, vbb, vab = grad_a @ cov @ grad_a, grad_b @ cov @ grad_b, grad_a @ cov @ grad_b
    shift = v[c1] - v[c2]
    grad_m = np.zeros(len(names))
    grad_m[names.index(c1)], grad_m[names.index(c2)] = 1.0, -1.0
    se = math.sqrt(max(float(grad_m @ cov @ grad_m), 0.0))
    q = float(stats.norm.ppf(0.5 + level / 2))
    rows = {
        "delta": (shift, se, shift - q * se, shift + q * se),
        "fieller": (shift, se, *fieller(a, b, vaa, vbb, vab, q)),
    }
    if base is not None:
        # rho = base**M: delta on rho itself, Fieller's ends mapped
        rho = base**shift
        se_rho = rho * math.log(base) * se
        rows = {
            "delta": (rho, se_rho, rho - q * se_rho, rho + q * se_rho),
            "fieller": (rho, se_rho, *(base**e for e in rows["fieller"][2:])),
        }
    return pd.DataFrame.from_dict(
        rows, orient="index", columns=["value", "stderr", "lower", "upper"]
    )


def parallelism(shared: GroupFits) -> dict[str, Any]:
    r"""The test of parallel lines: the likelihood ratio of the fit with a
    common scale (`shared`, ``share="scale"``) against a separate binomial
    fit of each group, :math:`\chi^2 = D_0 - D_1` on :math:`\nu_0 - \nu_1`
    df. A small p-value says the slopes differ (the potency is not one
    number).

    Returns
    -------
    dict
        ``test``, ``chi2``, ``df``, ``p_value``, ``deviance_separate``,
        ``deviance_common`` (as :func:`scurve.analysis.dose.shared_test`).

    Raises
    ------
    InputError
        `shared` is not a binomial sigmoid fit sharing ``scale``.
    """
    if "scale" not in shared.shared or not is_binomial(shared):
        raise InputError(
            "the test of parallelism needs a binomial sigmoid fit with "
            "share='scale' (by= groups)"
        )
    groups, fixed = _group_data(shared)
    others = tuple(n for n in shared.shared if n != "scale")
    options = FitOptions(share=others, fix=fixed, ci="none", trials=True)
    separate = fit_groups(shared.model, groups, shared.by, options)
    return shared_test(separate, shared)
