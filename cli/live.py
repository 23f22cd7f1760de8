"""Live recording from the shoe sensors: ``ankle scan``, ``record``, ``recover``, ``emulate``,
``demo``.

``ankle record`` connects to one or two sensors (:class:`imu.ble.SensorClient`: bleak,
automatic reconnection), configures and STARTs them, appends every notification to a raw
log per sensor (:class:`imu.rawlog.RawLogWriter`: crash-safe, on the disk within a second),
assembles the packets every ``batch_s`` (50 ms) into samples and feeds them to
:class:`analysis.stream.StreamAnalyzer`, which announces each rep or contact as it ends. A
live view (rich) shows the count, the phase and the last rep against the prescription; off a
terminal, or without rich, one plain line per rep. On Ctrl-C or after ``--duration`` the
sensors are stopped, the raw logs closed and turned into ``ankle-imu-csv/1`` files
(:func:`imu.rawlog.recover`, the same code as ``ankle recover``), and the offline analysis of
the saved files is printed with the renderers of ``ankle analyze``.

What the live path promises, and how it is kept:

* nothing received is lost: the raw log holds every notification, the CSV is built from
  it, never from the live buffers; a crash or ``kill -9`` leaves a raw log that
  ``ankle recover`` turns into the same CSV;
* the samples fed to the live analysis are those the CSV will hold (times from the first
  sample, rounded to 1 us, values to 1e-5, as written), so the live final result equals
  the offline analysis of the saved file; the command checks it and reports how the
  announced reps compare (:func:`analysis.stream.match_events`);
* a dropped link is reconnected (the sensor keeps sampling into its ring buffer and sends
  the backlog after the new START); the drop and the return are marked in the raw log and
  in the CSV header (``link_drops``, ``link_gaps_s`` on the file's time axis).

Backend: ``--emulator tcp:HOST:PORT`` or ``$ANKLE_BLE_EMULATOR`` selects the emulator
(``ankle emulate``); otherwise bleak's default backend (real hardware).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import io
import math
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from analysis.heel_raise import HeelRaiseResult, SideBalance, analyze_heel_raises, side_balance
from analysis.pogo import PogoResult, analyze_pogo
from analysis.prescriptions import TempoPrescription
from analysis.stream import LiveEvent, MatchReport, StreamAnalyzer, match_events
from imu import protocol as P
from imu.recording import T_DECIMALS, VALUE_DECIMALS, Recording, RecordingError, read_recording

#: Lowest rate each live analysis accepts (as ``ankle analyze``).
MIN_RATE_HZ = {"heel-raise": 50, "pogo": 100}
#: Packets are taken from the notification queue and analysed this often (s): the
#: protocol's advice is to batch, not to decode per notification.
BATCH_S = 0.05


class LiveError(Exception):
    """A problem reported in one line with exit status 2 (no sensor, bad option, ...)."""


# ---------------------------------------------------------------------------------------------
# Configuration and results
# ---------------------------------------------------------------------------------------------


@dataclass
class RecordConfig:
    """What ``ankle record`` does (one object, so tests and benchmarks call the same code).

    ``sensors``: names or addresses (one or two); else ``side`` picks ``left``, ``right`` or
    ``both``; with neither, the sensors seen within 1.5 s (at most one per side), else the
    first to appear within ``scan_timeout_s``. ``threaded``: the live analysis runs in a
    thread per sensor, so that its runs never hold up the reception of the other sensor's
    packets (off: in the event loop, deterministic on a virtual clock). ``out``: a directory, or a ``.csv`` path (two sensors: ``-left``/``-right``
    added). ``live``: run the live analysis (``--no-live``: record only).
    """

    exercise: str = "heel-raise"
    tempo: TempoPrescription | None = None
    sensors: list[str] = field(default_factory=list)
    side: str | None = None
    out: Path | None = None
    rate_hz: int = 1000
    duration_s: float | None = None
    live: bool = True
    cues: bool = False
    foot_length_cm: float | None = None
    body_mass_kg: float | None = None
    scan_timeout_s: float = 10.0
    batch_s: float = BATCH_S
    threaded: bool = True
    stream_options: dict[str, Any] = field(default_factory=dict)


@dataclass
class SensorRecording:
    """One sensor's recording, its offline analysis and how the live analysis compared.

    ``events``: what was announced live, in its final status (pogo: contacts shown
    provisionally before their round was established, then confirmed or retracted);
    ``event_host_s``: when each was first shown (host clock, s); ``latency_s``: from the
    end of the movement (sensor time mapped to the host clock through the packets'
    arrival envelope, which includes the link's minimum delay) to that moment.
    ``live_equals_offline``: the live final result (``finish()``) equals the offline
    analysis of the saved file.
    """

    side: str
    name: str | None
    address: str | None
    rawlog_path: Path
    csv_path: Path
    summary: Any  # imu.rawlog.RecoverySummary
    recording: Recording
    offline: HeelRaiseResult | PogoResult
    live_final: HeelRaiseResult | PogoResult | None = None
    events: list[LiveEvent] = field(default_factory=list)
    event_host_s: list[float] = field(default_factory=list)
    latency_s: list[float] = field(default_factory=list)
    match: MatchReport | None = None
    live_equals_offline: bool | None = None
    link_events: list[Any] = field(default_factory=list)
    analysis_cpu_s: float = 0.0
    analysis_runs: int = 0
    samples_live: int = 0


@dataclass
class RecordResult:
    """``streaming_s``: from START to STOP (host clock); ``streaming_cpu_s``: this
    process's CPU time over it (every thread: BLE stack, raw log, live analysis, view)."""

    sensors: dict[str, SensorRecording]
    balance: SideBalance | None
    interrupted: bool
    streaming_s: float
    exercise: str
    streaming_cpu_s: float = 0.0


# ---------------------------------------------------------------------------------------------
# One sensor while recording
# ---------------------------------------------------------------------------------------------


class _Sensor:
    """Raw log, client, assembler and live analysis of one sensor."""

    def __init__(self, side: str, found: Any, cfg: RecordConfig, paths: tuple[Path, Path]):
        self.side = side
        self.found = found
        self.cfg = cfg
        self.rawlog_path, self.csv_path = paths
        self.pending: list[tuple[bytes, float]] = []
        self.asm = P.StreamAssembler(hold_packets=0, keep=False)
        self.stream: StreamAnalyzer | None = None
        if cfg.live:
            self.stream = StreamAnalyzer(
                cfg.exercise,
                fs_hz=float(cfg.rate_hz),
                tempo=cfg.tempo,
                foot_length_cm=cfg.foot_length_cm,
                body_mass_kg=cfg.body_mass_kg,
                **cfg.stream_options,
            )
        self.t0: float | None = None
        self.last_us = -1.0
        self.samples = 0
        self.event_host_s: list[float] = []
        self.link = "connecting"
        self.client: Any = None
        self.rawlog: Any = None
        self.backlog: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.job: asyncio.Future | None = None

    def collect(self, final: bool = False) -> None:
        """Assemble what arrived (every batch); the samples wait in ``backlog``."""
        if self.pending:
            items, self.pending = self.pending, []
            host = np.fromiter((t for _, t in items), dtype=np.float64, count=len(items))
            self.asm.add_packets([d for d, _ in items], host)
        chunk = self.asm.finish() if final else self.asm.pop_ready()
        if len(chunk) == 0:
            return
        t, acc, gyr = self._as_written(chunk)
        if t is not None and self.stream is not None:
            self.backlog.append((t, acc, gyr))

    def analyze(self, events_out: list[tuple[_Sensor, LiveEvent]], loop, executor) -> None:
        """Feed the backlog to the live analysis; a run that is due goes to this sensor's
        thread (``executor``; None: at once), so that it never holds up the reception.
        ``events_out`` gets what a finished run announced."""
        job = self.job
        if job is not None:
            if not job.done():
                return  # no samples are added while a run reads the buffer
            self.job = None
            events_out.extend((self, ev) for ev in job.result())
        if not self.backlog:
            return
        chunks, self.backlog = self.backlog, []
        for t, acc, gyr in chunks:  # appending is cheap: in the loop
            self.stream.add(t, acc, gyr, update=False)
        if not self.stream.due:
            return
        if executor is None:
            events_out.extend((self, ev) for ev in self.stream.update())
        else:
            self.job = loop.run_in_executor(executor, self.stream.update)

    def _as_written(self, chunk: P.StreamChunk):
        """The chunk as the CSV will hold it: t from the first sample, rounded to 1 us
        (samples not after the previous one at that resolution dropped, as the recovery
        does), values rounded to 1e-5 (``+ 0.0``: a value that rounds to zero is written
        unsigned)."""
        if self.t0 is None:
            self.t0 = float(chunk.t_s[0])
        t_us = np.rint((chunk.t_s - self.t0) * 10.0**T_DECIMALS)
        prior = np.maximum.accumulate(np.concatenate([[self.last_us], t_us]))[:-1]
        keep = t_us > prior
        if not keep.any():
            return None, None, None
        t_us = t_us[keep]
        self.last_us = float(t_us[-1])
        self.samples += int(t_us.shape[0])
        scale = 10.0**VALUE_DECIMALS
        acc = np.rint(chunk.acc_mps2[keep] * scale) / scale + 0.0
        gyr = np.rint(chunk.gyr_dps[keep] * scale) / scale + 0.0
        return t_us / 10.0**T_DECIMALS, acc, gyr


# ---------------------------------------------------------------------------------------------
# Views: rich live table, or plain lines
# ---------------------------------------------------------------------------------------------


def _fmt(x: float | None, fmt: str = "{:.1f}") -> str:
    return "-" if x is None else fmt.format(x)


#: How the live view tells a contact shown before its round was established.
PROVISIONAL_NOTE = "round starting? (counts once 3 hops in a row)"


def describe_event(ev: LiveEvent, tempo: TempoPrescription | None) -> str:
    """One line for a rep or contact (plain view, logs), or for a status change of a
    contact shown provisionally (confirmed, or withdrawn: not in the results)."""
    if ev.kind == "contact":
        if ev.is_update:
            if ev.retracted:
                return f"contact {ev.number} withdrawn: no round (fewer than 3 hops in a row)"
            # (A session's first contacts may come back with corrected times.)
            return f"contact {ev.number} confirmed: {ev.contact_ms:.0f} ms, round under way"
        text = f"contact {ev.number}: {ev.contact_ms:.0f} ms"
        if ev.flight_before_ms is not None:
            text += f", flight before {ev.flight_before_ms:.0f} ms"
        if ev.provisional:
            text += f"  {PROVISIONAL_NOTE}"
        return text
    text = (
        f"rep {ev.number}: up {_fmt(ev.up_s)} s, hold {_fmt(ev.hold_s)} s, "
        f"down {_fmt(ev.down_s)} s, ROM {_fmt(ev.rom_deg)} deg"
    )
    if tempo is not None:
        if ev.too_fast:
            targets = {"up": tempo.up_s, "hold": tempo.hold_s, "down": tempo.down_s}
            got = {"up": ev.up_s, "hold": ev.hold_s, "down": ev.down_s}
            parts = [f"{k} {got[k]:.1f} s < {targets[k]:g} s" for k in ev.fast_phases]
            text += "  TOO FAST (" + ", ".join(parts) + ")"
        elif ev.tempo_pass and all(v is not False for v in ev.tempo_pass.values()):
            text += "  tempo ok"
        else:
            off = [k for k, v in (ev.tempo_pass or {}).items() if v is False]
            text += "  tempo off: " + ", ".join(off) + " (too slow)"
    return text


class PlainView:
    """One line per rep/contact and per link event (not a terminal, or no rich)."""

    def __init__(self, cfg: RecordConfig, out: TextIO | None = None) -> None:
        self.cfg = cfg
        self.out = out or sys.stdout

    def start(self, sensors: list[_Sensor]) -> None:
        names = ", ".join(f"{s.side} {s.found.name or s.found.address}" for s in sensors)
        tempo = f", tempo {self.cfg.tempo}" if self.cfg.tempo else ""
        stop = f"for {self.cfg.duration_s:g} s" if self.cfg.duration_s else "until Ctrl-C"
        self._line(f"recording {self.cfg.exercise}{tempo} from {names} {stop}")

    def _line(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.out.write(text + "\n")
            self.out.flush()

    def event(self, s: _Sensor, ev: LiveEvent) -> None:
        self._line(f"[{s.side}] {describe_event(ev, self.cfg.tempo)}")
        if self.cfg.cues and ev.too_fast:
            self.bell(2)

    def link(self, s: _Sensor, text: str) -> None:
        self._line(f"[{s.side}] {text}")

    def bell(self, n: int = 1) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.out.write("\a" * n)
            self.out.flush()

    def tick(self, now_s: float, sensors: list[_Sensor]) -> None:
        pass

    def stop(self) -> None:
        pass


class RichView(PlainView):
    """A rich live table: per sensor the count, phase, last rep vs the prescription."""

    def __init__(self, cfg: RecordConfig, out: TextIO | None = None) -> None:
        super().__init__(cfg, out)
        from rich.console import Console
        from rich.live import Live

        self.console = Console(file=self.out)
        self.live = Live(console=self.console, auto_refresh=False, transient=False)
        self.sensors: list[_Sensor] = []
        self.t_start = 0.0
        self.elapsed = 0.0
        self.warning = ""
        self.last: dict[str, list[LiveEvent]] = {}
        self._next_refresh = 0.0
        self.notes: list[str] = []

    def start(self, sensors: list[_Sensor]) -> None:
        self.sensors = sensors
        self.last = {s.side: [] for s in sensors}
        self.live.start()
        self._refresh()

    def _render(self):
        from rich.table import Table
        from rich.text import Text

        cfg = self.cfg
        title = f"ankle record: {cfg.exercise}"
        if cfg.tempo:
            title += f", tempo {cfg.tempo} (up-hold-down-rest s)"
        title += f"  {self.elapsed:6.1f} s"
        tab = Table(title=title, expand=False)
        tab.add_column("sensor")
        tab.add_column("link")
        if cfg.exercise == "heel-raise":
            last_col = "last rep up / hold / down s"
            if cfg.tempo:
                t = cfg.tempo
                last_col += f" (target {t.up_s:g} / {t.hold_s:g} / {t.down_s:g})"
            for c in ("reps", "phase", "pitch deg", last_col, "tempo"):
                tab.add_column(c)
        else:
            for c in ("contacts", "last contact ms", "flight ms", "last 5 contacts ms"):
                tab.add_column(c)
        for s in self.sensors:
            evs = self.last.get(s.side, [])
            n = str(len(evs)) if s.stream else "-"
            name = f"{s.side} {s.found.name or ''}"
            if cfg.exercise == "heel-raise":
                phase = s.stream.phase if s.stream else "-"
                pitch = _fmt(s.stream.pitch_deg if s.stream else None, "{:5.1f}")
                if evs:
                    ev = evs[-1]
                    last = f"{_fmt(ev.up_s)} / {_fmt(ev.hold_s)} / {_fmt(ev.down_s)}"
                    if ev.too_fast:
                        verdict = Text("TOO FAST: " + ", ".join(ev.fast_phases), "bold red")
                    elif ev.tempo_pass and all(v is not False for v in ev.tempo_pass.values()):
                        verdict = Text("ok", "green")
                    elif ev.tempo_pass:
                        verdict = Text("slow", "yellow")
                    else:
                        verdict = Text("-")
                else:
                    last, verdict = "-", Text("-")
                tab.add_row(name, s.link, n, phase, pitch, last, verdict)
            else:
                # Contacts before their round is established are marked "?" (dim, and
                # counted apart): they are withdrawn if no round of 3 hops follows.
                ev = evs[-1] if evs else None
                recent = Text()
                for e in evs[-5:]:
                    recent.append(
                        f"{e.contact_ms:.0f}" + ("? " if e.provisional else " "),
                        "dim yellow" if e.provisional else "",
                    )
                flight = _fmt(ev.flight_before_ms, "{:.0f}") if ev else "-"
                last = Text(_fmt(ev.contact_ms if ev else None, "{:.0f}"))
                n_prov = sum(e.provisional for e in evs)
                if s.stream and n_prov:
                    n = f"{len(evs) - n_prov} + {n_prov}?"
                if ev is not None and ev.provisional:
                    last.append("?  " + PROVISIONAL_NOTE, "dim yellow")
                tab.add_row(name, s.link, n, last, flight, recent if evs else Text("-"))
        from rich.console import Group

        parts: list[Any] = [tab]
        if self.warning:
            parts.append(Text(self.warning, "bold red"))
        parts += [Text(x, "dim") for x in self.notes[-3:]]
        return Group(*parts)

    def _refresh(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.live.update(self._render(), refresh=True)

    def event(self, s: _Sensor, ev: LiveEvent) -> None:
        evs = self.last.setdefault(s.side, [])
        if ev.is_update:  # a provisional contact confirmed or withdrawn
            evs[:] = [ev if e.number == ev.number else e for e in evs]
            if ev.retracted:  # not in the results: off the count and the recent contacts
                evs[:] = [e for e in evs if e.number != ev.number]
                self.notes.append(f"{s.side}: {describe_event(ev, None)}")
            self._refresh()
            return
        evs.append(ev)
        if ev.too_fast:
            self.warning = f"{s.side} rep {ev.number} too fast: " + ", ".join(
                f"{k}" for k in ev.fast_phases
            )
            if self.cfg.cues:
                self.bell(2)
        elif ev.kind == "rep":
            self.warning = ""
        self._refresh()  # at once: the rep is shown as soon as it is known

    def link(self, s: _Sensor, text: str) -> None:
        self.notes.append(f"{s.side}: {text}")
        self._refresh()

    def bell(self, n: int = 1) -> None:
        for _ in range(n):
            self.console.bell()

    def tick(self, now_s: float, sensors: list[_Sensor]) -> None:
        self.elapsed = now_s
        if now_s >= self._next_refresh:
            self._next_refresh = now_s + 0.25
            self._refresh()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._refresh()
            self.live.stop()


def make_view(cfg: RecordConfig, out: TextIO | None = None) -> PlainView:
    """Rich's live table on a terminal when rich is installed, else plain lines."""
    out = out or sys.stdout
    if cfg.live and getattr(out, "isatty", lambda: False)():
        try:
            import rich  # noqa: F401
        except ImportError:
            return PlainView(cfg, out)
        return RichView(cfg, out)
    return PlainView(cfg, out)


class Metronome:
    """``--cues`` with a tempo: a beep every second, two at the start of each rep cycle."""

    def __init__(self, tempo: TempoPrescription) -> None:
        self.cycle = tempo.up_s + tempo.hold_s + tempo.down_s + tempo.rest_s
        self.next_beat = 0.0

    def tick(self, elapsed_s: float, view: PlainView) -> None:
        if elapsed_s < self.next_beat:
            return
        beat = math.floor(elapsed_s)
        self.next_beat = beat + 1.0
        starts_cycle = self.cycle > 0 and (beat % max(1, round(self.cycle))) == 0
        view.bell(2 if starts_cycle else 1)


# ---------------------------------------------------------------------------------------------
# The recording
# ---------------------------------------------------------------------------------------------


def _output_paths(cfg: RecordConfig, sides: list[str]) -> dict[str, tuple[Path, Path]]:
    """(raw log, CSV) per side, from ``--out`` (directory or .csv path)."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = cfg.out or Path(".")
    paths = {}
    if out.suffix.lower() == ".csv":
        stem = out.with_suffix("")
        for side in sides:
            csv = out if len(sides) == 1 else Path(f"{stem}-{side}.csv")
            paths[side] = (csv.with_suffix(".rawlog"), csv)
        out.parent.mkdir(parents=True, exist_ok=True)
    else:
        out.mkdir(parents=True, exist_ok=True)
        for side in sides:
            csv = out / f"ankle-{cfg.exercise}-{stamp}-{side}.csv"
            paths[side] = (csv.with_suffix(".rawlog"), csv)
    for raw, csv in paths.values():
        for p in (raw, csv):
            if p.exists():
                raise LiveError(f"{p}: exists already (choose another --out)")
    return paths


async def _find_sensors(cfg: RecordConfig, backend) -> list[tuple[str, Any]]:
    """(side, FoundSensor) of the sensors to record from."""
    from imu.ble import find_sensor, scan

    wanted: list[tuple[str | None, str | None]] = []  # (target, side)
    if cfg.sensors:
        if len(cfg.sensors) > 2:
            raise LiveError(f"at most two sensors (one per shoe), got {len(cfg.sensors)}")
        wanted = [(name, None) for name in cfg.sensors]
    elif cfg.side in ("left", "right"):
        wanted = [(None, cfg.side)]
    elif cfg.side == "both":
        wanted = [(None, "left"), (None, "right")]
    if not wanted:  # whatever advertises (one per side): 1.5 s covers slow advertising
        found = await scan(min(cfg.scan_timeout_s, 1.5), backend=backend)
        if not found and cfg.scan_timeout_s > 1.5:
            first = await find_sensor(timeout_s=cfg.scan_timeout_s - 1.5, backend=backend)
            found = [first] if first is not None else []
        by_side: dict[str, Any] = {}
        for f in found:
            by_side.setdefault(f.side or f.address, f)
        picked = list(by_side.values())[:2]
        if not picked:
            raise LiveError(
                f"no ankle-motion sensor advertising within {cfg.scan_timeout_s:g} s "
                "(is it on? `ankle scan` lists what is seen)"
            )
        return _name_sides(picked)
    picked = []
    for target, side in wanted:
        f = await find_sensor(target, side=side, timeout_s=cfg.scan_timeout_s, backend=backend)
        if f is None:
            what = target or f"{side} sensor"
            raise LiveError(f"no {what} advertising within {cfg.scan_timeout_s:g} s")
        picked.append(f)
    if len(picked) == 2 and picked[0].address == picked[1].address:
        raise LiveError(f"{picked[0].name or picked[0].address} given twice")
    return _name_sides(picked)


def _name_sides(found: list[Any]) -> list[tuple[str, Any]]:
    sides = [f.side for f in found]
    if len(found) == 1:
        return [(sides[0] or "left", found[0])]
    if sorted(s or "" for s in sides) == ["left", "right"]:
        return sorted(zip(sides, found, strict=True), key=lambda x: x[0])
    return [(f"sensor{k + 1}", f) for k, f in enumerate(found)]


async def record(
    cfg: RecordConfig,
    *,
    backend: Any = None,
    stop: asyncio.Event | None = None,
    view: PlainView | None = None,
    on_event: Callable[[str, LiveEvent, float], None] | None = None,
) -> RecordResult:
    """Record (and analyse live) until ``stop`` is set or ``cfg.duration_s`` has passed.

    Host times are the running loop's clock (:func:`time.monotonic` for asyncio's loops).
    Raises :class:`LiveError` for the one-line problems (no sensor, file exists, refused
    configuration).
    """
    from bleak.exc import BleakError

    from imu.ble import SensorClient, resolve_backend
    from imu.rawlog import RawLogWriter

    if cfg.exercise not in MIN_RATE_HZ:
        raise LiveError(f"--exercise must be one of {sorted(MIN_RATE_HZ)}")
    if cfg.rate_hz < MIN_RATE_HZ[cfg.exercise] or cfg.rate_hz > P.RATE_MAX_HZ:
        raise LiveError(
            f"--rate-hz {cfg.rate_hz}: {cfg.exercise} needs {MIN_RATE_HZ[cfg.exercise]}-"
            f"{P.RATE_MAX_HZ} Hz"
        )
    loop = asyncio.get_running_loop()
    clock = loop.time
    stop = stop or asyncio.Event()
    view = view or PlainView(cfg, io.StringIO())
    try:
        backend = resolve_backend(backend)
    except ImportError as e:
        raise LiveError(f"the emulator backend needs bumble: {e}") from None
    sensors: list[_Sensor] = []
    interrupted = False
    t_stream0 = t_stream1 = clock()
    cpu0 = cpu1 = 0.0
    try:
        finding = asyncio.ensure_future(_find_sensors(cfg, backend))
        waiter = asyncio.ensure_future(stop.wait())
        try:
            done, _ = await asyncio.wait({finding, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if finding not in done:
                finding.cancel()
                with contextlib.suppress(BaseException):
                    await finding
                raise LiveError("interrupted before recording started")
            picked = finding.result()
        except (BleakError, OSError) as e:
            raise LiveError(f"Bluetooth: {e}") from None
        finally:
            waiter.cancel()
        paths = _output_paths(cfg, [side for side, _ in picked])
        for side, found in picked:
            sensors.append(_Sensor(side, found, cfg, paths[side]))
        for s in sensors:
            meta = {
                "side": s.side if s.side in ("left", "right") else (s.found.side or ""),
                "exercise": cfg.exercise,
                "sample_rate_hz": cfg.rate_hz,
                "start_host_s": clock(),
                "recorded_with": "ankle record",
            }
            if cfg.tempo:
                meta["tempo"] = str(cfg.tempo)
            if cfg.foot_length_cm:
                meta["foot_length_cm"] = cfg.foot_length_cm
            if cfg.body_mass_kg:
                meta["body_mass_kg"] = cfg.body_mass_kg
            s.rawlog = RawLogWriter(s.rawlog_path, {k: v for k, v in meta.items() if v != ""})

            def on_data(data: bytes, t: float, s: _Sensor = s) -> None:
                s.pending.append((data, t))

            def on_link(ev, s: _Sensor = s) -> None:
                if ev.kind == "disconnect":
                    s.link = "reconnecting"
                    view.link(s, "link lost: reconnecting (the sensor keeps the samples)")
                elif ev.kind == "reconnect":
                    s.link = "ok"
                    down = ev.info.get("down_s")
                    view.link(s, f"reconnected after {_fmt(down, '{:.1f}')} s")

            s.client = SensorClient(
                s.found,
                backend=backend,
                rawlog=s.rawlog,
                on_data=on_data,
                on_event=on_link,
                scan_timeout_s=cfg.scan_timeout_s,
                clock=clock,
            )
        try:
            for s in sensors:
                await s.client.connect()
                await s.client.configure(rate_hz=cfg.rate_hz)
            for s in sensors:
                await s.client.start()
                s.link = "ok"
        except (BleakError, OSError, asyncio.TimeoutError, TimeoutError) as e:
            raise LiveError(f"Bluetooth: {e}") from None
        if stop.is_set():
            raise LiveError("interrupted before recording started")
        t_stream0 = clock()
        cpu0 = time.process_time()
        view.start(sensors)
        metronome = Metronome(cfg.tempo) if cfg.cues and cfg.tempo else None
        deadline = t_stream0 + cfg.duration_s if cfg.duration_s else math.inf
        events: list[tuple[_Sensor, LiveEvent]] = []
        executor = None
        if cfg.threaded and any(s.stream is not None for s in sensors):
            executor = ThreadPoolExecutor(max_workers=len(sensors), thread_name_prefix="live")
        stopping = asyncio.ensure_future(stop.wait())
        next_batch = clock()
        try:
            while not stop.is_set():
                now = clock()
                if now >= deadline:
                    break
                # Wake for the next batch, the stop, or a finished analysis run (shown at
                # once).
                jobs = {s.job for s in sensors if s.job is not None}
                wait = max(0.0, min(next_batch, deadline) - now)
                await asyncio.wait(
                    {stopping, *jobs}, timeout=wait, return_when=asyncio.FIRST_COMPLETED
                )
                if clock() >= next_batch:
                    next_batch += cfg.batch_s
                    if next_batch <= clock():  # fell behind: no burst of batches
                        next_batch = clock() + cfg.batch_s
                    for s in sensors:
                        s.collect()
                for s in sensors:
                    s.analyze(events, loop, executor)
                _show(events, view, clock, on_event)
                elapsed = clock() - t_stream0
                view.tick(elapsed, sensors)
                if metronome is not None:
                    metronome.tick(elapsed, view)
            interrupted = stop.is_set()
            t_stream1 = clock()
            cpu1 = time.process_time()
            for s in sensors:  # STOP: the sensor sends its last samples before answering
                with contextlib.suppress(Exception):
                    await s.client.close()
            for s in sensors:
                if s.job is not None:
                    await asyncio.wait({s.job})
                s.collect(final=True)
                s.analyze(events, loop, None)
            _show(events, view, clock, on_event)
        finally:
            stopping.cancel()
            if executor is not None:
                executor.shutdown(wait=True)
    except LiveError:
        raise
    except Exception as e:  # never a traceback: the raw logs hold what arrived
        logs = ", ".join(str(s.rawlog_path) for s in sensors if s.rawlog is not None)
        hint = f"; raw logs kept: {logs} (`ankle recover RAWLOG`)" if logs else ""
        raise LiveError(f"recording failed: {type(e).__name__}: {e}{hint}") from None
    finally:
        view.stop()
        for s in sensors:
            if s.client is not None:
                with contextlib.suppress(Exception):
                    await s.client.close(stop=True)
            if s.rawlog is not None:
                with contextlib.suppress(Exception):
                    _mark_link_gaps(s)
                s.rawlog.close()
    result = _finish(cfg, sensors, interrupted, t_stream1 - t_stream0)
    result.streaming_cpu_s = cpu1 - cpu0
    return result


def _show(events, view: PlainView, clock, on_event) -> None:
    """Show what the runs announced; a new event's host time is its first showing (a
    status change, ``ev.is_update``, of a provisional contact is shown, not timed)."""
    for s, ev in events:
        view.event(s, ev)
        t = clock()
        if not ev.is_update:
            s.event_host_s.append(t)
        if on_event is not None:
            on_event(s.side, ev, t)
    events.clear()


def _mark_link_gaps(s: _Sensor) -> None:
    """Link drops into the raw log's metadata (hence the CSV header), on the file's axis."""
    evs = [e for e in s.client.events if e.kind in ("disconnect", "reconnect")]
    drops = [e for e in evs if e.kind == "disconnect"]
    if not drops:
        return
    clock = s.asm.clock_map()
    spans = []
    for k, e in enumerate(evs):
        if e.kind != "disconnect":
            continue
        back = next((x for x in evs[k + 1 :] if x.kind == "reconnect"), None)
        if clock is not None and s.t0 is not None:
            a = float(clock.to_sensor_s(e.host_s)) - s.t0
            b = float(clock.to_sensor_s(back.host_s)) - s.t0 if back else math.nan
            spans.append(f"{a:.3f}-{b:.3f}" if back else f"{a:.3f}-")
    meta: dict[str, Any] = {"link_drops": len(drops)}
    if spans:
        meta["link_gaps_s"] = " ".join(spans)
    s.rawlog.update_meta(drops[-1].host_s, meta)


def _analyze_offline(cfg: RecordConfig, rec: Recording):
    foot = cfg.foot_length_cm or rec.meta_float("foot_length_cm")
    if cfg.exercise == "heel-raise":
        return analyze_heel_raises(
            rec.t_s,
            rec.acc_mps2,
            rec.gyr_dps,
            fs_hz=rec.fs_hz,
            foot_length_cm=foot,
            tempo=cfg.tempo,
        )
    mass = cfg.body_mass_kg or rec.meta_float("body_mass_kg")
    return analyze_pogo(rec.t_s, rec.acc_mps2, rec.gyr_dps, fs_hz=rec.fs_hz, body_mass_kg=mass)


def _same_result(a, b) -> bool:
    """The live final result equals the offline one (every event time, bit for bit)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, HeelRaiseResult):
        keys = ("start_s", "top_start_s", "top_end_s", "end_s", "rom_deg", "clean")
        ia, ib = a.reps, b.reps
    else:
        keys = ("landing_s", "takeoff_s", "contact_ms", "flight_ms")
        ia, ib = a.contacts, b.contacts
    return len(ia) == len(ib) and all(
        getattr(x, k) == getattr(y, k) for x, y in zip(ia, ib, strict=True) for k in keys
    )


