"""Shared signal helpers: the fractional delay, block means."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.signals import UniformSignal, block_mean, fractional_delay


@pytest.mark.parametrize("delay", [0.3, -0.7, 1.4, -2.5])
def test_fractional_delay_of_a_slow_sine(delay):
    """A 5 Hz sine at 100 Hz delayed by a fraction of a sample: within 0.1 % of its
    amplitude of the true delayed sine, on a (n, 3) signal along axis 0."""
    fs = 100.0
    t = np.arange(400) / fs
    x = np.column_stack([np.sin(2 * np.pi * 5 * t + k) for k in range(3)])
    y = fractional_delay(x, delay)
    ref = np.column_stack([np.sin(2 * np.pi * 5 * (t - delay / fs) + k) for k in range(3)])
    assert np.abs(y - ref)[5:-5].max() <= 1e-3


def test_whole_sample_delay_is_exact_and_edges_held():
    x = np.arange(10.0)
    assert np.array_equal(fractional_delay(x, 2.0), [0, 0, 0, 1, 2, 3, 4, 5, 6, 7])
    assert fractional_delay(x, 0.0) is x
    # Along the last axis too.
    assert np.allclose(fractional_delay(x[None, :], -1.0, axis=1)[0], [*range(1, 10), 9])


@pytest.mark.parametrize("order", ["C", "F"])
def test_block_mean_averages_blocks_in_either_memory_order(order):
    """Block means down to <= 50 Hz from 204.8 Hz (blocks of 4): each block's mean, its time
    the block's centre; the same numbers whether the (n, 3) arrays are in row order or in
    column order (as pandas gives them)."""
    rng = np.random.default_rng(0)
    n, fs = 1003, 204.8
    acc = np.asarray(rng.normal(size=(n, 3)), order=order)
    gyr = np.asarray(rng.normal(size=(n, 3)) * 100.0, order=order)
    valid = np.ones(n, bool)
    valid[9] = False
    out = block_mean(UniformSignal(2.0, fs, acc, gyr, valid), 50.0)
    m = n // 4
    assert out.fs_hz == pytest.approx(fs / 4)
    assert out.t0_s == pytest.approx(2.0 + 1.5 / fs)
    assert np.allclose(out.acc_mps2, acc[: 4 * m].reshape(m, 4, 3).mean(axis=1), atol=1e-12)
    assert np.allclose(out.gyr_dps, gyr[: 4 * m].reshape(m, 4, 3).mean(axis=1), atol=1e-9)
    assert np.flatnonzero(~out.valid).tolist() == [2]
