"""The ``ankle`` command: parse arguments, call the analysis, render a table or JSON.

Sub-commands: ``analyze`` and ``synth`` here; the live ones (``scan``, ``record``,
``recover``, ``emulate``, ``demo``) in :mod:`cli.live`.

Bad input (unreadable or malformed recording, bad option value) ends with one line on
stderr naming the file and the problem, and exit status 2; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from analysis.gait import align_clocks, analyze_gait, gait_balance
from analysis.heel_raise import analyze_heel_raises, side_balance
from analysis.heel_rise_test import heel_rise_test, limb_symmetry
from analysis.pogo import analyze_pogo
from analysis.prescriptions import TempoError, TempoPrescription
from cli.live import LiveError, add_parsers, cmd_emulate, dispatch
from cli.report import (
    balance_json,
    balance_table,
    gait_balance_json,
    gait_balance_table,
    gait_json,
    gait_table,
    heel_raise_json,
    heel_raise_table,
    heel_rise_test_json,
    heel_rise_test_table,
    pogo_json,
    pogo_table,
    symmetry_json,
    symmetry_table,
)
from imu.recording import RecordingError, read_recording, write_recording

#: The lowest rate each analysis accepts (Hz).
MIN_RATE_HZ = {"heel-raise": 50.0, "pogo": 100.0, "strides": 100.0, "walk": 50.0}


class UsageError(Exception):
    """A bad option value; reported in one line with exit status 2."""


def _positive(name: str):
    def conv(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if not v > 0:
            raise argparse.ArgumentTypeError(f"{name} must be > 0, got {text!r}")
        return v

    return conv


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ankle", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    a = sub.add_parser("analyze", help="analyse a saved ankle-imu-csv/1 recording")
    a.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="recording (ankle-imu-csv/1); two files = left and right shoe (header 'side')",
    )
    a.add_argument("--exercise", required=True, choices=sorted(MIN_RATE_HZ))
    a.add_argument(
        "--test",
        choices=["heel-rise", "10-5"],
        help="score a standard test: heel-rise = single-leg test at 60 bpm (heel-raise); "
        "10-5 = repeated jump test, mean RSI of the best 5 of 10 (pogo)",
    )
    a.add_argument(
        "--body-mass-kg",
        type=_positive("--body-mass-kg"),
        help="athlete's mass; overrides the header (enables work in J)",
    )
    a.add_argument(
        "--involved",
        choices=["left", "right"],
        help="injured/weaker side for the limb symmetry index (default: the lower side)",
    )
    a.add_argument("--tempo", help="prescribed UP-HOLD-DOWN-REST seconds, e.g. 2-1-3-0")
    a.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    a.add_argument(
        "--foot-length-cm",
        type=_positive("--foot-length-cm"),
        help="shoe/foot length; overrides the header (enables heel-rise height)",
    )

    s = sub.add_parser("synth", help="write a synthetic recording and its ground truth")
    s.add_argument("out", help="output CSV path; the truth goes to OUT.truth.json")
    s.add_argument(
        "--exercise", default="heel-raise", choices=["heel-raise", "pogo", "strides", "walk"]
    )
    s.add_argument(
        "--side",
        choices=["left", "right", "both"],
        default="left",
        help="strides/walk: 'both' writes OUT-left.csv and OUT-right.csv of one session",
    )
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--rate-hz", type=_positive("--rate-hz"), default=400.0)
    s.add_argument("--mounting", choices=["laces", "heel", "lateral", "medial"])
    s.add_argument("--packet-loss", type=float, default=0.0)

    add_parsers(sub, _positive)  # scan, record, recover, emulate, demo (cli/live.py)
    return p


def _analyze(args: argparse.Namespace) -> int:
    tempo = None
    if args.tempo:
        try:
            tempo = TempoPrescription.parse(args.tempo)
        except TempoError as e:
            raise UsageError(f"--tempo: {e}") from None
    tests_for = {"heel-rise": "heel-raise", "10-5": "pogo"}
    if args.test and tests_for[args.test] != args.exercise:
        raise UsageError(f"--test {args.test} goes with --exercise {tests_for[args.test]}")
    if args.exercise == "pogo":
        return _analyze_pogo(args)
    if args.exercise in ("strides", "walk"):
        return _analyze_gait(args)
    if len(args.files) > 2:
        raise UsageError(f"at most two files (left and right), got {len(args.files)}")
    if args.involved and len(args.files) != 2:
        raise UsageError("--involved needs two files (left and right)")
    recs = [read_recording(f, min_rate_hz=MIN_RATE_HZ[args.exercise]) for f in args.files]
    sides = _sides(args.files, recs)
    reports = {}
    for side, path, rec in zip(sides, args.files, recs, strict=True):
        foot = args.foot_length_cm or rec.meta_float("foot_length_cm")
        mass = args.body_mass_kg or rec.meta_float("body_mass_kg")
        res = analyze_heel_raises(
            rec.t_s, rec.acc_mps2, rec.gyr_dps, fs_hz=rec.fs_hz, foot_length_cm=foot, tempo=tempo
        )
        test = heel_rise_test(res, body_mass_kg=mass) if args.test == "heel-rise" else None
        reports[side] = (path, res, test)
    sym = None
    balance = side_balance(reports["left"][1], reports["right"][1]) if len(reports) == 2 else None
    if len(reports) == 2 and args.test == "heel-rise":
        tests = {s: r[2] for s, r in reports.items()}
        if all(t is not None for t in tests.values()):
            sym = limb_symmetry(tests, args.involved)
    if args.json:
        objs = {}
        for side, (path, res, test) in reports.items():
            obj = heel_raise_json(res, source=path)
            if args.test:
                obj["test"] = heel_rise_test_json(test)
            objs[side] = obj
        if len(objs) == 1:
            out = next(iter(objs.values()))
        else:
            out = {
                "exercise": "heel-raise",
                "sensors": objs,
                "balance": balance_json(balance),
                "symmetry": symmetry_json(sym) if sym else None,
            }
        print(json.dumps(out))
    else:
        blocks = []
        for path, res, test in reports.values():
            blocks.append(heel_raise_table(res, source=path))
            if args.test:
                blocks.append(heel_rise_test_table(test, source=path))
        if balance:
            blocks.append(balance_table(balance))
        if sym:
            blocks.append(symmetry_table(sym))
        print("\n\n".join(blocks))
    return 0


def _analyze_pogo(args: argparse.Namespace) -> int:
    if args.tempo:
        raise UsageError("--tempo applies to --exercise heel-raise")
    if len(args.files) != 1:
        raise UsageError("--exercise pogo takes one file (one shoe sensor)")
    path = args.files[0]
    rec = read_recording(path, min_rate_hz=MIN_RATE_HZ["pogo"])
    mass = args.body_mass_kg or rec.meta_float("body_mass_kg")
    res = analyze_pogo(
        rec.t_s,
        rec.acc_mps2,
        rec.gyr_dps,
        fs_hz=rec.fs_hz,
        body_mass_kg=mass,
        ten_five=args.test == "10-5",
    )
    missing = "no round with 10 contacts: the 10/5 test needs 10 rebound jumps in a row"
    if args.json:
        doc = pogo_json(res, source=path)
        if args.test == "10-5" and res.ten_five is None:
            doc["test"] = {"name": "10-5", "result": None, "why": missing}
        print(json.dumps(doc))
    else:
        text = pogo_table(res, source=path)
        if args.test == "10-5" and res.ten_five is None:
            text += f"\n10/5 test: {missing}"
        print(text)
    return 0


def _analyze_gait(args: argparse.Namespace) -> int:
    for opt in ("tempo", "test", "involved"):
        if getattr(args, opt):
            raise UsageError(f"--{opt} does not apply to --exercise {args.exercise}")
    if len(args.files) > 2:
        raise UsageError(f"at most two files (left and right), got {len(args.files)}")
    recs = [read_recording(f, min_rate_hz=MIN_RATE_HZ[args.exercise]) for f in args.files]
    sides = _sides(args.files, recs)
    results = {
        side: (path, rec, analyze_gait(rec.t_s, rec.acc_mps2, rec.gyr_dps, fs_hz=rec.fs_hz))
        for side, path, rec in zip(sides, args.files, recs, strict=True)
    }
    balance = None
    if len(results) == 2:
        (_, lrec, lres), (_, rrec, rres) = results["left"], results["right"]
        clock = align_clocks(
            (lrec.t_s, lrec.acc_mps2, lrec.gyr_dps),
            (rrec.t_s, rrec.acc_mps2, rrec.gyr_dps),
            [s.initial_contact_s for s in lres.steps],
            [s.initial_contact_s for s in rres.steps],
        )
        balance = gait_balance(lres, rres, clock)
    if args.json:
        objs = {
            side: gait_json(res, args.exercise, source=path)
            for side, (path, _, res) in results.items()
        }
        if len(objs) == 1:
            out = next(iter(objs.values()))
        else:
            out = {
                "exercise": args.exercise,
                "sensors": objs,
                "balance": gait_balance_json(balance),
            }
        print(json.dumps(out))
    else:
        blocks = [gait_table(res, args.exercise, source=path) for path, _, res in results.values()]
        if balance is not None:
            blocks.append(gait_balance_table(balance))
        print("\n\n".join(blocks))
    return 0


def _sides(files: list[str], recs: list) -> list[str]:
    """Side of each file: the header's ``side``; with two files they must differ."""
    if len(recs) == 1:
        return [recs[0].side or "left"]
    sides = [(r.side or "").strip().lower() for r in recs]
    if sorted(sides) != ["left", "right"]:
        raise UsageError(
            f"{files[0]}, {files[1]}: two files need headers 'side: left' and 'side: right', "
            f"got {sides[0] or 'none'} and {sides[1] or 'none'}"
        )
    return sides