def _finish(cfg: RecordConfig, sensors: list[_Sensor], interrupted: bool, streaming_s: float):
    from imu.rawlog import recover

    out: dict[str, SensorRecording] = {}
    for s in sensors:
        try:
            summary = recover(s.rawlog_path, s.csv_path, note="recorded with ankle record")
        except RecordingError as e:
            raise LiveError(
                f"{s.side}: nothing to save ({e.problem}); raw log {s.rawlog_path}"
            ) from None
        rec = read_recording(s.csv_path)
        offline = _analyze_offline(cfg, rec)
        sr = SensorRecording(
            side=s.side,
            name=s.found.name,
            address=s.found.address,
            rawlog_path=s.rawlog_path,
            csv_path=s.csv_path,
            summary=summary,
            recording=rec,
            offline=offline,
            link_events=list(s.client.events) if s.client else [],
            samples_live=s.samples,
        )
        if s.stream is not None and s.stream.n_samples >= 2:
            sr.live_final = s.stream.finish()
            sr.live_equals_offline = _same_result(sr.live_final, offline)
            sr.events = list(s.stream.events)
            sr.event_host_s = list(s.event_host_s)
            sr.match = match_events(sr.events, offline)
            sr.analysis_cpu_s = s.stream.analysis_cpu_s
            sr.analysis_runs = s.stream.runs
            clock = s.asm.clock_map()
            if clock is not None and s.t0 is not None:
                ends = np.array([ev.end_s for ev in sr.events]) + s.t0
                sr.latency_s = list(np.asarray(sr.event_host_s) - clock.to_host_s(ends))
        out[s.side] = sr
    balance = None
    if cfg.exercise == "heel-raise" and set(out) == {"left", "right"}:
        balance = side_balance(out["left"].offline, out["right"].offline)
    return RecordResult(out, balance, interrupted, streaming_s, cfg.exercise)


