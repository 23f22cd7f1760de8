"""The ``ankle`` command: parse arguments, call the analysis, render a table or JSON.

Bad input (unreadable or malformed recording, bad option value) ends with one line on
stderr naming the file and the problem, and exit status 2; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from analysis.heel_raise import analyze_heel_raises
from analysis.prescriptions import TempoError, TempoPrescription
from cli.report import heel_raise_json, heel_raise_table
from imu.recording import RecordingError, read_recording, write_recording

#: The lowest rate each analysis accepts (Hz).
MIN_RATE_HZ = {"heel-raise": 50.0}


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
    a.add_argument("file", help="recording (ankle-imu-csv/1)")
    a.add_argument("--exercise", required=True, choices=sorted(MIN_RATE_HZ))
    a.add_argument("--tempo", help="prescribed UP-HOLD-DOWN-REST seconds, e.g. 2-1-3-0")
    a.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    a.add_argument(
        "--foot-length-cm",
        type=_positive("--foot-length-cm"),
        help="shoe/foot length; overrides the header (enables heel-rise height)",
    )

    s = sub.add_parser("synth", help="write a synthetic recording and its ground truth")
    s.add_argument("out", help="output CSV path; the truth goes to OUT.truth.json")
    s.add_argument("--exercise", default="heel-raise", choices=["heel-raise"])
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--rate-hz", type=_positive("--rate-hz"), default=400.0)
    s.add_argument("--mounting", choices=["laces", "heel", "lateral", "medial"])
    s.add_argument("--packet-loss", type=float, default=0.0)
    return p


def _analyze(args: argparse.Namespace) -> int:
    tempo = None
    if args.tempo:
        try:
            tempo = TempoPrescription.parse(args.tempo)
        except TempoError as e:
            raise UsageError(f"--tempo: {e}") from None
    rec = read_recording(args.file, min_rate_hz=MIN_RATE_HZ[args.exercise])
    foot = args.foot_length_cm or rec.meta_float("foot_length_cm")
    res = analyze_heel_raises(
        rec.t_s, rec.acc_mps2, rec.gyr_dps, fs_hz=rec.fs_hz, foot_length_cm=foot, tempo=tempo
    )
    if args.json:
        print(json.dumps(heel_raise_json(res, source=args.file)))
    else:
        print(heel_raise_table(res, source=args.file))
    return 0


def _synth(args: argparse.Namespace) -> int:
    from imu.synth.scenarios import heel_raise_session

    rec, truth = heel_raise_session(
        args.seed, args.rate_hz, mounting=args.mounting, packet_loss=args.packet_loss
    )
    write_recording(args.out, rec)
    Path(str(args.out) + ".truth.json").write_text(json.dumps(truth, indent=1))
    print(f"wrote {args.out} ({len(rec)} samples, {rec.duration_s:.1f} s) and its truth file")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "analyze":
            return _analyze(args)
        return _synth(args)
    except (RecordingError, UsageError) as e:
        print(f"ankle: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ankle: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
