"""Live recording benchmark: two emulated sensors at 1 kHz, live analysis on, real time.

Run: ``python bench/live.py [--duration 60] [--exercise heel-raise|pogo] [--rate 1000]``

The emulator (two virtual sensors, synthesized movement, ``imu.emulator.serve``) runs in a
child process on 127.0.0.1 over TCP, as ``ankle emulate`` would; this process is the
recorder: ``cli.live.record`` (the function behind ``ankle record``: bleak over the
emulator's bumble host, raw logs, packet assembly every 50 ms, live analysis, the plain
view written to a buffer).

Reported:

* recorder CPU: this process's CPU time (every thread) from START to STOP, as % of one
  core, and the live analysis' share of it; the emulator's own CPU, separately (its
  process, as it reports);
* latency: from the end of each rep (contact), on the sensor clock mapped to the host
  clock (the packets' arrival envelope, which includes the link's minimum delay, about
  1 ms here), to the moment the recorder first showed it; median, 95th percentile and max
  over every rep (contact) of the final analysis that was shown (target 150 ms). Pogo: a
  round's first two contacts are shown provisionally at once (a round is three contacts in
  a row) and count from that showing; the contacts shown provisionally and withdrawn
  (retracted: not in the final analysis) are counted (target 0), and so are the final
  contacts never shown;
* samples lost end to end: samples the sensors formed minus samples in the saved CSVs
  (target 0), and the packets the CSV header counts as lost;
* the live announcements against the final analysis of the saved files.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def child_emulator(argv: list[str]) -> int:
    """``--child``: the emulator process; prints its address, then its stats as JSON."""
    from imu.emulator.__main__ import build_parser, run_from_args

    args = build_parser().parse_args(argv)
    result = asyncio.run(run_from_args(args))
    stats = {
        name: {"samples_formed": st.samples_formed, "packets_formed": st.packets_formed}
        for name, st in result["sensors"].items()
    }
    out = {k: result[k] for k in ("cpu_s", "wall_s", "cpu_fraction", "sensors_cpu_s")}
    print("RESULT " + json.dumps({**out, "sensors": stats}), flush=True)
    return 0


def run(
    duration_s: float, exercise: str, rate_hz: int, out_dir: Path, threaded: bool = True
) -> dict:
    from cli.live import PlainView, RecordConfig, record
    from imu.emulator.backend import close_hosts

    emu = subprocess.Popen(
        [sys.executable, __file__, "--child", "--port", "0", "--exercise", exercise]
        + ["--side", "both", "--rate", str(rate_hz), "--report-every", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        address = None
        for line in emu.stdout:
            if line.startswith("listening on "):
                address = line.split()[-1]
                break
        if address is None:
            raise RuntimeError("the emulator did not start")
        tempo = None
        if exercise == "heel-raise":
            from analysis.prescriptions import TempoPrescription

            tempo = TempoPrescription.parse("2-1-3-0")
        cfg = RecordConfig(
            exercise=exercise,
            tempo=tempo,
            side="both",
            out=out_dir,
            rate_hz=rate_hz,
            duration_s=duration_s,
            threaded=threaded,
        )
        view = PlainView(cfg, io.StringIO())

        async def main():
            try:
                return await record(cfg, backend=address, view=view)
            finally:
                await close_hosts()

        t0 = time.perf_counter()
        result = asyncio.run(main())
        wall = time.perf_counter() - t0
    finally:
        emu.send_signal(2)  # SIGINT: the emulator stops and prints its stats
        tail, _ = emu.communicate(timeout=30)
    emu_stats = json.loads(next(x for x in tail.splitlines() if x.startswith("RESULT "))[7:])
    return {"result": result, "emulator": emu_stats, "wall_s": wall, "view": view.out.getvalue()}


def first_two_of_round(sr) -> np.ndarray:
    """Pogo: per shown event (not retracted, in ``sr.events`` order), whether the final
    analysis has it among the first two of its round (shown provisionally)."""
    first: set[int] = set()
    count: dict[int, int] = {}
    for c in sr.offline.contacts:
        count[c.round_index] = count.get(c.round_index, 0) + 1
        if count[c.round_index] <= 2:
            first.add(id(c))
    return np.array([m.final is not None and id(m.final) in first for m in sr.match.matches])


def shown_latency_ms(sr) -> np.ndarray:
    """Latency (first showing) of every event not retracted, in ``sr.match.matches``
    order, ms."""
    lat = dict(zip((e.number for e in sr.events), sr.latency_s, strict=True))
    return np.array([1e3 * lat[m.event.number] for m in sr.match.matches])


def report(r: dict, duration_s: float, rate_hz: int) -> None:
    res, emu = r["result"], r["emulator"]
    cpu_pct = 100 * res.streaming_cpu_s / res.streaming_s
    analysis = sum(sr.analysis_cpu_s for sr in res.sensors.values())
    print(
        f"\nLive recording benchmark: {len(res.sensors)} emulated sensors at {rate_hz} Hz, "
        f"{res.exercise}, {res.streaming_s:.1f} s streamed in real time, live analysis on"
    )
    print("\nCPU, % of one core                      measured   target")
    print(f"  recorder process (START to STOP)      {cpu_pct:7.1f}   < 15")
    print(f"    of which live analysis (both)       {100 * analysis / res.streaming_s:7.1f}")
    print(f"  emulator process (separately)         {100 * emu['cpu_fraction']:7.1f}")
    print(
        f"    of which the sensors' own code      {100 * emu['sensors_cpu_s'] / emu['wall_s']:7.1f}"
    )

    kind = "reps" if res.exercise == "heel-raise" else "contacts"
    print(
        f"\n{'sensor':<7} {'formed':>9} {'saved':>9} {'lost':>5} {'pkts lost':>9} "
        f"{kind + ' live':>10} {'final':>6} {'agree 1ms':>9} {'diff ms':>7} {'lat med ms':>10} "
        f"{'lat max ms':>10} {'> 150 ms':>8} {'retracted':>9} {'runs':>5} {'run ms':>6}"
    )
    formed_by_name = {name: s["samples_formed"] for name, s in emu["sensors"].items()}
    total_lost = 0
    all_lat = []
    first_two = []
    retracted = missed = 0
    late: list[str] = []
    for side, sr in res.sensors.items():
        formed = formed_by_name.get(sr.name, -1)
        saved = len(sr.recording)
        lost = formed - saved
        total_lost += lost
        final = sr.offline.reps if res.exercise == "heel-raise" else sr.offline.contacts
        lat = shown_latency_ms(sr)  # every shown event, from its first showing
        if res.exercise == "pogo" and len(lat):
            first_two += list(lat[first_two_of_round(sr)])
        all_lat += list(lat)
        for m, ms in zip(sr.match.matches, lat, strict=True):
            if ms > 150:  # sensor-clock part: how long the analysis held it back
                own_ms = 1e3 * (m.event.announced_at_s - m.event.end_s)
                late.append(f"{side} {m.event.end_s:.2f} s: {ms:.0f} ms ({own_ms:.0f} ms)")
        n_retracted = len(sr.match.retracted)
        retracted += n_retracted
        missed += len(sr.match.missed)
        print(
            f"{side:<7} {formed:>9} {saved:>9} {lost:>5} {sr.summary.packets_lost:>9} "
            f"{len(sr.match.matches):>10} {len(final):>6} {str(sr.match.agrees(1e-3)):>9} {1e3 * sr.match.max_diff_s:>7.2f} "
            f"{np.median(lat) if len(lat) else float('nan'):>10.0f} "
            f"{lat.max() if len(lat) else float('nan'):>10.0f} "
            f"{int(np.count_nonzero(lat > 150)):>8} {n_retracted:>9} {sr.analysis_runs:>5} "
            f"{1e3 * sr.analysis_cpu_s / max(1, sr.analysis_runs):>6.1f}"
        )
    if all_lat:
        a = np.asarray(all_lat)
        print(
            f"\nLatency (movement end -> first shown), all {len(a)} {kind} shown: median "
            f"{np.median(a):.0f} ms, 95th percentile {np.percentile(a, 95):.0f} ms, max "
            f"{a.max():.0f} ms, {int(np.count_nonzero(a > 150))} over 150 ms (target 150)"
        )
    if late:
        print(
            "  over 150 ms (sensor, its end on the sensor clock: latency, and in brackets the "
            "part the analysis held it back, on the sensor clock): " + "; ".join(late)
        )
    if first_two:
        b = np.asarray(first_two)
        print(
            f"  of which a round's first two (shown provisionally, included above): {len(b)}, "
            f"median {np.median(b):.0f} ms, max {b.max():.0f} ms"
        )
    if res.exercise == "pogo":
        print(
            f"Contacts shown provisionally and withdrawn: {retracted} (target 0); "
            f"final contacts never shown: {missed}"
        )
    print(f"Samples lost end to end: {total_lost} (target 0)")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child_emulator(argv[1:])
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=60.0, help="seconds (default 60)")
    p.add_argument("--exercise", choices=["heel-raise", "pogo"], default="heel-raise")
    p.add_argument("--rate", type=int, default=1000)
    p.add_argument("--keep", metavar="DIR", help="keep the recordings in DIR")
    p.add_argument(
        "--inline", action="store_true", help="live analysis in the event loop, not a thread"
    )
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep) if args.keep else Path(tmp)
        r = run(args.duration, args.exercise, args.rate, out, threaded=not args.inline)
        report(r, args.duration, args.rate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
