r"""Fitting a soft-clip curve to a device: its recording against the dry signal.

:func:`fit_device` lines the device's recording up with the signal sent into
it (:func:`align`: cross-correlation), matches their levels, fits the
``softclip`` model (:class:`scurve.models.shaper.SoftclipModel`) of every
curve with an odd form, and keeps the best by AICc; the result's ``shaper``
renders like the device, and its ``preset()`` saves it.

References
----------
.. [1] K. P. Burnham, D. R. Anderson, *Model Selection and Multimodel
   Inference*, 2nd ed., Springer, 2002 (AICc).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scurve import api
from scurve.audio.shaper import Waveshaper, as_channels
from scurve.errors import FitError
from scurve.models.shaper import SoftclipModel, odd_curves
from scurve.results.fit import FitResult

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FIT_POINTS", "MIN_FRAMES", "DeviceFit", "align", "fit_device", "mono"]

#: Points used to fit a device (evenly spaced in time).
FIT_POINTS = 20000
#: Frames a device's recording needs at least to be fitted.
MIN_FRAMES = 1024


def mono(audio: ArrayLike, channels_last: bool = False) -> NDArray[np.float64]:
    """`audio` (:func:`~scurve.audio.shaper.as_channels` layouts) as one
    channel: the mean of its channels."""
    a = as_channels(np.asarray(audio, dtype=np.float64), channels_last)
    return a if a.ndim == 1 else a.mean(axis=0)


def _channels(audio: ArrayLike, channels_last: bool) -> int:
    a = as_channels(audio, channels_last)
    return 1 if a.ndim == 1 else a.shape[0]


def align(
    dry: ArrayLike, wet: ArrayLike, max_lag: int
) -> tuple[int, int, NDArray[np.float64], NDArray[np.float64]]:
    """Line `wet` up with `dry` by cross-correlation.

    Returns
    -------
    lag : int
        Samples by which `wet` lags `dry` (negative: leads).
    polarity : {1, -1}
        -1 for an inverting device.
    dry, wet : ndarray
        The overlapping parts, aligned, wet multiplied by the polarity.
    """
    import scipy.signal

    d, w = mono(dry), mono(wet)
    corr = scipy.signal.correlate(w, d, mode="full", method="fft")
    lags = scipy.signal.correlation_lags(w.size, d.size, mode="full")
    window = np.abs(lags) <= max_lag
    i = int(np.argmax(np.abs(corr) * window))
    lag, polarity = int(lags[i]), (1 if corr[i] >= 0 else -1)
    if lag >= 0:
        w = w[lag:]
    else:
        d = d[-lag:]
    n = min(d.size, w.size)
    return lag, polarity, d[:n], polarity * w[:n]


@dataclass
class DeviceFit:
    """A device fitted by :func:`fit_device`.

    ``fits`` holds every curve's :class:`~scurve.results.fit.FitResult` (on the
    level-matched recording), ``table`` their AICc comparison, ``best`` the
    winner. ``lag`` (samples), ``polarity`` and ``level_db`` (gain applied to
    the recording to match the dry level) say how the recording was lined up.
    """

    best: str
    lag: int
    polarity: int
    level_db: float
    fits: dict[str, FitResult]
    table: pd.DataFrame
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def result(self) -> FitResult:
        """The best curve's fit."""
        return self.fits[self.best]

    @property
    def settings(self) -> dict[str, float]:
        """The best curve's drive_db, bias and output_db at the device's level
        (the level matching undone)."""
        v = self.result.params.valuesdict()
        return {
            "drive_db": float(v["drive_db"]),
            "bias": float(v["bias"]),
            "output_db": float(v["output_db"]) - self.level_db,
        }

    @property
    def shaper(self) -> Waveshaper:
        """A :class:`~scurve.audio.Waveshaper` that renders like the device."""
        return Waveshaper(self.best, **self.settings)

    def preset(self) -> dict[str, Any]:
        """The shaper's preset plus the fit's figures under ``"fit"``."""
        st = self.result.stats
        return {
            **self.shaper.to_dict(),
            "fit": {
                "lag_samples": self.lag,
                "polarity": self.polarity,
                "offset": float(self.result.params["offset"].value),
                "rms_residual": math.sqrt(st["rss"] / st["n"]),
                "aicc": st["aicc"],
                "points": int(st["n"]),
            },
        }


