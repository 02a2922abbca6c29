"""The paths that minimize: vectorized Levenberg-Marquardt over stacks of
curves (:mod:`~scurve.fitters.vectorized`, on :mod:`~scurve.fitters.lm`),
lmfit one curve at a time (:mod:`~scurve.fitters.single`), joint fits of
groups with shared parameters (:mod:`~scurve.fitters.joint`); the one place
that picks the path (:mod:`~scurve.fitters.plan`), the options of a fit
(:mod:`~scurve.fitters.options`) and the engine that runs them
(:mod:`~scurve.fitters.engine`).
"""
