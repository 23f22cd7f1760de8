"""Shared signal helpers: the fractional delay."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.signals import fractional_delay


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
