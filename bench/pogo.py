"""Pogo/hop benchmark: contacts against synthetic force-plate truth, and speed.

Run: ``python bench/pogo.py [--sessions N] [--no-speed]``

Accuracy: N random sessions per rate (100, 200, 400, 1000 Hz): every pogo kind of
protocols.md (double/single-leg, forward-back, side-to-side, 10/5, two-minute easy bounce),
standing, walking and rest between rounds, random mounting place (cycled) and axes, sensor
errors and anti-alias filter, 0.5 % packet loss. Truth is the 20 N crossing of the
synthesizer's ground-force model. A detected contact matches a true one when their
landings are within 40 ms. Errors are detected minus true, as bias (mean) +- SD and MAE, ms.

Speed: one hour of hopping at 1 kHz, analysis after loading, one core.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from common import ms_cell, tile_hour  # noqa: E402

from analysis.pogo import analyze_pogo  # noqa: E402
from imu.synth.hops import KINDS, pogo_session, random_pogo_setup  # noqa: E402

RATES = (100.0, 200.0, 400.0, 1000.0)
PLACES = ("laces", "heel", "lateral", "medial")
MATCH_S = 0.04


def score(res, truth) -> dict:
    """Match detected to true contacts by landing time; errors in ms."""
    tl = np.array([c["landing_s"] for c in truth["contacts"]])
    tt = np.array([c["takeoff_s"] for c in truth["contacts"]])
    # Flight as reported: none for the last contact of a round (the contract).
    tf = {}
    for k, c in enumerate(truth["contacts"]):
        nxt = truth["contacts"][k + 1] if k + 1 < len(truth["contacts"]) else None
        if nxt is not None and nxt["round"] == c["round"] and nxt["landing_s"] > c["takeoff_s"]:
            tf[k] = nxt["landing_s"] - c["takeoff_s"]
    used = set()
    out = {"land": [], "takeoff": [], "contact": [], "flight": [], "tp": 0}
    for c in res.contacts:
        j = int(np.argmin(np.abs(tl - c.landing_s))) if len(tl) else -1
        if j < 0 or abs(tl[j] - c.landing_s) > MATCH_S or j in used:
            continue
        used.add(j)
        out["tp"] += 1
        out["land"].append(c.landing_s - tl[j])
        out["takeoff"].append(c.takeoff_s - tt[j])
        out["contact"].append((c.takeoff_s - c.landing_s) - (tt[j] - tl[j]))
        if c.flight_ms is not None and j in tf:
            out["flight"].append(c.flight_ms / 1000.0 - tf[j])
    out["fp"] = len(res.contacts) - out["tp"]
    out["fn"] = len(tl) - out["tp"]
    return out


def accuracy(n_sessions: int) -> None:
    print(
        "\nContact and flight time, ms: bias +- SD (MAE); F1 over all contacts."
        f" {n_sessions} sessions per rate."
    )
    hdr = f"{'':>8} {'true':>5} {'tp':>5} {'fp':>4} {'fn':>4} {'F1':>6} "
    hdr += " ".join(f"{k:>24}" for k in ("landing", "take-off", "contact_ms", "flight_ms"))
    print(hdr)
    by_place: dict[str, dict] = {p: {"contact": [], "flight": []} for p in PLACES}
    by_kind: dict[str, dict] = {k: {"contact": [], "flight": [], "fp": 0, "fn": 0} for k in KINDS}
    for i_fs, fs in enumerate(RATES):
        agg = {"land": [], "takeoff": [], "contact": [], "flight": [], "tp": 0, "fp": 0, "fn": 0}
        for k in range(n_sessions):
            seed = 7000 + 1000 * int(fs) + k
            rng = np.random.default_rng(seed)
            kind = KINDS[k % len(KINDS)]
            place = PLACES[(k + i_fs) % len(PLACES)]
            setup = random_pogo_setup(rng, kind)
            rec, truth = pogo_session(seed, fs, setup=setup, mounting=place, packet_loss=0.005)
            res = analyze_pogo(rec.t_s, rec.acc_mps2, rec.gyr_dps, fs_hz=rec.fs_hz)
            s = score(res, truth)
            for key in agg:
                agg[key] += s[key]
            for key in ("contact", "flight"):
                by_place[place][key] += s[key]
                by_kind[kind][key] += s[key]
            by_kind[kind]["fp"] += s["fp"]
            by_kind[kind]["fn"] += s["fn"]
        true = agg["tp"] + agg["fn"]
        f1 = 2 * agg["tp"] / max(1, 2 * agg["tp"] + agg["fp"] + agg["fn"])
        print(
            f"{fs:>6g}Hz {true:>5} {agg['tp']:>5} {agg['fp']:>4} {agg['fn']:>4} {f1:6.4f} "
            + " ".join(ms_cell(agg[k]) for k in ("land", "takeoff", "contact", "flight"))
        )
    print("\nBy mounting place (all rates):")
    for p, d in by_place.items():
        print(f"{p:>12} contact {ms_cell(d['contact'])}  flight {ms_cell(d['flight'])}")
    print("By kind (all rates):")
    for kd, d in by_kind.items():
        print(
            f"{kd:>12} contact {ms_cell(d['contact'])}  flight {ms_cell(d['flight'])}"
            f"  fp {d['fp']} fn {d['fn']}"
        )
    print(
        "Targets: F1 = 1; contact and flight MAE <= 4 ms and |bias| <= 2 ms at >= 400 Hz,"
        " MAE <= 8 ms at 100 Hz."
    )


def speed() -> None:
    setup = random_pogo_setup(np.random.default_rng(5), "easy-bounce")
    t, acc, gyr = tile_hour(pogo_session(5, 1000.0, setup=setup, mounting="laces")[0])
    t0 = time.perf_counter()
    res = analyze_pogo(t, acc, gyr, fs_hz=1000.0)
    ours = time.perf_counter() - t0
    print(
        f"\nSpeed: one hour of hopping at 1 kHz ({len(t) / 1e6:.2f} M samples,"
        f" {len(res.contacts)} contacts): {ours:.2f} s (target < 1 s)"
    )


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=6)
    ap.add_argument("--no-speed", action="store_true")
    a = ap.parse_args()
    accuracy(a.sessions)
    if not a.no_speed:
        speed()
