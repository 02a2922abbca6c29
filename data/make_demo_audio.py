"""Synthesize the demo audio in data/: a plucked-string riff and a 'device' take.

Run ``python data/make_demo_audio.py`` from the repository root; it rewrites

``demo_guitar.flac``
    3 s, mono, 44.1 kHz, 16-bit FLAC: six plucked notes (E2 A2 D3 G3 B3 E4,
    one every 0.4 s, each ringing on) made by the Karplus-Strong algorithm
    [1]_ from seeded noise bursts, peak at -6 dBFS. Entirely synthetic.
``demo_guitar_device.flac``
    The same riff through a *stand-in* for an analog distortion pedal:
    ``Waveshaper("arctan", drive_db=15, bias=0.1, output_db=-4,
    dc_block=False)`` at ``quality="best"`` (DC-coupled: the static curve the
    softclip model fits, with no coupling high-pass), delayed by 64 samples
    (1.45 ms, as an audio interface's round trip) and with white noise at
    -80 dBFS added, as a recording would have. Synthetic as well;
    ``scurve fit-shaper`` should find arctan, +15 dB, bias 0.1 and -4 dB in it.

The output is deterministic (numpy's PCG64 with seed 7; FLAC is lossless).

References
----------
.. [1] K. Karplus, A. Strong, "Digital synthesis of plucked-string and drum
   timbres", Computer Music Journal 7(2):43-55, 1983.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.signal
import soundfile as sf

from scurve.audio import Waveshaper

RATE = 44100
SECONDS = 3.0
NOTES_HZ = (82.41, 110.0, 146.83, 196.0, 246.94, 329.63)  # E2 A2 D3 G3 B3 E4
SPACING_S = 0.4
DECAY = 0.996  # loop gain per period: a ring of a few seconds
DEVICE = {"curve": "arctan", "drive_db": 15.0, "bias": 0.1, "output_db": -4.0}
DEVICE_DELAY = 64
NOISE_DBFS = -80.0
HERE = Path(__file__).resolve().parent


def pluck(frequency: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Karplus-Strong: y[k] = burst[k] + g (y[k-P] + y[k-P-1]) / 2."""
    period = round(RATE / frequency)
    burst = np.zeros(n)
    burst[:period] = rng.uniform(-1, 1, period)
    feedback = np.zeros(period + 2)
    feedback[0] = 1.0
    feedback[period] = feedback[period + 1] = -DECAY / 2
    return scipy.signal.lfilter([1.0], feedback, burst)


def riff(rng: np.random.Generator) -> np.ndarray:
    n = int(SECONDS * RATE)
    out = np.zeros(n)
    for i, frequency in enumerate(NOTES_HZ):
        start = int(i * SPACING_S * RATE)
        out[start:] += pluck(frequency, n - start, rng)
    # a gentle one-pole lowpass (a guitar pickup's roll-off), then -6 dBFS peak
    out = scipy.signal.lfilter([0.35], [1.0, -0.65], out)
    return 0.5 * out / np.max(np.abs(out))


def main() -> None:
    rng = np.random.default_rng(7)
    dry = riff(rng)
    wet = Waveshaper(**DEVICE, quality="best", dc_block=False)(dry, RATE)
    wet = np.concatenate([np.zeros(DEVICE_DELAY), wet])[: dry.size]
    wet += rng.normal(0.0, 10 ** (NOISE_DBFS / 20), dry.size)
    sf.write(HERE / "demo_guitar.flac", dry, RATE, subtype="PCM_16")
    sf.write(HERE / "demo_guitar_device.flac", wet, RATE, subtype="PCM_16")


if __name__ == "__main__":
    main()
