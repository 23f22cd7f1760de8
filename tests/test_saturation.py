"""Readings beyond the sensor's full-scale range: the synthesizer saturates as a real part
does, and the step detector still times the contacts whose push-off the gyro clips."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.gait import analyze_gait
from imu.recording import STANDARD_GRAVITY
from imu.synth.gait import random_strides_setup, strides_session


def test_a_saturated_stretch_reads_exactly_the_limit():
    # Sensitivity and offset act ahead of the converter, whose output is pinned at the
    # full-scale code while it saturates: no noise, no scale error on a saturated stretch
    # (before, it read 0.5-1 % under the limit with noise, and only 4 % of the samples
    # within 1 % of the limit were at it).
    rec, _ = strides_session(3, 400.0, sensor_range=(4.0, 500.0))
    for x, limit in ((rec.gyr_dps, 500.0), (rec.acc_mps2, 4.0 * STANDARD_GRAVITY)):
        near = np.abs(x) >= 0.99 * limit
        at = np.abs(x) == limit
        assert near.sum() > 500  # the session does saturate
        assert at.sum() >= 0.9 * near.sum()
        assert np.abs(x).max() <= limit
        # Held there: most samples at the limit have a neighbour at it too.
        held = at[1:-1] & (at[:-2] | at[2:])
        assert held.sum() >= 0.9 * at[1:-1].sum()


def _running_mae_ms(seed: int, fs_hz: float, place: str, sensor_range) -> tuple[float, float]:
    """Toe-off and contact-time MAE (ms) of the running contacts of a bench session
    (every one found, none invented; matched by initial contact within 50 ms)."""
    setup = random_strides_setup(np.random.default_rng(seed), n_reps=2)
    rec, truth = strides_session(
        seed, fs_hz, setup=setup, mounting=place, sensor_range=sensor_range
    )
    res = analyze_gait(rec.t_s, rec.acc_mps2, rec.gyr_dps, fs_hz=rec.fs_hz)
    true = [c for c in truth["contacts"] if c["kind"] == "run"]
    t_ic = np.array([c["initial_contact_s"] for c in truth["contacts"]])
    to_err, ct_err = [], []
    for s in res.steps:
        j = int(np.argmin(np.abs(t_ic - s.initial_contact_s)))
        c = truth["contacts"][j]
        if c["kind"] != "run":
            continue
        assert abs(t_ic[j] - s.initial_contact_s) <= 0.05
        to_err.append(s.toe_off_s - c["toe_off_s"])
        ct_err.append(s.toe_off_s - s.initial_contact_s - (c["toe_off_s"] - t_ic[j]))
    assert len(to_err) == len(true)
    return 1000 * np.abs(to_err).mean(), 1000 * np.abs(ct_err).mean()


@pytest.mark.parametrize(("seed", "fs_hz", "place"), [(409001, 400.0, "medial")])
def test_toe_off_of_a_push_off_beyond_the_gyro_range(seed, fs_hz, place):
    # A sprint's push-off turns the foot at up to ~1900 deg/s; at +-1000 deg/s this
    # mounting clips the axes that carry > 90 % of it, so the rate is a flat top that
    # no unclipped axis rebuilds. Its peak is placed where the rising edge before the
    # top and the falling edge after it meet; toe-off is then read as at +-2000 deg/s.
    # (Read at the top's samples as they are, toe-off was 14 ms off, against 5 ms.)
    to_full, ct_full = _running_mae_ms(seed, fs_hz, place, (16.0, 2000.0))
    to_clip, ct_clip = _running_mae_ms(seed, fs_hz, place, (16.0, 1000.0))
    assert to_clip <= to_full + 1.5
    assert to_clip <= 4.0
    assert ct_clip <= ct_full + 5.0
