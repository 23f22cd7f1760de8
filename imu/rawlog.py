"""Crash-safe, append-only raw log of one sensor's notifications, and recovery to CSV.

While recording, every notification is appended here as it arrives, and the log reaches the
operating system at least once a second; ``ankle record`` writes the ``ankle-imu-csv/1``
file at the end, and :func:`recover` rebuilds that file from the log after a crash or a
``kill -9`` (what reached the OS survives the process; a power cut may lose the last
seconds, since the log is not fsync'ed while recording).

File layout (one sensor per file)::

    ankle-imu-rawlog/1\\n                  magic and version, one text line
    {"side": "left", ...}\\n               metadata, one line of JSON (an object)
    record*                               until the end of the file

    record (little-endian):
      u32 length      payload bytes
      f64 host_s      host arrival time, s (a clock that never steps; see ``host_clock``)
      u8  kind        1 data notification, 2 disconnect, 3 reconnect, 4 metadata update
                      (JSON object merged into the metadata), 5 control-characteristic
                      notification, 6 status-characteristic value
      ... payload     the notification value verbatim (kinds 1, 5, 6) or UTF-8 JSON
      u32 crc32       zlib CRC-32 of the 13 header bytes and the payload

A reader keeps every record up to the first one that is incomplete (the process died while
writing it) or fails its CRC, and reports how many bytes it discarded after it.

Metadata keys written by :class:`RawLogWriter` unless given: ``start_unix_s`` (wall clock at
creation), ``start_host_s`` (the host clock at creation) and ``host_clock``
(``"monotonic"``: :func:`time.monotonic`). Keys the recovery uses: ``side``, ``sensor``,
``address``, ``sample_rate_hz``; any other scalar key is copied into the CSV header.
"""

from __future__ import annotations

import json
import math
import os
import struct
import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from imu import protocol
from imu.recording import Recording, RecordingError, write_recording

MAGIC_LINE = b"ankle-imu-rawlog/1\n"
KIND_DATA = 1
KIND_DISCONNECT = 2
KIND_RECONNECT = 3
KIND_META = 4
KIND_CONTROL = 5
KIND_STATUS = 6
KIND_NAMES = {
    KIND_DATA: "data",
    KIND_DISCONNECT: "disconnect",
    KIND_RECONNECT: "reconnect",
    KIND_META: "meta",
    KIND_CONTROL: "control",
    KIND_STATUS: "status",
}
_RECORD_HEAD = struct.Struct("<IdB")
_CRC = struct.Struct("<I")
RECORD_OVERHEAD = _RECORD_HEAD.size + _CRC.size  # 17 bytes around each payload
MAX_PAYLOAD = 1 << 16  # a larger length field means a corrupt record
DEFAULT_FLUSH_INTERVAL_S = 0.5


def encode_record(kind: int, payload: bytes, host_time_s: float) -> bytes:
    """One record: length, host time, kind, payload, CRC-32."""
    if not 0 <= kind <= 255:
        raise ValueError(f"kind must be 0..255, got {kind}")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    body = _RECORD_HEAD.pack(len(payload), float(host_time_s), kind) + bytes(payload)
    return body + _CRC.pack(zlib.crc32(body))


def _meta_line(meta: Mapping[str, Any]) -> bytes:
    # ensure_ascii and no indent: the JSON text can never contain a raw newline.
    return json.dumps(dict(meta), ensure_ascii=True, allow_nan=False).encode("ascii") + b"\n"


