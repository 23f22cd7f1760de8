"""Strides/walk benchmark: step events against synthetic force-plate truth, and speed.

Run: ``python bench/gait.py [--sessions N] [--no-speed] [--speed-repeats R]
[--range ACC_G,GYR_DPS]``

Accuracy: N random strides sessions per rate (100, 200, 400, 1000 Hz; rearfoot, midfoot
and forefoot strikers, easy pace to sprint, with the walk-back recovery and standing) and
N walking sessions (walking and the heel-toe drill), random mounting place (cycled) and
axes, sensor errors and anti-alias filter, 0.5 % packet loss, readings saturating at the
sensor's full-scale range (``--range``, default +-16 g and +-2000 deg/s). Truth is the 20 N
crossing of the synthesizer's ground-force model. A detected contact matches a true one
when their initial contacts are within 50 ms. Errors are detected minus true, as bias (mean) +- SD
and MAE, in ms, for running contacts (steady and all) and walking contacts apart.

The real walking recording with motion-capture reference, side by side with gaitmap's
detectors, is ``bench/gaitmap_walking.py``.

Speed: one hour of running strides at 1 kHz, analysis after loading, one core: the first
call (what a one-shot run sees, including the first touch of the memory it allocates) and
the best of ``R`` calls (steady state, less sensitive to other load on the machine).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from common import ms_cell, tile_hour  # noqa: E402

from analysis.gait import analyze_gait  # noqa: E402
from imu.synth.gait import (  # noqa: E402
    random_strides_setup,
    random_walk_setup,
    strides_session,
    walk_session,
)

RATES = (100.0, 200.0, 400.0, 1000.0)
PLACES = ("laces", "heel", "lateral", "medial")
MATCH_S = 0.05


def score(res, truth) -> dict:
    """Match detected to true contacts by initial contact; errors in ms by kind."""
    t_ic = np.array([c["initial_contact_s"] for c in truth["contacts"]])
    t_to = np.array([c["toe_off_s"] for c in truth["contacts"]])
    kind = [c["kind"] for c in truth["contacts"]]
    steady = [c.get("steady", True) for c in truth["contacts"]]
    out = {k: {"ic": [], "to": [], "contact": []} for k in ("run", "run_steady", "walk")}
    used, fp = set(), 0
    for s in res.steps:
        j = int(np.argmin(np.abs(t_ic - s.initial_contact_s))) if len(t_ic) else -1
        if j < 0 or abs(t_ic[j] - s.initial_contact_s) > MATCH_S or j in used:
            fp += 1
            continue
        used.add(j)
        e = (
            s.initial_contact_s - t_ic[j],
            s.toe_off_s - t_to[j],
            (s.toe_off_s - s.initial_contact_s) - (t_to[j] - t_ic[j]),
        )
        keys = [kind[j]] + (["run_steady"] if kind[j] == "run" and steady[j] else [])
        for k in keys:
            for name, v in zip(("ic", "to", "contact"), e, strict=True):
                out[k][name].append(v)
    fn = {
        k: sum(1 for j, kk in enumerate(kind) if kk == k and j not in used) for k in ("run", "walk")
    }
    n = {k: sum(1 for kk in kind if kk == k) for k in ("run", "walk")}
    return {"err": out, "fp": fp, "fn": fn, "n": n}


def accuracy(n_sessions: int, sensor_range: tuple[float, float] = (16.0, 2000.0)) -> None:
    print(
        "\nContact time, ms: bias +- SD (MAE). fp: steps invented (including in recovery "
        f"walking and standing); fn: true contacts missed. {n_sessions} sessions per rate. "
        f"Sensor range +-{sensor_range[0]:g} g, +-{sensor_range[1]:g} deg/s."
    )
    hdr = f"{'':>10} {'true':>5} {'fp':>4} {'fn':>4} "
    hdr += " ".join(f"{k:>24}" for k in ("IC", "TO", "contact_ms", "contact_ms steady"))
    print(hdr)
    by_place: dict[str, list] = {p: [] for p in PLACES}
    by_strike: dict[str, list] = {}
    for i_fs, fs in enumerate(RATES):
        for ex in ("strides", "walk"):
            agg = {"ic": [], "to": [], "contact": [], "steady": [], "fp": 0, "fn": 0, "n": 0}
            for k in range(n_sessions):
                seed = 9000 + 1000 * int(fs) + k + (500 if ex == "walk" else 0)
                rng = np.random.default_rng(seed)
                place = PLACES[(k + i_fs) % len(PLACES)]
                if ex == "strides":
                    setup = random_strides_setup(rng, n_reps=2)
                    rec, truth = strides_session(
                        seed, fs, setup=setup, mounting=place, sensor_range=sensor_range
                    )
                else:
                    setup = random_walk_setup(rng)
                    rec, truth = walk_session(
                        seed, fs, setup=setup, mounting=place, sensor_range=sensor_range
                    )
                res = analyze_gait(rec.t_s, rec.acc_mps2, rec.gyr_dps, fs_hz=rec.fs_hz)
                s = score(res, truth)
                main = "run" if ex == "strides" else "walk"
                for name in ("ic", "to", "contact"):
                    agg[name] += s["err"][main][name]
                agg["steady"] += s["err"]["run_steady"]["contact"] if ex == "strides" else []
                agg["fp"] += s["fp"]
                agg["fn"] += s["fn"][main]
                agg["n"] += s["n"][main]
                by_place[place] += s["err"][main]["contact"]
                if ex == "strides":
                    by_strike.setdefault(setup.strike, []).extend(s["err"]["run"]["contact"])
            label = f"{fs:g}Hz {'run' if ex == 'strides' else 'walk'}"
            print(
                f"{label:>10} {agg['n']:>5} {agg['fp']:>4} {agg['fn']:>4} "
                + " ".join(ms_cell(agg[k]) for k in ("ic", "to", "contact", "steady"))
            )
    print("\nContact time by mounting place (all rates, run and walk):")
    for p, e in by_place.items():
        print(f"{p:>12} {ms_cell(e)}")
    print("Running contact time by strike (all rates):")
    for k, e in by_strike.items():
        print(f"{k:>12} {ms_cell(e)}")
    print(
        "Targets: running contact-time MAE <= 5 ms at >= 400 Hz; every contact found, none "
        "invented in the recovery or standing."
    )


def speed(repeats: int = 3) -> None:
    rng = np.random.default_rng(5)
    rec, _ = strides_session(5, 1000.0, setup=random_strides_setup(rng, n_reps=2), mounting="laces")
    t, acc, gyr = tile_hour(rec)
    seconds = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        res = analyze_gait(t, acc, gyr, fs_hz=1000.0)
        seconds.append(time.perf_counter() - t0)
    best = f", best of {len(seconds)} {min(seconds):.2f} s" if len(seconds) > 1 else ""
    print(
        f"\nSpeed: one hour of strides at 1 kHz ({len(t) / 1e6:.2f} M samples,"
        f" {len(res.steps)} contacts): first call {seconds[0]:.2f} s{best} (target < 1 s)"
    )


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=4)
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--speed-repeats", type=int, default=3, help="calls timed in the speed part")
    ap.add_argument(
        "--range",
        default="16,2000",
        help="sensor full-scale ranges 'ACC_G,GYR_DPS' of the synthetic sessions (readings "
        "saturate there; the motion is the same)",
    )
    a = ap.parse_args()
    acc_g, gyr_dps = (float(x) for x in a.range.split(","))
    accuracy(a.sessions, (acc_g, gyr_dps))
    if not a.no_speed:
        speed(a.speed_repeats)
