"""Shared fixtures: synthetic sessions with truth, and the real gaitmap walking recording."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
GAITMAP_DIR = SHARED / "data" / "gaitmap_walking"
GAITMAP_FS_HZ = 204.8


@pytest.fixture(scope="session")
def gaitmap_walking():
    """Real walking, both feet, sensor axes as mounted: {side: (t_s, acc_mps2, gyr_dps)}."""
    path = GAITMAP_DIR / "imu_sample_not_rotated.csv"
    if not path.exists():
        pytest.skip(f"{path} not found (../shared beside the checkout)")
    df = pd.read_csv(path, header=[0, 1], index_col=0)
    out = {}
    for side in ("left", "right"):
        d = df[f"{side}_sensor"]
        t = np.arange(len(d)) / GAITMAP_FS_HZ
        acc = d[["acc_x", "acc_y", "acc_z"]].to_numpy(float)
        gyr = d[["gyr_x", "gyr_y", "gyr_z"]].to_numpy(float)
        out[side] = (t, acc, gyr)
    return out
