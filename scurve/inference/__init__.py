"""Statistics, verdicts, intervals, Hessians and likelihoods, over stacks of curves.

Every rule of inference is written once, for a stack of curves (``(b, n)``
arrays of points, ``(b, k)`` parameters, ``(b, k, k)`` covariances); a single
curve is a stack of one. The paths that minimize (:mod:`scurve.fitters`)
hand their curves to :func:`~scurve.inference.summary.summarize`, which
computes what is reported.

Modules: :mod:`~scurve.inference.statistics` (n, rss, AIC ..., the flat
test), :mod:`~scurve.inference.verdicts` (statuses),
:mod:`~scurve.inference.intervals` (t quantiles, profiles, bands),
:mod:`~scurve.inference.hessian` (drc's covariance),
:mod:`~scurve.inference.derived` (derived quantities),
:mod:`~scurve.inference.likelihoods` (least squares, binomial, robust, a
model's own estimator), :mod:`~scurve.inference.summary`.
"""