def report_text(result: RecordResult, cfg: RecordConfig) -> str:
    """What ``ankle record`` prints at the end: files, the offline analysis, the live check."""
    from cli.report import balance_table, heel_raise_table, pogo_table

    blocks = []
    for sr in result.sensors.values():
        lines = [f"saved {sr.side}: {sr.csv_path} ({sr.summary.describe()})"]
        drops = sum(1 for e in sr.link_events if e.kind == "disconnect")
        if drops:
            lines.append(f"  link dropped {drops} time(s); the gaps are marked in the header")
        lines.append(f"  raw log: {sr.rawlog_path}")
        blocks.append("\n".join(lines))
    for sr in result.sensors.values():
        if result.exercise == "heel-raise":
            blocks.append(heel_raise_table(sr.offline, source=str(sr.csv_path)))
        else:
            blocks.append(pogo_table(sr.offline, source=str(sr.csv_path)))
    if result.balance is not None:
        blocks.append(balance_table(result.balance))
    live = []
    for sr in result.sensors.values():
        if sr.match is None:
            continue
        kind = "reps" if result.exercise == "heel-raise" else "contacts"
        n_final = len(sr.offline.reps if result.exercise == "heel-raise" else sr.offline.contacts)
        m = sr.match
        shown = [e for e in sr.events if not e.retracted]
        text = f"live {sr.side}: {len(shown)} {kind} announced, {n_final} in the saved file"
        if m.retracted:
            text += f" ({len(m.retracted)} more shown provisionally and withdrawn)"
        if m.agrees(1e-3):
            text += f"; every one announced within {1e3 * m.max_diff_s:.1f} ms of the final"
        else:
            text += (
                f"; {len(m.unmatched)} announced not in the final, {len(m.missed)} not "
                f"announced, largest boundary difference {1e3 * m.max_diff_s:.1f} ms"
            )
        if sr.latency_s:
            text += f"; shown {1e3 * float(np.median(sr.latency_s)):.0f} ms after the end (median)"
        if sr.live_equals_offline is False:
            text += "; live final differs from the saved file's analysis (packets reordered?)"
        live.append(text)
    if live:
        blocks.append("\n".join(live))
    return "\n\n".join(blocks)


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------


