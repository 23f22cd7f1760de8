"""Shared bench helpers."""

from __future__ import annotations

import numpy as np


def tile_hour(rec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One hour of a recording repeated end to end: (t_s, acc_mps2, gyr_dps)."""
    reps = int(np.ceil(3600.0 / rec.duration_s))
    period = rec.t_s[-1] + 1.0 / rec.fs_hz
    t = np.concatenate([rec.t_s + k * period for k in range(reps)])
    keep = t < 3600.0
    acc = np.tile(rec.acc_mps2, (reps, 1))[keep]
    gyr = np.tile(rec.gyr_dps, (reps, 1))[keep]
    return t[keep], acc, gyr


def ms_cell(err_s: list[float]) -> str:
    """Errors in s as 'bias+-SD (MAE)' in ms, 24 characters wide ('-' if none)."""
    if not len(err_s):
        return f"{'-':>24}"
    x = 1000.0 * np.asarray(err_s)
    return f"{x.mean():+6.2f}+-{x.std():5.2f} ({np.abs(x).mean():5.2f})"
