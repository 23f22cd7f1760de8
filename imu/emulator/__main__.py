"""``python -m imu.emulator``: virtual sensors served on 127.0.0.1 over TCP.

Prints ``listening on tcp:127.0.0.1:PORT``; point a recorder at it with
``ANKLE_BLE_EMULATOR=tcp:127.0.0.1:PORT`` (or ``backend="tcp:127.0.0.1:PORT"``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

from imu.emulator.peripheral import EXERCISES, Faults, serve


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """The emulator's options (also usable as a sub-command's parser: ``ankle emulate``)."""
    p = parser or argparse.ArgumentParser(
        prog="python -m imu.emulator", description="Emulated ankle-motion sensors (bumble)."
    )
    p.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="TCP port (default 0: any free port)")
    p.add_argument(
        "--replay",
        action="append",
        default=[],
        metavar="FILE.csv",
        help="stream this ankle-imu-csv/1 recording (once per side, or one for all)",
    )
    p.add_argument(
        "--exercise",
        choices=EXERCISES,
        default="heel-raise",
        help="synthesized movement when no --replay (default heel-raise)",
    )
    p.add_argument("--side", choices=("left", "right", "both"), default="both")
    p.add_argument(
        "--rate",
        type=int,
        default=None,
        help="initial sample rate, Hz (default: the replayed file's, else 1000)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--drift-ppm",
        type=float,
        nargs="+",
        default=[0.0],
        help="sensor clock drift, one value or one per side",
    )
    p.add_argument("--speed", type=float, default=1.0, help="sensor time per real second")
    p.add_argument(
        "--latency-ms",
        type=float,
        nargs=2,
        default=None,
        metavar=("MIN", "MAX"),
        help="random link latency per packet, ms (default: none)",
    )
    p.add_argument(
        "--join-delay",
        type=float,
        nargs="+",
        default=[0.0],
        help="seconds before each sensor powers on (a late second sensor)",
    )
    p.add_argument("--drop", type=float, default=0.0, help="probability a packet is dropped")
    p.add_argument("--duplicate", type=float, default=0.0, help="probability it is sent twice")
    p.add_argument("--reorder", type=float, default=0.0, help="probability it is sent late")
    p.add_argument(
        "--disconnect-after",
        type=float,
        default=None,
        metavar="S",
        help="the sensor drops the link S seconds after each START",
    )
    p.add_argument(
        "--readvertise-after",
        type=float,
        default=1.0,
        metavar="S",
        help="and advertises again S seconds later (default 1)",
    )
    p.add_argument("--max-disconnects", type=int, default=1)
    p.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    p.add_argument(
        "--verbose", action="store_true", help="show bumble's warnings (hidden by default)"
    )
    p.add_argument(
        "--report-every",
        type=float,
        default=10.0,
        help="print the emulator's CPU use every N s (0: never)",
    )
    return p


async def run_from_args(args: argparse.Namespace) -> dict:
    """Run :func:`~imu.emulator.peripheral.serve` with parsed options."""
    from imu.recording import read_recording

    if not getattr(args, "verbose", False):
        # bumble's controller warns about benign races (e.g. data queued for a connection
        # that just ended) and may configure the root logger as a side effect.
        logging.getLogger("bumble").setLevel(logging.ERROR)

    sides = ("left", "right") if args.side == "both" else (args.side,)
    replay = [read_recording(path) for path in args.replay]
    faults = Faults(
        drop=args.drop,
        duplicate=args.duplicate,
        reorder=args.reorder,
        disconnect_after_s=args.disconnect_after,
        readvertise_after_s=args.readvertise_after,
        max_disconnects=args.max_disconnects,
    )

    def per_side(values: Sequence[float]) -> list[float]:
        return [float(values[min(k, len(values) - 1)]) for k in range(len(sides))]

    def ready(server) -> None:
        print(f"listening on {server.address}", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows
            loop.add_signal_handler(sig, stop.set)

    return await serve(
        host=args.host,
        port=args.port,
        replay=replay,
        exercise=args.exercise,
        sides=sides,
        rate_hz=args.rate,
        drift_ppm=per_side(args.drift_ppm),
        latency_ms=tuple(args.latency_ms) if args.latency_ms else None,
        speed=args.speed,
        faults=faults,
        join_delay_s=per_side(args.join_delay),
        seed=args.seed,
        duration_s=args.duration,
        on_ready=ready,
        report_interval_s=args.report_every or None,
        report=lambda line: print(line, flush=True),
        stop_event=stop,
    )


def main(argv: Sequence[str] | None = None, prog: str = "python -m imu.emulator") -> int:
    """Serve until interrupted, then print the emulator's own CPU use (``prog``: the name
    the usage shows, e.g. ``ankle emulate``)."""
    args = build_parser(
        argparse.ArgumentParser(prog=prog, description="Emulated ankle-motion sensors (bumble).")
    ).parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        result = asyncio.run(run_from_args(args))
        print(
            f"emulator CPU {result['cpu_s']:.2f} s in {result['wall_s']:.1f} s "
            f"({100 * result['cpu_fraction']:.1f} % of one core)",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