def add_parsers(sub: argparse._SubParsersAction, positive: Callable) -> None:
    """The ``scan``, ``record``, ``recover``, ``emulate`` and ``demo`` sub-commands."""
    sc = sub.add_parser("scan", help="list the ankle-motion sensors advertising nearby")
    sc.add_argument("--timeout", type=positive("--timeout"), default=5.0, help="seconds")
    sc.add_argument("--emulator", metavar="tcp:HOST:PORT", help="scan an emulator instead")

    r = sub.add_parser("record", help="record (and analyse live) from one or two sensors")
    _record_options(r, positive)
    r.add_argument(
        "--sensor",
        nargs="+",
        action="extend",
        default=[],
        metavar="NAME_OR_ADDRESS",
        help="sensor name (ANKL-L3F) or address; one per shoe, at most two",
    )
    r.add_argument(
        "--side",
        choices=["left", "right", "both"],
        help="without --sensor: the sensor(s) advertising this side (default: whatever is found)",
    )
    r.add_argument("--emulator", metavar="tcp:HOST:PORT", help="record from `ankle emulate`")
    r.add_argument("--scan-timeout", type=positive("--scan-timeout"), default=10.0)

    rc = sub.add_parser("recover", help="rebuild the CSV from a raw log (after a crash)")
    rc.add_argument("rawlog", metavar="RAWLOG")
    rc.add_argument("--out", metavar="CSV", help="default: RAWLOG with .csv")
    rc.add_argument("--force", action="store_true", help="replace an existing CSV")

    e = sub.add_parser(
        "emulate",
        help="serve emulated sensors on 127.0.0.1 (options: ankle emulate --help)",
        add_help=False,
    )
    e.add_argument("emulator_args", nargs=argparse.REMAINDER)  # (main() passes them on)

    d = sub.add_parser(
        "demo", help="an emulated sensor and `ankle record` in one command (no hardware)"
    )
    _record_options(d, positive)
    d.add_argument("--side", choices=["left", "right", "both"], default="left")
    d.add_argument("--speed", type=positive("--speed"), default=1.0, help="x real time")
    d.add_argument("--seed", type=int, default=1)


