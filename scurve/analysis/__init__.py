"""Analyses of fitted curves: dose-response (ECx, potency, lack of fit,
inverse prediction, quantal fits; :mod:`scurve.analysis.dose`), growth
(growthcurver's plate summary; :mod:`scurve.analysis.growth`) and diffusion
(forecasts; :mod:`scurve.analysis.diffusion`).
"""
