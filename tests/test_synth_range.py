"""The synthesizer's full-scale ranges: an input that changes only the saturation."""

from __future__ import annotations

import numpy as np

from imu.recording import STANDARD_GRAVITY
from imu.synth.gait import strides_session
from imu.synth.hops import pogo_session


def test_default_range_is_the_old_session_and_smaller_ranges_saturate():
    rec0, truth0 = strides_session(3, 400.0)
    rec1, _ = strides_session(3, 400.0, sensor_range=(16.0, 2000.0))
    assert np.array_equal(rec0.acc_mps2, rec1.acc_mps2)
    assert np.array_equal(rec0.gyr_dps, rec1.gyr_dps)
    rec, truth = strides_session(3, 400.0, sensor_range=(4.0, 500.0))
    assert truth["sensor"]["range"] == {"acc_g": 4.0, "gyr_dps": 500.0}
    assert np.array_equal(rec.t_s, rec0.t_s)  # same sampling, same motion
    assert truth["contacts"] == truth0["contacts"]
    assert np.abs(rec.acc_mps2).max() <= 4.0 * STANDARD_GRAVITY + 1e-9
    assert np.abs(rec.gyr_dps).max() <= 500.0 + 1e-9
    assert np.abs(rec0.gyr_dps).max() > 600.0  # running does exceed +-500 deg/s
    # Away from the saturated stretches the readings are the same samples.
    same = np.all(rec.gyr_dps == rec0.gyr_dps, axis=1)
    assert same.mean() > 0.5


def test_pogo_range_keyword():
    rec0, _ = pogo_session(4, 200.0)
    rec, truth = pogo_session(4, 200.0, sensor_range=(8.0, 1000.0))
    assert truth["sensor"]["range"]["acc_g"] == 8.0
    assert np.abs(rec.acc_mps2).max() <= 8.0 * STANDARD_GRAVITY + 1e-9
    assert np.abs(rec0.acc_mps2).max() > 8.0 * STANDARD_GRAVITY