def _record_options(p: argparse.ArgumentParser, positive: Callable) -> None:
    p.add_argument("--exercise", choices=sorted(MIN_RATE_HZ), default="heel-raise")
    p.add_argument("--tempo", help="prescribed UP-HOLD-DOWN-REST seconds, e.g. 2-1-3-0")
    p.add_argument("--out", metavar="DIR_OR_FILE", help="directory, or FILE.csv (default .)")
    p.add_argument("--rate-hz", type=int, default=1000, help="sample rate (default 1000)")
    p.add_argument("--duration", type=positive("--duration"), help="stop after S seconds")
    p.add_argument("--no-live", action="store_true", help="record only (analysis at the end)")
    p.add_argument(
        "--cues", action="store_true", help="terminal bell: metronome, and 'too fast' warnings"
    )
    p.add_argument("--foot-length-cm", type=positive("--foot-length-cm"))
    p.add_argument("--body-mass-kg", type=positive("--body-mass-kg"))
    p.add_argument("--json", action="store_true", help="end with one JSON object on stdout")


def _config(args: argparse.Namespace) -> RecordConfig:
    tempo = None
    if args.tempo:
        from analysis.prescriptions import TempoError

        if args.exercise != "heel-raise":
            raise LiveError("--tempo applies to --exercise heel-raise")
        try:
            tempo = TempoPrescription.parse(args.tempo)
        except TempoError as e:
            raise LiveError(f"--tempo: {e}") from None
    return RecordConfig(
        exercise=args.exercise,
        tempo=tempo,
        sensors=list(getattr(args, "sensor", []) or []),
        side=args.side,
        out=Path(args.out) if args.out else None,
        rate_hz=int(args.rate_hz),
        duration_s=args.duration,
        live=not args.no_live,
        cues=args.cues,
        foot_length_cm=args.foot_length_cm,
        body_mass_kg=args.body_mass_kg,
        scan_timeout_s=getattr(args, "scan_timeout", 10.0),
    )