def fit_device(
    dry: ArrayLike,
    wet: ArrayLike,
    sample_rate: float,
    *,
    curves: list[str] | None = None,
    max_lag_s: float = 1.0,
    points: int = FIT_POINTS,
    channels_last: bool = False,
) -> DeviceFit:
    """Fit every curve to a device's recording and pick the best by AICc.

    Parameters
    ----------
    dry, wet : array_like
        The signal sent into the device and its recorded output,
        ``(samples,)`` or ``(channels, samples)`` (with `channels_last`,
        soundfile's ``(frames, channels)``); channels are averaged. Both
        have the same number of channels, or one of them is mono; each has
        at least :data:`MIN_FRAMES` frames.
    sample_rate : float
    curves : list of str, optional
        Curves to try; default every odd curve of the registry.
    max_lag_s : float
        Largest delay searched, seconds.
    points : int
        Samples used in the fit, evenly spaced.
    channels_last : bool
        `dry` and `wet` are ``(frames, channels)``.

    Raises
    ------
    ValueError
        A layout that is not one of these, channel counts that differ (and
        neither is mono), a bad sample rate or `max_lag_s`.
    FitError
        Signals too short or silent, or no curve could be fitted.
    """
    from scurve.audio.analysis import check_sample_rate

    sample_rate = check_sample_rate(sample_rate)
    if not (math.isfinite(max_lag_s) and max_lag_s >= 0):
        raise ValueError(f"max_lag_s must be a finite number >= 0, got {max_lag_s!r}")
    counts = [_channels(a, channels_last) for a in (dry, wet)]
    if 1 not in counts and counts[0] != counts[1]:
        raise ValueError(
            f"wet has {counts[1]} channels, dry {counts[0]}; give both the same "
            "number of channels, or one of them mono"
        )
    dry, wet = mono(dry, channels_last), mono(wet, channels_last)
    for what, signal in (("dry", dry), ("wet", wet)):
        if signal.size < MIN_FRAMES:
            raise FitError(
                f"the {what} signal has {signal.size} frames; fitting a device "
                f"needs at least {MIN_FRAMES}"
            )
        if not np.any(signal):
            raise FitError(f"the {what} signal is silent")
    lag, polarity, d, w = align(dry, wet, int(max_lag_s * sample_rate))
    if d.size < 16:
        raise FitError(f"only {d.size} samples overlap after alignment (lag {lag})")
    rms_d, rms_w = float(np.sqrt(np.mean(d * d))), float(np.sqrt(np.mean(w * w)))
    if rms_d == 0 or rms_w == 0:
        raise FitError("the dry or the wet signal is silent")
    level = rms_d / rms_w
    if d.size > points:
        pick = np.linspace(0, d.size - 1, points).astype(int)
        d, w = d[pick], w[pick]
    fits: dict[str, FitResult] = {}
    failed: dict[str, str] = {}
    for name in curves or odd_curves():
        try:
            fits[name] = api.fit(x=d, y=w * level, model=SoftclipModel(name), ci="none")
        except FitError as exc:
            failed[name] = str(exc)
    if not fits:
        raise FitError("no curve could be fitted: " + "; ".join(failed.values()))
    table = api.compare(fits).sort_values("aicc")
    return DeviceFit(
        best=str(table.index[0]),
        lag=lag,
        polarity=polarity,
        level_db=20 * math.log10(level),
        fits=fits,
        table=table,
        failed=failed,
    )
