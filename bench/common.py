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