def _run_recording(cfg: RecordConfig, args: argparse.Namespace, backend, make_coro=None) -> int:
    """Run the recording with Ctrl-C as a clean stop; print the result."""
    view = make_view(cfg)
    result_box: dict[str, RecordResult] = {}

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        presses = [0]

        def on_sigint() -> None:
            presses[0] += 1
            stop.set()
            if presses[0] == 2:
                sys.stderr.write("ankle: stopping and saving, please wait\n")

        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, on_sigint)
        try:
            if make_coro is not None:
                result_box["r"] = await make_coro(stop, view)
            else:
                result_box["r"] = await record(cfg, backend=backend, stop=stop, view=view)
        finally:
            with contextlib.suppress(Exception):
                from imu.emulator.backend import close_hosts  # only if it was used

                if "imu.emulator.backend" in sys.modules:
                    await close_hosts()

    asyncio.run(main())
    result = result_box["r"]
    if args.json:
        import json

        from cli.report import heel_raise_json, pogo_json

        objs = {}
        for side, sr in result.sensors.items():
            make = heel_raise_json if cfg.exercise == "heel-raise" else pogo_json
            obj = make(sr.offline, source=str(sr.csv_path))
            obj["live"] = {
                "announced": sum(not e.retracted for e in sr.events),
                "retracted": sum(e.retracted for e in sr.events),
                "matches_final": sr.match.agrees(1e-3) if sr.match else None,
                "max_difference_s": sr.match.max_diff_s if sr.match else None,
                "median_latency_s": float(np.median(sr.latency_s)) if sr.latency_s else None,
            }
            objs[side] = obj
        out = next(iter(objs.values())) if len(objs) == 1 else {"sensors": objs}
        print(json.dumps(out))
    else:
        print(report_text(result, cfg))
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    cfg = _config(args)
    return _run_recording(cfg, args, args.emulator)


