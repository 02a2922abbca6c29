"""What the API refuses before fitting, and says where: options of the fit
(an :class:`~scurve.errors.OptionError` naming the option, an input error
that is also a fit error), ECx that a model cannot give, a registry variant
asked to be another curve; and the inverse band a saved fit gives
(:meth:`~scurve.results.fit.FitResult.inverse_band`)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import scurve
from scurve.analysis.dose import check_ec, ec_table
from scurve.errors import FitError, InputError, OptionError
from scurve.models import get_model

DOSES = np.repeat([0.01, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0], 3)
TRUTH = {"bottom": 1.0, "top": 9.0, "log_ec50": 0.2, "hill": 1.3}


def hill_data(seed: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return get_model("hill").function(DOSES, **TRUTH) + rng.normal(0, 0.1, DOSES.size)


@pytest.mark.parametrize(
    ("kws", "option", "reason"),
    [
        ({"fix": {"slope": 1.0}}, "fix", "has no parameter 'slope'"),
        ({"bounds": {"top": (2.0, 1.0)}}, "bounds", "top needs lower < upper"),
        ({"level": 95}, "level", "must be between 0 and 1, got 95"),
        ({"ci": "wald"}, "ci", "must be delta, profile or none"),
        ({"loss": "l1"}, "loss", "unknown loss 'l1'"),
        ({"loss": "huber", "ci": "profile"}, "ci", "not available with a robust"),
        ({"model": "logistic", "trials": np.full(DOSES.size, 20.0)}, "trials",
         "quantal data need a curve that is a probability (sigmoid, hill, hill5, "
         "weibull2), not logistic"),
        ({"trials": np.full(DOSES.size, 20.0), "weights": np.ones(DOSES.size)},
         "weights", "trials weight the binomial likelihood"),
    ],
)  # fmt: skip
def test_an_option_refused_is_named(kws: dict, option: str, reason: str) -> None:
    kws = {"model": "hill", **kws}
    with pytest.raises(OptionError) as caught:
        scurve.fit(x=DOSES, y=hill_data(), **kws)
    error = caught.value
    assert error.option == option
    assert reason in error.reason
    assert str(error) == f"{option}: {error.reason}"
    # a usage error on the command line (exit 2), caught as a fit error too
    assert isinstance(error, InputError)
    assert isinstance(error, FitError)


def test_trials_with_weights_are_refused_when_the_table_is_read() -> None:
    frame = pd.DataFrame({"d": DOSES, "k": np.round(hill_data()), "n": 20.0})
    with pytest.raises(OptionError, match="weights: trials weight"):
        scurve.read(frame, "hill", x="d", y="k", trials="n", weights="n")


def test_ecx_are_refused_before_fitting_for_other_models() -> None:
    with pytest.raises(OptionError, match=r"ECx needs a dose-response fit \(hill"):
        check_ec(get_model("sigmoid"), [50])
    for bad in (0, 100, -5):
        with pytest.raises(OptionError, match="0 < x < 100"):
            check_ec(get_model("weibull2"), [10, bad])
    assert check_ec(get_model("hill5"), [10, 50, 90]).name == "hill5"
    fit = scurve.fit(x=np.linspace(-3, 3, 15), y=np.tanh(np.linspace(-3, 3, 15)))
    with pytest.raises(OptionError, match="not sigmoid"):
        ec_table(fit, [50])


def test_a_variant_refuses_to_be_another_curve() -> None:
    assert get_model("weibull2", shape="cloglog").name == "weibull2"  # restated
    with pytest.raises(ValueError, match="weibull2 is hill with shape='cloglog'"):
        get_model("weibull2", shape="logistic")


def test_the_inverse_band_inverts_the_curve_and_brackets_it(tmp_path) -> None:
    fit = scurve.fit(x=DOSES, y=hill_data(), model="hill")
    doses = np.array([0.2, 1.0, 5.0])
    y = fit.eval(x=doses)
    x, lower, upper = fit.inverse_band(y)
    np.testing.assert_allclose(x, doses, rtol=1e-10)
    assert np.all(lower < x)
    assert np.all(x < upper)
    # wider at a higher level, NaN outside the plateaus
    _, lo99, hi99 = fit.inverse_band(y, level=0.99)
    assert np.all(lo99 < lower)
    assert np.all(hi99 > upper)
    out, lo, hi = fit.inverse_band([fit.params["top"].value + 1.0])
    assert np.isnan([out[0], lo[0], hi[0]]).all()
    # the same from the saved fit
    path = tmp_path / "fit.json"
    fit.result_table.write(path)
    saved = scurve.load(path)
    np.testing.assert_allclose(saved.inverse_band(y), (x, lower, upper), rtol=1e-9)


def test_a_model_without_an_inverse_says_so() -> None:
    x = np.linspace(0, 20, 30)
    y = get_model("gompertz").function(x, A=2.0, mu_m=0.4, lag=3.0, N_min=0.0)
    fit = scurve.fit(x=x, y=y + np.random.default_rng(1).normal(0, 0.02, x.size),
                     model="gompertz")  # fmt: skip
    assert not fit.model.invertible
    with pytest.raises(NotImplementedError):
        fit.inverse_band([1.0])


def test_load_names_its_source_as_told(tmp_path) -> None:
    path = tmp_path / "fits.json"
    path.write_text(json.dumps({"model": "hill", "groups": "none"}))
    with pytest.raises(InputError, match=r"^<stdin>: "):
        scurve.load(path, name="<stdin>")
    with pytest.raises(InputError, match=r"fits\.json"):
        scurve.load(path)
