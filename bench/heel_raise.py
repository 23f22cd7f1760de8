"""Heel-raise benchmark: accuracy against synthetic truth, and speed.

Run: ``python bench/heel_raise.py [--sessions N] [--no-speed]``

Accuracy: N random sessions (random person, tempo 0.5-4 s phases, flat or step, straight or
bent knee, walking and weight shifts between sets, random mounting place and axes, sensor
errors, 0.5 % packet loss) at each rate. Errors are measured minus true, per phase boundary,
as bias (mean) and spread (SD) in ms, and MAE; range in deg; heel height in cm.

Speed: one hour at 1 kHz (3.6 M samples, synthetic heel raises tiled), analysis after
loading, on one core; compared in the same run with the VQF orientation filter (offline
VQF, pip package ``vqf``, the established 6-D alternative for foot pitch) on the same
samples, as a ratio.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from common import tile_hour  # noqa: E402

from analysis.heel_raise import analyze_heel_raises  # noqa: E402
from imu.synth.scenarios import heel_raise_session  # noqa: E402

PHASES = ("start_s", "top_start_s", "top_end_s", "end_s")
RATES = (50.0, 100.0, 200.0, 400.0, 1000.0)
PLACES = ("laces", "heel", "lateral", "medial")


def accuracy(n_sessions: int) -> None:
    rows = []
    by_place: dict[str, list] = {p: [] for p in PLACES}
    count_ok = count_all = invented = missed = 0
    for fs in RATES:
        errs, rom, height = [], [], []
        for k in range(n_sessions):
            seed = 1000 * int(fs) + k
            place = PLACES[k % len(PLACES)]
            rec, truth = heel_raise_session(seed, fs, mounting=place, packet_loss=0.005)
            res = analyze_heel_raises(
                rec.t_s,
                rec.acc_mps2,
                rec.gyr_dps,
                fs_hz=rec.fs_hz,
                foot_length_cm=rec.meta_float("foot_length_cm"),
            )
            count_all += 1
            if len(res.reps) != len(truth["reps"]):
                invented += max(0, len(res.reps) - len(truth["reps"]))
                missed += max(0, len(truth["reps"]) - len(res.reps))
                continue
            count_ok += 1
            e = np.array(
                [
                    [np.nan if getattr(m, p) is None else getattr(m, p) - t[p] for p in PHASES]
                    for m, t in zip(res.reps, truth["reps"], strict=True)
                ]
            )
            errs.append(e)
            by_place[place].append(e)
            rom += [m.rom_deg - t["rom_deg"] for m, t in zip(res.reps, truth["reps"], strict=True)]
            height += [
                m.heel_rise_cm - t["heel_rise_cm"]
                for m, t in zip(res.reps, truth["reps"], strict=True)
            ]
        e = np.vstack(errs) * 1000 if errs else np.full((1, 4), np.nan)
        rows.append((f"{fs:g} Hz", e, np.array(rom), np.array(height)))
    print(
        f"\nRep count exact in {count_ok}/{count_all} sessions; "
        f"reps invented: {invented}, missed: {missed}"
    )
    print("\nPhase boundary error, ms: bias +- SD (MAE); range and heel-height error: bias +- SD")
    hdr = f"{'':>9} {'n reps':>6} " + " ".join(f"{p:>20}" for p in PHASES)
    print(hdr + f" {'ROM deg':>13} {'heel cm':>13}")
    for name, e, rom, h in rows:
        cells = " ".join(
            f"{np.nanmean(e[:, k]):+6.1f}+-{np.nanstd(e[:, k]):5.1f} ({np.nanmean(np.abs(e[:, k])):4.1f})"
            for k in range(4)
        )
        print(
            f"{name:>9} {len(e):>6} {cells} {rom.mean():+5.2f}+-{rom.std():4.2f}"
            f" {h.mean():+5.2f}+-{h.std():4.2f}"
        )
    print("\nBy mounting place (all rates), phase MAE ms:")
    for place, es in by_place.items():
        if es:
            e = np.vstack(es) * 1000
            print(
                f"{place:>9} {len(e):>6} "
                + " ".join(f"{np.nanmean(np.abs(e[:, k])):20.1f}" for k in range(4))
            )
    print("Targets: count exact everywhere; MAE <= 30 ms at >= 100 Hz; range within 1.5 deg.")


def _hour(loss: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One hour at 1 kHz: a synthetic session tiled, optionally with lost packets."""
    return tile_hour(heel_raise_session(5, 1000.0, packet_loss=loss)[0])


def speed() -> None:
    print("\nSpeed: one hour at 1 kHz, analysis after loading, one core")
    rows = []
    for name, loss in (("lossless", 0.0), ("0.5 % packets lost", 0.005)):
        t, acc, gyr = _hour(loss)
        t0 = time.perf_counter()
        res = analyze_heel_raises(t, acc, gyr, fs_hz=1000.0)
        ours = time.perf_counter() - t0
        rows.append((name, len(t), len(res.reps), ours))
        print(
            f"{'ankle-motion heel-raise analysis, ' + name:<52} {ours:7.2f} s "
            f"({len(t) / 1e6:.2f} M samples, {len(res.reps)} reps)"
        )
    try:
        from vqf import offlineVQF
    except ImportError:
        print("VQF not installed (pip install '.[bench]'): no comparison")
        return
    t, acc, gyr = _hour(0.0)
    t0 = time.perf_counter()
    offlineVQF(np.ascontiguousarray(np.radians(gyr)), np.ascontiguousarray(acc), None, 1e-3)
    theirs = time.perf_counter() - t0
    print(f"{'VQF offline 6-D orientation alone (lossless samples)':<52} {theirs:7.2f} s")
    print(f"ratio VQF / ours (lossless): {theirs / rows[0][3]:.1f}x   target: ours < 1 s")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=6)
    ap.add_argument("--no-speed", action="store_true")
    a = ap.parse_args()
    accuracy(a.sessions)
    if not a.no_speed:
        speed()