def _synth(args: argparse.Namespace) -> int:
    from imu.synth.gait import strides_session, two_sensor_session, walk_session
    from imu.synth.hops import pogo_session
    from imu.synth.scenarios import heel_raise_session

    if args.exercise in ("strides", "walk") and args.side == "both":
        left, right, truth = two_sensor_session(
            args.seed,
            args.exercise,
            fs_hz=args.rate_hz,
            mounting=args.mounting,
            packet_loss=args.packet_loss,
        )
        stem = str(args.out).removesuffix(".csv")
        for side, rec in (("left", left), ("right", right)):
            write_recording(f"{stem}-{side}.csv", rec)
        Path(stem + ".truth.json").write_text(json.dumps(truth, indent=1))
        print(f"wrote {stem}-left.csv, {stem}-right.csv ({left.duration_s:.1f} s) and the truth")
        return 0
    make = {
        "pogo": pogo_session,
        "heel-raise": heel_raise_session,
        "strides": strides_session,
        "walk": walk_session,
    }[args.exercise]
    kw = {"side": args.side} if args.exercise in ("strides", "walk") else {}
    rec, truth = make(
        args.seed, args.rate_hz, mounting=args.mounting, packet_loss=args.packet_loss, **kw
    )
    write_recording(args.out, rec)
    Path(str(args.out) + ".truth.json").write_text(json.dumps(truth, indent=1))
    print(f"wrote {args.out} ({len(rec)} samples, {rec.duration_s:.1f} s) and its truth file")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if argv[:1] == ["emulate"]:  # the emulator's own parser (imu/emulator/__main__.py)
            return cmd_emulate(argv[1:])
        args = _parser().parse_args(argv)
        if args.command == "analyze":
            return _analyze(args)
        if args.command == "synth":
            return _synth(args)
        return dispatch(args)
    except (RecordingError, UsageError, LiveError) as e:
        print(f"ankle: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ankle: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
