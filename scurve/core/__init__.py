"""The sigmoid core: stable primitives (:mod:`~scurve.core.special`), the
S-curve family (:mod:`~scurve.core.shapes`) and kernels over stacks of
curves (:mod:`~scurve.core.stacked`).

The bottom floor of scurve: it imports numpy and scipy, nothing of scurve's
above it.
"""