class RawLogWriter:
    """Append notifications to a raw log; the data reaches the OS at least once a second.

    Records are gathered in memory and written with one ``write`` when ``flush_interval_s``
    has passed since the last write (checked on every append, and by a background thread
    so that a quiet link cannot hold data back), on :meth:`flush` and on :meth:`close`.
    The header is written at once. Safe to call from one thread (e.g. the asyncio loop)
    while the background thread flushes.

    Parameters
    ----------
    path : str or os.PathLike
        New file; an existing one is never overwritten unless ``overwrite``.
    meta : mapping, optional
        JSON-serializable metadata: ``side``, ``sensor``, ``address``, ``sample_rate_hz``,
        anything else. ``start_unix_s``, ``start_host_s`` and ``host_clock`` are added
        unless given.
    flush_interval_s : float
        Longest time data stays in memory, s (default 0.5; at most 1).
    background_flush : bool
        Run the flushing thread (default True).
    overwrite : bool
        Replace an existing file.
    fsync_on_close : bool
        ``os.fsync`` once when closing (default True).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        meta: Mapping[str, Any] | None = None,
        *,
        flush_interval_s: float = DEFAULT_FLUSH_INTERVAL_S,
        background_flush: bool = True,
        overwrite: bool = False,
        fsync_on_close: bool = True,
    ) -> None:
        if not 0 < flush_interval_s <= 1.0:
            raise ValueError(f"flush_interval_s must be in (0, 1], got {flush_interval_s}")
        self.path = os.fspath(path)
        self.flush_interval_s = float(flush_interval_s)
        self.fsync_on_close = fsync_on_close
        full = dict(meta or {})
        full.setdefault("start_unix_s", time.time())
        full.setdefault("start_host_s", time.monotonic())
        full.setdefault("host_clock", "monotonic")
        header = MAGIC_LINE + _meta_line(full)  # raises before the file exists
        self.meta = full
        self._file = open(self.path, "wb" if overwrite else "xb", buffering=0)
        self._lock = threading.Lock()
        self._buf = bytearray()
        self._closed = False
        self.records = 0
        self.bytes_written = 0
        try:
            self._write(header)
        except BaseException:
            self._file.close()
            raise
        self._last_flush = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if background_flush:
            self._thread = threading.Thread(
                target=self._flusher, name=f"rawlog-flush:{os.path.basename(self.path)}"
            )
            self._thread.daemon = True
            self._thread.start()

    def _write(self, data: bytes | bytearray) -> None:
        view = memoryview(data)
        while view:
            n = self._file.write(view)
            if n is None:  # pragma: no cover - only non-blocking files
                continue
            view = view[n:]
        self.bytes_written += len(data)

    def _flush_locked(self) -> None:
        if self._buf:
            data, self._buf = self._buf, bytearray()
            self._write(data)
        self._last_flush = time.monotonic()

    def _flusher(self) -> None:
        while not self._stop.wait(self.flush_interval_s / 4):
            with self._lock:
                if self._closed:
                    return
                if self._buf and time.monotonic() - self._last_flush >= self.flush_interval_s:
                    self._flush_locked()

    def append(self, packet: bytes, host_time_s: float, kind: int = KIND_DATA) -> None:
        """Log one notification value (``kind`` data by default) received at ``host_time_s``."""
        record = encode_record(kind, packet, host_time_s)
        with self._lock:
            if self._closed:
                raise ValueError(f"{self.path}: raw log is closed")
            self._buf += record
            self.records += 1
            if time.monotonic() - self._last_flush >= self.flush_interval_s:
                self._flush_locked()

    def mark_disconnect(self, host_time_s: float, reason: str = "") -> None:
        """Log that the link dropped (the recovery counts these)."""
        self.append(json.dumps({"reason": reason}).encode(), host_time_s, KIND_DISCONNECT)

    def mark_reconnect(self, host_time_s: float, **info: Any) -> None:
        """Log that the link is back."""
        self.append(json.dumps(info).encode(), host_time_s, KIND_RECONNECT)

    def update_meta(self, host_time_s: float, meta: Mapping[str, Any]) -> None:
        """Log metadata learned later (firmware, actual rate, ...); merged over the header."""
        self.append(_meta_line(meta)[:-1], host_time_s, KIND_META)
        self.meta.update(meta)

    def flush(self) -> None:
        """Hand everything gathered so far to the OS now."""
        with self._lock:
            if not self._closed:
                self._flush_locked()

    def close(self) -> None:
        """Flush, stop the thread and close (idempotent)."""
        with self._lock:
            if self._closed:
                return
            try:
                self._flush_locked()
                if self.fsync_on_close:
                    os.fsync(self._file.fileno())
            finally:
                self._closed = True
                self._file.close()
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def __enter__(self) -> RawLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class RawLog:
    """Everything readable in a raw log.

    Attributes
    ----------
    path : str
    header_meta : dict
        The metadata line.
    meta : dict
        ``header_meta`` with every metadata-update record merged over it in order.
    host_time_s : ndarray of float64, shape (r,)
        Host time of each record, s.
    kind : ndarray of uint8, shape (r,)
    payloads : list of bytes, length r
    valid_bytes : int
        Bytes up to the end of the last good record.
    discarded_bytes : int
        Bytes after it (an incomplete or corrupt tail).
    stop_reason : str or None
        Why reading stopped before the end of the file, None when it did not.
    """

    path: str
    header_meta: dict[str, Any]
    meta: dict[str, Any]
    host_time_s: np.ndarray
    kind: np.ndarray
    payloads: list[bytes]
    valid_bytes: int
    discarded_bytes: int
    stop_reason: str | None

    def __len__(self) -> int:
        return len(self.payloads)

    def count(self, kind: int) -> int:
        """Records of one kind."""
        return int(np.count_nonzero(self.kind == kind))

    def data(self) -> tuple[list[bytes], np.ndarray]:
        """Data notifications and their host times (s), in the order they were logged."""
        idx = np.flatnonzero(self.kind == KIND_DATA)
        return [self.payloads[i] for i in idx.tolist()], self.host_time_s[idx]


def read_rawlog(path: str | os.PathLike[str]) -> RawLog:
    """Read a raw log, keeping every record before the first incomplete or corrupt one.

    Raises
    ------
    RecordingError
        The file cannot be read, is not a raw log, or its header is incomplete.
    """
    path_str = os.fspath(path)
    try:
        with open(path_str, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise RecordingError(path_str, f"cannot read file: {exc.strerror or exc}") from None
    if not data.startswith(MAGIC_LINE):
        if data and MAGIC_LINE.startswith(data):
            raise RecordingError(path_str, "raw log header is incomplete (file cut short)")
        first = data[:40].split(b"\n", 1)[0].decode("ascii", "replace")
        raise RecordingError(
            path_str, f"not an ankle-imu-rawlog/1 file (first line starts {first!r})"
        )
    end = data.find(b"\n", len(MAGIC_LINE))
    if end < 0:
        raise RecordingError(path_str, "raw log header is incomplete (no end of metadata line)")
    try:
        header_meta = json.loads(data[len(MAGIC_LINE) : end].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise RecordingError(path_str, "raw log metadata line is not valid JSON") from None
    if not isinstance(header_meta, dict):
        raise RecordingError(path_str, "raw log metadata line is not a JSON object")

    view = memoryview(data)
    n = len(data)
    pos = end + 1
    times: list[float] = []
    kinds: list[int] = []
    payloads: list[bytes] = []
    stop_reason: str | None = None
    head_size = _RECORD_HEAD.size
    while pos < n:
        if n - pos < RECORD_OVERHEAD:
            stop_reason = f"incomplete record at byte {pos}"
            break
        length, host, kind = _RECORD_HEAD.unpack_from(data, pos)
        if length > MAX_PAYLOAD:
            stop_reason = f"corrupt record at byte {pos} (length {length})"
            break
        body_end = pos + head_size + length
        if body_end + _CRC.size > n:
            stop_reason = f"incomplete record at byte {pos}"
            break
        (crc,) = _CRC.unpack_from(data, body_end)
        if zlib.crc32(view[pos:body_end]) != crc:
            stop_reason = f"corrupt record at byte {pos} (CRC mismatch)"
            break
        times.append(host)
        kinds.append(kind)
        payloads.append(data[pos + head_size : body_end])
        pos = body_end + _CRC.size

    meta = dict(header_meta)
    for kind, payload in zip(kinds, payloads, strict=True):
        if kind == KIND_META:
            try:
                update = json.loads(payload.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            if isinstance(update, dict):
                meta.update(update)
    return RawLog(
        path=path_str,
        header_meta=header_meta,
        meta=meta,
        host_time_s=np.asarray(times, dtype=np.float64),
        kind=np.asarray(kinds, dtype=np.uint8),
        payloads=payloads,
        valid_bytes=pos,
        discarded_bytes=n - pos,
        stop_reason=stop_reason,
    )


@dataclass(frozen=True)
class RecoverySummary:
    """What a recovery found.

    Attributes
    ----------
    rawlog_path : str
    csv_path : str or None
        Where the recording was written (None from :func:`rawlog_to_recording`).
    samples : int
        Samples in the recording.
    duration_s : float
        Sensor time from the first to the last sample, s.
    sample_rate_hz : float
        The header's nominal rate.
    packets : int
        Distinct data packets used.
    packets_lost, packets_duplicate, packets_late, packets_malformed : int
    samples_dropped : int
        Samples dropped for overlapping an earlier one in time.
    gaps : tuple of protocol.Gap
    disconnects : int
        Disconnect markers in the log.
    discarded_bytes : int
        Incomplete or corrupt tail of the log, bytes.
    stop_reason : str or None
    sensor_drift_ppm : float or None
        Sensor clock against the host clock (None without enough data).
    """

    rawlog_path: str
    csv_path: str | None
    samples: int
    duration_s: float
    sample_rate_hz: float
    packets: int
    packets_lost: int
    packets_duplicate: int
    packets_late: int
    packets_malformed: int
    samples_dropped: int
    gaps: tuple[protocol.Gap, ...]
    disconnects: int
    discarded_bytes: int
    stop_reason: str | None
    sensor_drift_ppm: float | None

    def describe(self) -> str:
        """One line for the terminal."""
        lost = self.packets_lost / max(1, self.packets + self.packets_lost)
        text = (
            f"{self.samples} samples ({self.duration_s:.1f} s at {self.sample_rate_hz:g} Hz), "
            f"{len(self.gaps)} gaps, {self.packets_lost} packets lost ({100 * lost:.2f} %), "
            f"{self.packets_duplicate} duplicates, {self.packets_malformed} malformed"
        )
        if self.discarded_bytes:
            text += f", {self.discarded_bytes} bytes discarded at the end"
        return text


_INTERNAL_KEYS = {"start_unix_s", "start_host_s", "host_clock", "address", "sensor", "side"}


def _header_value(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, str):
        text = " ".join(value.split())
        return text or None
    return None


def _nominal_rate(meta: Mapping[str, Any], period_s: float) -> float:
    measured = 1.0 / period_s if period_s > 0 else math.nan
    try:
        stated = float(meta.get("sample_rate_hz", math.nan))
    except (TypeError, ValueError):
        stated = math.nan
    if math.isfinite(stated) and stated > 0:
        if not math.isfinite(measured) or abs(measured / stated - 1.0) <= 0.05:
            return stated
    if math.isfinite(measured):
        return round(measured, 3)
    raise ValueError("no sample rate")  # pragma: no cover - guarded by the caller


def rawlog_to_recording(path: str | os.PathLike[str]) -> tuple[Recording, RecoverySummary]:
    """Rebuild the recording held by a raw log (see :func:`recover`).

    ``t_s`` starts at 0 at the first sample (the sensor time of that sample is the header
    ``sensor_t0_s``); gaps stay gaps.

    Raises
    ------
    RecordingError
        Not a raw log, or fewer than 2 samples in it.
    """
    log = read_rawlog(path)
    packets, host_s = log.data()
    batch = protocol.decode_packets(packets)
    stream = protocol.assemble(batch, host_s)
    if len(stream) < 2:
        raise RecordingError(
            log.path, f"raw log holds {len(stream)} samples, a recording needs at least 2"
        )
    t0 = float(stream.t_s[0])
    t = stream.t_s - t0
    # write_recording needs t strictly increasing at µs resolution.
    t_us = np.rint(t * 1e6)
    prior = np.maximum.accumulate(np.concatenate([[-1.0], t_us]))[:-1]
    keep = t_us > prior
    n_dropped = stream.stats.samples_dropped + int(np.count_nonzero(~keep))

    meta_in = log.meta
    fs_hz = _nominal_rate(meta_in, stream.period_s)
    meta: dict[str, str] = {"sample_rate_hz": f"{fs_hz:g}"}
    side = _header_value(meta_in.get("side"))
    if side is None:  # the side the sensor was set to, if all its packets agree
        codes = np.unique(batch.flags & protocol.FLAG_SIDE_MASK)
        if codes.shape[0] == 1:
            side = protocol.SIDE_NAMES.get(int(codes[0]))
    if side is not None:
        meta["side"] = side
    sensor = _header_value(meta_in.get("sensor"))
    address = _header_value(meta_in.get("address"))
    if sensor or address:
        meta["sensor"] = " ".join(x for x in (sensor, f"({address})" if address else None) if x)
    for key, value in meta_in.items():
        if key in _INTERNAL_KEYS or key in meta or key == "format":
            continue
        text = _header_value(value)
        if text is None or not key or ":" in key or key != " ".join(key.split()):
            continue
        meta[key] = text
    meta["sensor_t0_s"] = f"{t0:.6f}"
    clock = stream.clock
    if clock is not None:
        if clock.span_s >= protocol.MIN_DRIFT_SPAN_S:
            meta["sensor_clock_drift_ppm"] = f"{clock.sensor_drift_ppm:.2f}"
        start_unix = meta_in.get("start_unix_s")
        start_host = meta_in.get("start_host_s")
        if isinstance(start_unix, (int, float)) and isinstance(start_host, (int, float)):
            host_t0 = float(clock.to_host_s(t0))
            meta["host_t0_unix_s"] = f"{start_unix + (host_t0 - start_host):.6f}"
    meta["packets_lost"] = str(stream.stats.packets_lost)
    meta["gaps"] = str(len(stream.gaps))

    rec = Recording(
        t_s=t[keep],
        acc_mps2=stream.acc_mps2[keep],
        gyr_dps=stream.gyr_dps[keep],
        fs_hz=fs_hz,
        meta=meta,
        path=None,
    )
    stats = stream.stats
    summary = RecoverySummary(
        rawlog_path=log.path,
        csv_path=None,
        samples=len(rec),
        duration_s=rec.duration_s,
        sample_rate_hz=fs_hz,
        packets=stats.packets_used,
        packets_lost=stats.packets_lost,
        packets_duplicate=stats.packets_duplicate,
        packets_late=stats.packets_late,
        packets_malformed=stats.packets_malformed,
        samples_dropped=n_dropped,
        gaps=stream.gaps,
        disconnects=log.count(KIND_DISCONNECT),
        discarded_bytes=log.discarded_bytes,
        stop_reason=log.stop_reason,
        sensor_drift_ppm=(
            clock.sensor_drift_ppm
            if clock is not None and clock.span_s >= protocol.MIN_DRIFT_SPAN_S
            else None
        ),
    )
    return rec, summary


def recover(
    rawlog_path: str | os.PathLike[str],
    csv_path: str | os.PathLike[str],
    *,
    note: str | None = None,
) -> RecoverySummary:
    """Rebuild the ``ankle-imu-csv/1`` file from a raw log (after a crash, or at the end).

    Decodes every data record (:func:`imu.protocol.decode_packets`), puts the packets in
    sequence order with duplicates dropped and losses left as gaps
    (:func:`imu.protocol.assemble`) and writes the samples with
    :func:`imu.recording.write_recording` (atomic). Header: ``sample_rate_hz``, ``side``,
    ``sensor`` from the log's metadata, the log's other scalar keys, and ``sensor_t0_s``,
    ``sensor_clock_drift_ppm``, ``host_t0_unix_s``, ``packets_lost``, ``gaps``.

    Parameters
    ----------
    rawlog_path : str or os.PathLike
    csv_path : str or os.PathLike
        Destination (replaced atomically).
    note : str, optional
        One line for the ``# note:`` header.

    Returns
    -------
    RecoverySummary

    Raises
    ------
    RecordingError
        Not a raw log, or fewer than 2 samples in it.
    OSError
        The CSV cannot be written.
    """
    rec, summary = rawlog_to_recording(rawlog_path)
    write_recording(csv_path, rec, note=note)
    return RecoverySummary(**{**summary.__dict__, "csv_path": os.fspath(csv_path)})
