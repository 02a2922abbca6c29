"""Audio waveshaping: soft-clip curves rendered without aliasing, measured, fitted.

- :class:`Waveshaper` (:mod:`scurve.audio.shaper`): drive, bias, mix, output
  gain, oversampling (:mod:`scurve.audio.resample`) and antiderivative
  anti-aliasing (:mod:`scurve.audio.adaa`), one-shot or streamed;
- :func:`render_file`, :func:`analyze_file` (:mod:`scurve.audio.files`):
  audio files through soundfile, block by block;
- :func:`thd`, :func:`thd_n`, :func:`harmonic_levels`, :func:`aliasing`,
  :func:`steady_tone` (:mod:`scurve.audio.analysis`);
- :func:`levels`, :func:`true_peak`, :func:`average_spectrum`
  (:mod:`scurve.audio.levels`): level over time, true peak (ITU-R BS.1770-4),
  crest factor and the averaged spectrum of any audio, music included.

Arrays are ``(samples,)`` for mono or ``(channels, samples)``; soundfile's
``(frames, channels)`` is accepted where a function says so
(``channels_last=True``) and refused elsewhere, never guessed.

The device-fitting model is :class:`scurve.models.shaper.SoftclipModel`;
:func:`scurve.audio.device.fit_device` fits it to a recording (it imports the
fitting engine, so this package does not import it).
"""

from scurve.audio.analysis import (
    aliasing,
    estimate_fundamental,
    harmonic_levels,
    spectrum,
    steady_tone,
    thd,
    thd_n,
)
from scurve.audio.files import analyze_file, read_audio, render_file, soft_limit
from scurve.audio.levels import average_spectrum, levels, true_peak
from scurve.audio.shaper import CURVES, QUALITY, ShaperStream, Waveshaper

__all__ = [
    "CURVES",
    "QUALITY",
    "ShaperStream",
    "Waveshaper",
    "aliasing",
    "analyze_file",
    "average_spectrum",
    "estimate_fundamental",
    "harmonic_levels",
    "levels",
    "read_audio",
    "render_file",
    "soft_limit",
    "spectrum",
    "steady_tone",
    "thd",
    "thd_n",
    "true_peak",
]