def cmd_scan(args: argparse.Namespace) -> int:
    from bleak.exc import BleakError

    from imu.ble import resolve_backend, scan

    async def main():
        try:
            return await scan(args.timeout, backend=resolve_backend(args.emulator))
        finally:
            if "imu.emulator.backend" in sys.modules:
                from imu.emulator.backend import close_hosts

                await close_hosts()

    try:
        found = asyncio.run(main())
    except ImportError as e:
        raise LiveError(f"the emulator backend needs bumble: {e}") from None
    except (BleakError, OSError) as e:
        raise LiveError(f"Bluetooth: {e}") from None
    if not found:
        print(f"no ankle-motion sensors advertising within {args.timeout:g} s", file=sys.stderr)
        return 1
    print(f"{'name':<10} {'address':<20} {'RSSI':>5}  side")
    for f in found:
        rssi = "-" if f.rssi is None else str(f.rssi)
        print(f"{f.name or '-':<10} {f.address:<20} {rssi:>5}  {f.side or '-'}")
    return 0


def cmd_recover(args: argparse.Namespace) -> int:
    from imu.rawlog import recover

    raw = Path(args.rawlog)
    csv = Path(args.out) if args.out else raw.with_suffix(".csv")
    if csv.exists() and not args.force:
        raise LiveError(f"{csv}: exists already (--force to replace it, or --out)")
    try:
        summary = recover(raw, csv, note=f"recovered from {raw.name} by ankle recover")
    except OSError as e:
        raise LiveError(f"{csv}: cannot write: {e.strerror or e}") from None
    print(f"wrote {csv}: {summary.describe()}")
    return 0


