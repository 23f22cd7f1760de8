"""Tests for the crash-safe raw log and its recovery (:mod:`imu.rawlog`)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from imu import protocol as P
from imu import rawlog as R
from imu.recording import RecordingError, read_recording

REPO = Path(__file__).resolve().parents[1]
ACC_SCALE = float(np.float32(P.acc_scale_for_range(16)))
GYR_SCALE = float(np.float32(1.0 / 16.4))
PER_PACKET = 18
META = {"side": "left", "sensor": "ANKL-L3F", "address": "C0:FF:EE:00:00:3F"}


def make_packets(n: int, seed: int = 0, seq0: int = 0) -> tuple[list[bytes], np.ndarray]:
    """``n`` packets of a 1 kHz stream (gravity on z) and all their raw samples."""
    rng = np.random.default_rng(seed)
    raw = rng.integers(-2000, 2000, size=(n * PER_PACKET, 6)).astype(np.int16)
    raw[:, 2] += int(round(9.81 / ACC_SCALE))
    packets = [
        P.encode_packet(
            seq0 + i,
            3_000_000 + i * PER_PACKET * 1000,
            raw[i * PER_PACKET : (i + 1) * PER_PACKET],
            period_ns=1_000_000,
            acc_scale_mps2=ACC_SCALE,
            gyr_scale_dps=GYR_SCALE,
            flags=P.SIDE_LEFT,
        )
        for i in range(n)
    ]
    return packets, raw


def write_log(path: Path, packets: list[bytes], meta=None, **kw) -> None:
    with R.RawLogWriter(path, {**META, "sample_rate_hz": 1000, **(meta or {})}, **kw) as w:
        for i, pkt in enumerate(packets):
            w.append(pkt, 100.0 + 0.018 * i + 0.01)


# ---------------------------------------------------------------------------------------------
# Writing and reading
# ---------------------------------------------------------------------------------------------


def test_write_read_round_trip(tmp_path):
    packets, _ = make_packets(20)
    path = tmp_path / "left.rawlog"
    with R.RawLogWriter(path, {**META, "sample_rate_hz": 1000}) as w:
        for i, pkt in enumerate(packets[:10]):
            w.append(pkt, 1.0 + i)
        w.mark_disconnect(11.0, "supervision timeout")
        w.mark_reconnect(12.0, attempt=1)
        w.update_meta(12.5, {"firmware": "1.2.3", "sample_rate_hz": 833})
        w.append(P.encode_response(P.OP_STOP), 12.6, R.KIND_CONTROL)
        for i, pkt in enumerate(packets[10:]):
            w.append(pkt, 13.0 + i)
    assert path.read_bytes().startswith(b"ankle-imu-rawlog/1\n{")
    log = R.read_rawlog(path)
    assert log.stop_reason is None and log.discarded_bytes == 0
    assert log.valid_bytes == path.stat().st_size
    assert len(log) == 24 and log.count(R.KIND_DATA) == 20
    assert log.count(R.KIND_DISCONNECT) == 1 and log.count(R.KIND_RECONNECT) == 1
    data, host = log.data()
    assert data == packets
    np.testing.assert_array_equal(host, np.r_[1.0 + np.arange(10), 13.0 + np.arange(10)])
    assert log.header_meta["side"] == "left" and log.header_meta["sample_rate_hz"] == 1000
    assert log.header_meta["host_clock"] == "monotonic"
    assert {"start_unix_s", "start_host_s"} <= set(log.header_meta)
    assert log.meta["sample_rate_hz"] == 833 and log.meta["firmware"] == "1.2.3"
    assert json.loads(log.payloads[10]) == {"reason": "supervision timeout"}


def test_writer_never_overwrites_and_rejects_bad_input(tmp_path):
    path = tmp_path / "x.rawlog"
    write_log(path, make_packets(2)[0])
    size = path.stat().st_size
    with pytest.raises(FileExistsError):
        R.RawLogWriter(path)
    assert path.stat().st_size == size
    with pytest.raises(TypeError):
        R.RawLogWriter(tmp_path / "y.rawlog", {"bad": object()})
    assert not (tmp_path / "y.rawlog").exists()
    with pytest.raises(ValueError):
        R.RawLogWriter(tmp_path / "z.rawlog", flush_interval_s=2.0)
    w = R.RawLogWriter(tmp_path / "w.rawlog")
    w.close()
    w.close()
    with pytest.raises(ValueError):
        w.append(b"x", 0.0)


def test_data_reaches_the_file_without_flush_or_close(tmp_path):
    """The background thread writes within the flush interval even when appends stop."""
    path = tmp_path / "quiet.rawlog"
    packets, _ = make_packets(3)
    w = R.RawLogWriter(path, META, flush_interval_s=0.2)
    try:
        header_size = path.stat().st_size
        assert header_size > 0  # the header is written at once
        w.append(packets[0], 1.0)
        w.append(packets[1], 2.0)
        deadline = time.monotonic() + 2.0
        while path.stat().st_size == header_size and time.monotonic() < deadline:
            time.sleep(0.02)
        assert R.read_rawlog(path).data()[0] == packets[:2]
    finally:
        w.close()
    assert R.DEFAULT_FLUSH_INTERVAL_S <= 1.0


def test_truncation_at_every_byte_of_the_last_record(tmp_path):
    packets, _ = make_packets(30)
    full = tmp_path / "full.rawlog"
    write_log(full, packets)
    data = full.read_bytes()
    last_start = len(data) - (len(packets[-1]) + R.RECORD_OVERHEAD)
    cut_path = tmp_path / "cut.rawlog"
    for cut in range(last_start, len(data) + 1):
        cut_path.write_bytes(data[:cut])
        log = R.read_rawlog(cut_path)
        if cut == len(data):
            assert log.data()[0] == packets and log.stop_reason is None
        else:
            assert log.data()[0] == packets[:-1]
            assert log.discarded_bytes == cut - last_start
            assert log.valid_bytes == last_start
            assert (log.stop_reason is None) == (cut == last_start)
    # Recovery from a few of those cuts loses only the last packet's samples.
    for cut in (last_start + 1, last_start + 13, len(data) - 1):
        cut_path.write_bytes(data[:cut])
        summary = R.recover(cut_path, tmp_path / "cut.csv")
        assert summary.samples == 29 * PER_PACKET
        assert summary.discarded_bytes == cut - last_start
        assert len(read_recording(tmp_path / "cut.csv")) == 29 * PER_PACKET


def test_corrupt_record_stops_reading_there(tmp_path):
    packets, _ = make_packets(10)
    path = tmp_path / "c.rawlog"
    write_log(path, packets)
    data = bytearray(path.read_bytes())
    record = len(packets[0]) + R.RECORD_OVERHEAD
    start_6 = len(data) - 4 * record  # records 0..5 stay good
    data[start_6 + 40] ^= 0xFF
    path.write_bytes(bytes(data))
    log = R.read_rawlog(path)
    assert log.data()[0] == packets[:6]
    assert "CRC" in log.stop_reason and log.discarded_bytes == 4 * record
    # A length field gone wild is a corrupt record too.
    data = bytearray(path.read_bytes())
    data[start_6 : start_6 + 4] = (2**31).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    log = R.read_rawlog(path)
    assert log.count(R.KIND_DATA) == 6 and "length" in log.stop_reason


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "not an ankle-imu-rawlog/1 file"),
        (b"# format: ankle-imu-csv/1\n", "not an ankle-imu-rawlog/1 file"),
        (b"ankle-imu-raw", "header is incomplete"),
        (b'ankle-imu-rawlog/1\n{"side": ', "header is incomplete"),
        (b"ankle-imu-rawlog/1\n{nope}\n", "not valid JSON"),
        (b"ankle-imu-rawlog/1\n[1, 2]\n", "not a JSON object"),
    ],
)
def test_not_a_raw_log(tmp_path, content, problem):
    path = tmp_path / "bad.rawlog"
    path.write_bytes(content)
    with pytest.raises(RecordingError) as err:
        R.read_rawlog(path)
    assert problem in str(err.value) and "\n" not in str(err.value)
    assert str(err.value).startswith(str(path))


def test_missing_file_and_empty_log(tmp_path):
    with pytest.raises(RecordingError, match="cannot read file"):
        R.read_rawlog(tmp_path / "missing.rawlog")
    path = tmp_path / "empty.rawlog"
    R.RawLogWriter(path, META).close()
    assert len(R.read_rawlog(path)) == 0
    with pytest.raises(RecordingError, match="at least 2"):
        R.recover(path, tmp_path / "empty.csv")
    assert not (tmp_path / "empty.csv").exists()


# ---------------------------------------------------------------------------------------------
# Recovery
# ---------------------------------------------------------------------------------------------


def test_recover_lossy_link_to_csv(tmp_path):
    packets, raw = make_packets(200, seq0=65_500)  # the sequence number wraps
    rng = np.random.default_rng(3)
    lost = {50, 51, 52, 120}
    order = [i for i in range(200) if i not in lost]
    order.insert(order.index(99) + 3, 99)  # a duplicate
    order[10], order[11] = order[11], order[10]  # reordered
    path = tmp_path / "left.rawlog"
    with R.RawLogWriter(path, {**META, "sample_rate_hz": 1000, "athlete": "A. N."}) as w:
        for k, i in enumerate(order):
            w.append(packets[i], 50.0 + 0.018 * i + rng.uniform(0.005, 0.03))
            if k == 60:
                w.mark_disconnect(51.2, "link loss")
                w.mark_reconnect(51.5)
        w.append(b"\x01garbage", 60.0)
    csv = tmp_path / "left.csv"
    summary = R.recover(csv_path=csv, rawlog_path=path, note="recovered")
    assert summary.csv_path == str(csv)
    assert summary.samples == 196 * PER_PACKET
    assert summary.packets == 196 and summary.packets_lost == 4
    assert summary.packets_duplicate == 1 and summary.packets_malformed == 1
    assert [g.missing_packets for g in summary.gaps] == [3, 1]
    assert summary.disconnects == 1 and summary.discarded_bytes == 0
    assert "4 packets lost" in summary.describe()

    rec = read_recording(csv)
    assert rec.fs_hz == 1000 and rec.side == "left"
    assert rec.meta["sensor"] == "ANKL-L3F (C0:FF:EE:00:00:3F)"
    assert rec.meta["athlete"] == "A. N." and rec.meta["note"] == "recovered"
    assert rec.meta["packets_lost"] == "4" and rec.meta["gaps"] == "2"
    assert rec.meta["sensor_t0_s"] == "3.000000"
    assert "host_t0_unix_s" in rec.meta
    kept = np.array([i for i in range(200) if i not in lost])
    expected_t = ((kept[:, None] * PER_PACKET + np.arange(PER_PACKET)) * 1e-3).ravel()
    np.testing.assert_allclose(rec.t_s, expected_t, atol=1e-6)
    expected = raw.reshape(200, PER_PACKET, 6)[kept].reshape(-1, 6)
    np.testing.assert_allclose(rec.acc_mps2, expected[:, :3] * ACC_SCALE, atol=5e-6)
    np.testing.assert_allclose(rec.gyr_dps, expected[:, 3:] * GYR_SCALE, atol=5e-6)
    # The gaps stay gaps: t jumps over the lost packets.
    steps = np.diff(rec.t_s)
    assert np.count_nonzero(steps > 0.0015) == 2
    assert steps.max() == pytest.approx(0.001 * (3 * PER_PACKET + 1), abs=1e-6)


def test_recover_rate_from_packets_and_side_from_flags(tmp_path):
    rng = np.random.default_rng(4)
    period_ns = 1_200_480  # LSM6DSO at 833 Hz
    raw = rng.integers(-100, 100, size=(20 * 13, 6)).astype(np.int16)
    raw[:, 0] += int(round(9.81 / ACC_SCALE))
    packets = [
        P.encode_packet(
            i,
            i * 13 * period_ns // 1000,
            raw[i * 13 : (i + 1) * 13],
            period_ns=period_ns,
            acc_scale_mps2=ACC_SCALE,
            gyr_scale_dps=GYR_SCALE,
            flags=P.SIDE_RIGHT,
        )
        for i in range(20)
    ]
    path = tmp_path / "r.rawlog"
    with R.RawLogWriter(path, {"sensor": "bench\nunit"}) as w:
        for i, pkt in enumerate(packets):
            w.append(pkt, float(i))
    rec, summary = R.rawlog_to_recording(path)
    assert rec.fs_hz == pytest.approx(833.0, abs=0.001) and summary.sample_rate_hz == rec.fs_hz
    assert rec.meta["side"] == "right" and rec.meta["sensor"] == "bench unit"
    assert summary.csv_path is None and len(rec) == 260


# ---------------------------------------------------------------------------------------------
# kill -9
# ---------------------------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from imu import protocol as P
    from imu.rawlog import RawLogWriter

    path = sys.argv[1]
    scale = float(np.float32(P.acc_scale_for_range(16)))
    raw = np.zeros((18, 6), dtype=np.int16)
    raw[:, 2] = round(9.81 / scale)
    w = RawLogWriter(path, {"side": "right", "sensor": "child", "sample_rate_hz": 1000})
    print("ready", flush=True)
    seq = 0
    while True:  # about 200 packets/s until killed
        pkt = P.encode_packet(seq, 1000 + seq * 18000, raw, period_ns=1_000_000,
                              acc_scale_mps2=scale, gyr_scale_dps=0.061)
        w.append(pkt, time.monotonic())
        print(seq, time.monotonic(), flush=True)
        seq += 1
        time.sleep(0.005)
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_loses_nothing_older_than_a_second(tmp_path):
    path = tmp_path / "killed.rawlog"
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        stdout=subprocess.PIPE,
        cwd=REPO,
        env=env,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(1.5)
        killed_at = time.monotonic()
        os.kill(child.pid, signal.SIGKILL)
        out, _ = child.communicate(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    # Complete lines only (a line is one write to the pipe, so none is cut in practice).
    lines = [line.split() for line in out.splitlines(keepends=True) if line.endswith("\n")]
    appended = [(int(f[0]), float(f[1])) for f in lines if len(f) == 2]
    old = [s for s, t in appended if t < killed_at - 1.0]
    assert len(old) > 50  # the child really ran for a while

    log = R.read_rawlog(path)
    packets, _ = log.data()
    got = P.decode_packets(packets).seq.tolist()
    assert got == list(range(len(got)))  # a prefix, in order
    assert set(old) <= set(got)
    assert log.discarded_bytes < R.RECORD_OVERHEAD + P.packet_size(18)

    summary = R.recover(path, tmp_path / "killed.csv")
    assert summary.samples == len(got) * 18 and summary.packets_lost == 0
    rec = read_recording(tmp_path / "killed.csv")
    assert rec.side == "right" and len(rec) == len(got) * 18