def cmd_emulate(argv: list[str]) -> int:
    """``ankle emulate ...``: ``python -m imu.emulator`` under another name."""
    try:
        from imu.emulator.__main__ import main as emulator_main
    except ImportError as e:
        raise LiveError(
            f"the emulator needs bumble: pip install 'ankle-motion[emulate]' ({e})"
        ) from None
    return emulator_main(argv, prog="ankle emulate")


def demo_source(exercise: str, side: str, rate_hz: float, seed: int) -> Recording:
    """What the demo's sensor streams: one set of heel raises (2-1-3-0.5, a few quick reps
    at the end) or one pogo session."""
    if exercise == "heel-raise":
        from imu.synth.scenarios import HeelRaiseSetup, heel_raise_session

        setup = HeelRaiseSetup(n_sets=1, reps_per_set=(12,), walk_between_sets=False)
        rec, _ = heel_raise_session(seed, fs_hz=rate_hz, setup=setup, side=side)
        return rec
    from imu.synth.hops import pogo_session

    rec, _ = pogo_session(seed, fs_hz=rate_hz, side=side)
    return rec


def cmd_demo(args: argparse.Namespace) -> int:
    """Emulated sensor(s) in this process and ``ankle record`` from them."""
    try:
        from bumble.link import LocalLink

        from imu.emulator import VirtualSensor, emulator_backend
    except ImportError as e:
        raise LiveError(
            f"the demo needs bumble: pip install 'ankle-motion[emulate]' ({e})"
        ) from None
    args.sensor = []
    cfg = _config(args)
    sides = ["left", "right"] if args.side == "both" else [args.side]
    cfg.side = args.side
    duration = args.duration or 60.0
    cfg.duration_s = duration / args.speed

    async def run(stop: asyncio.Event, view: PlainView) -> RecordResult:
        link = LocalLink()
        vs = [
            VirtualSensor(
                link,
                demo_source(cfg.exercise, side, float(cfg.rate_hz), args.seed + k),
                side=side,
                speed=args.speed,
            )
            for k, side in enumerate(sides)
        ]
        for v in vs:
            await v.start()
        try:
            return await record(cfg, backend=emulator_backend(link), stop=stop, view=view)
        finally:
            for v in vs:
                await v.close()

    return _run_recording(cfg, args, None, make_coro=run)


def dispatch(args: argparse.Namespace) -> int:
    """Run a live sub-command (``LiveError``/``RecordingError``: one line, exit 2)."""
    if args.command == "scan":
        return cmd_scan(args)
    if args.command == "record":
        return cmd_record(args)
    if args.command == "recover":
        return cmd_recover(args)
    if args.command == "demo":
        return cmd_demo(args)
    if args.command == "emulate":
        return cmd_emulate(list(args.emulator_args))
    raise AssertionError(args.command)  # pragma: no cover


__all__ = [
    "LiveError",
    "RecordConfig",
    "RecordResult",
    "SensorRecording",
    "describe_event",
    "dispatch",
    "record",
    "report_text",
]
