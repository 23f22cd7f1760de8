"""Tests for the sensor protocol and stream assembly (:mod:`imu.protocol`)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imu import protocol as P

# Scales as the sensor sends them (float32), so quantization is the only error.
ACC_SCALE = float(np.float32(P.acc_scale_for_range(16)))  # m/s^2 per LSB at +-16 g
GYR_SCALE = float(np.float32(1.0 / 16.4))  # deg/s per LSB at +-2000 deg/s (ICM-42688-P)
PER_PACKET = 18


def make_packets(
    n_packets: int,
    *,
    rng: np.random.Generator,
    seq0: int = 0,
    t0_us: int = 5_000_000,
    period_ns: int = 1_000_000,
    per_packet: int = PER_PACKET,
    flags: int = P.SIDE_LEFT,
) -> tuple[list[bytes], np.ndarray, np.ndarray]:
    """Packets of a continuous stream: (packets, first-sample time per packet in µs, raw)."""
    raw = rng.integers(-3000, 3000, size=(n_packets * per_packet, 6)).astype(np.int16)
    raw[:, 2] += int(round(9.81 / ACC_SCALE))
    t_first_us = t0_us + (np.arange(n_packets) * per_packet * period_ns) // 1000
    packets = [
        P.encode_packet(
            seq0 + i,
            int(t_first_us[i]),
            raw[i * per_packet : (i + 1) * per_packet],
            period_ns=period_ns,
            acc_scale_mps2=ACC_SCALE,
            gyr_scale_dps=GYR_SCALE,
            flags=flags,
        )
        for i in range(n_packets)
    ]
    return packets, t_first_us, raw


def sample_times_s(t_first_us: np.ndarray, period_ns: int, per_packet: int) -> np.ndarray:
    """Sensor time of every sample of the given packets, s, shape (len * per_packet,)."""
    k = np.arange(per_packet)
    return (t_first_us[:, None] * 1e-6 + k[None, :] * period_ns * 1e-9).ravel()


# ---------------------------------------------------------------------------------------------
# Layout and byte budget
# ---------------------------------------------------------------------------------------------


def test_layout_and_budget():
    assert P.HEADER_SIZE == 24 and P.SAMPLE_SIZE == 12
    assert P.samples_per_packet(247) == 18 and P.packet_size(18) == 240 <= 247 - 3
    assert P.samples_per_packet(185) == 13 and P.packet_size(13) == 180 <= 185 - 3
    assert P.samples_per_packet(23) == 0
    assert P.samples_per_packet(39) == 1
    assert P.samples_per_packet(517) == 40
    # The UUIDs share the base and differ in one 16-bit field.
    uuids = [P.SERVICE_UUID, P.DATA_CHAR_UUID, P.CONTROL_CHAR_UUID, P.STATUS_CHAR_UUID]
    assert len(set(uuids)) == 4
    assert {u[:4] + u[8:] for u in uuids} == {P.UUID_BASE[:4] + P.UUID_BASE[8:]}


def test_encode_header_bytes():
    pkt = P.encode_packet(
        0x1234,
        0x0A0B0C0D0E0F,
        np.ones((2, 6), dtype=np.int16),
        period_ns=1_000_000,
        acc_scale_mps2=1.0,
        gyr_scale_dps=0.5,
        flags=P.SIDE_RIGHT | P.FLAG_START,
    )
    assert len(pkt) == 48
    assert pkt[:6] == bytes([1, 0x0A, 0x34, 0x12, 2, 0])
    assert pkt[6:12] == bytes([0x0F, 0x0E, 0x0D, 0x0C, 0x0B, 0x0A])  # u48 little-endian
    assert pkt[12:16] == (1_000_000).to_bytes(4, "little")
    assert pkt[24:26] == b"\x01\x00"


# ---------------------------------------------------------------------------------------------
# Decoding: round trip and fuzzing
# ---------------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    seq=st.integers(0, 65535),
    t_us=st.integers(0, 2**48 - 1),
    n=st.integers(1, 40),
    period_ns=st.integers(1, 2**32 - 1),
    flags=st.integers(0, 255),
    seed=st.integers(0, 2**32 - 1),
)
def test_round_trip_exact_within_quantization(seq, t_us, n, period_ns, flags, seed):
    rng = np.random.default_rng(seed)
    acc = rng.uniform(-15.9, 15.9, size=(n, 3)) * P.STANDARD_GRAVITY  # m/s^2, inside +-16 g
    gyr = rng.uniform(-1990.0, 1990.0, size=(n, 3))  # deg/s
    raw = np.hstack([P.quantize(acc, ACC_SCALE), P.quantize(gyr, GYR_SCALE)])
    pkt = P.encode_packet(
        seq, t_us, raw, period_ns=period_ns, acc_scale_mps2=ACC_SCALE, gyr_scale_dps=GYR_SCALE
    )
    pkt_flags = P.encode_packet(
        seq,
        t_us,
        raw,
        period_ns=period_ns,
        acc_scale_mps2=ACC_SCALE,
        gyr_scale_dps=GYR_SCALE,
        flags=flags,
    )
    batch = P.decode_packets([pkt, pkt_flags])
    assert batch.n_packets == 2 and batch.n_malformed == 0
    assert batch.seq.tolist() == [seq, seq] and batch.t_us.tolist() == [t_us, t_us]
    assert batch.period_ns.tolist() == [period_ns] * 2
    assert batch.flags.tolist() == [0, flags]
    np.testing.assert_array_equal(batch.raw[:n], raw)
    # Physical values: within half an LSB, i.e. 2.4e-3 m/s^2 at +-16 g, 0.031 deg/s.
    half_acc, half_gyr = ACC_SCALE / 2, GYR_SCALE / 2
    assert np.abs(batch.acc_mps2[:n] - acc).max() <= half_acc * (1 + 1e-9)
    assert np.abs(batch.gyr_dps[:n] - gyr).max() <= half_gyr * (1 + 1e-9)
    expected_t = t_us + np.arange(n) * period_ns * 1e-3
    np.testing.assert_allclose(batch.sample_t_us[:n], expected_t, rtol=0, atol=1e-3)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=30))
def test_decode_never_raises_on_arbitrary_bytes(items):
    batch = P.decode_packets(items)
    assert batch.n_packets + batch.n_malformed == len(items)
    assert batch.raw.shape == (int(batch.sample_start[-1]), 6)
    assert np.all(np.diff(batch.source_index) > 0)
    assert batch.acc_mps2.shape == (batch.n_samples, 3)


_valid_packet = st.builds(
    lambda seq, t, n, seed: P.encode_packet(
        seq,
        t,
        np.random.default_rng(seed).integers(-32768, 32768, size=(n, 6)),
        period_ns=2_500_000,
        acc_scale_mps2=ACC_SCALE,
        gyr_scale_dps=GYR_SCALE,
    ),
    st.integers(0, 65535),
    st.integers(0, 2**48 - 1),
    st.integers(1, 20),
    st.integers(0, 1000),
)


@st.composite
def _mutated(draw) -> bytes:
    """A valid packet, then truncated, extended, or with bytes overwritten."""
    pkt = bytearray(draw(_valid_packet))
    how = draw(st.sampled_from(["cut", "extend", "overwrite"]))
    if how == "cut":
        return bytes(pkt[: draw(st.integers(0, len(pkt) - 1))])
    if how == "extend":
        return bytes(pkt + draw(st.binary(min_size=1, max_size=30)))
    for _ in range(draw(st.integers(1, 4))):
        pkt[draw(st.integers(0, 23))] = draw(st.integers(0, 255))
    return bytes(pkt)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_valid_packet, _mutated(), st.binary(max_size=64)), max_size=25))
def test_decode_valid_kept_malformed_counted(items):
    batch = P.decode_packets(items)
    assert batch.n_packets + batch.n_malformed == len(items)
    for i in range(len(items)):  # what the decoder kept, judged one by one
        single = P.decode_packets([items[i]])
        assert (i in batch.source_index.tolist()) == (single.n_packets == 1)
    # Each kept packet re-encodes to exactly its bytes (reserved byte aside).
    for j, i in enumerate(batch.source_index.tolist()):
        a, b = batch.sample_start[j], batch.sample_start[j + 1]
        again = P.encode_packet(
            int(batch.seq[j]),
            int(batch.t_us[j]),
            batch.raw[a:b],
            period_ns=int(batch.period_ns[j]),
            acc_scale_mps2=float(batch.acc_scale_mps2[j]),
            gyr_scale_dps=float(batch.gyr_scale_dps[j]),
            flags=int(batch.flags[j]),
        )
        assert again[:5] + again[6:] == items[i][:5] + items[i][6:]


def test_malformed_reasons():
    rng = np.random.default_rng(1)
    (good,), _, _ = make_packets(1, rng=rng)
    bad_version = bytes([2]) + good[1:]
    bad_count = good[:4] + bytes([good[4] + 1]) + good[5:]
    zero_period = good[:12] + b"\0\0\0\0" + good[16:]
    nan_scale = good[:16] + np.float32(np.nan).tobytes() + good[20:]
    neg_scale = good[:20] + np.float32(-1).tobytes() + good[24:]
    items = [good, good[:-1], b"", bad_version, bad_count, zero_period, nan_scale, neg_scale]
    items += [None, "text", 42, memoryview(good), bytearray(good), good[:24]]
    batch = P.decode_packets(items)  # type: ignore[arg-type]
    assert batch.source_index.tolist() == [0, 11, 12]
    assert batch.malformed == {
        "length": 3,
        "version": 1,
        "count": 1,
        "field": 3,
        "not_bytes": 3,
    }
    assert P.decode_packets(None).n_packets == 0  # type: ignore[arg-type]
    assert P.decode_packets([]).n_packets == 0


def test_decode_is_vectorized_and_fast():
    rng = np.random.default_rng(2)
    packets, _, _ = make_packets(20_000, rng=rng)  # 6 min at 1 kHz
    import time

    t0 = time.perf_counter()
    batch = P.decode_packets(packets)
    assert time.perf_counter() - t0 < 1.0
    assert batch.n_samples == 20_000 * PER_PACKET


# ---------------------------------------------------------------------------------------------
# Control and status
# ---------------------------------------------------------------------------------------------


def test_commands_round_trip():
    cases = [
        (P.encode_start(), P.ControlCommand(P.OP_START)),
        (P.encode_stop(), P.ControlCommand(P.OP_STOP)),
        (P.encode_set_rate(833), P.ControlCommand(P.OP_SET_RATE, rate_hz=833)),
        (
            P.encode_set_ranges(16, 2000),
            P.ControlCommand(P.OP_SET_RANGES, acc_range_g=16, gyr_range_dps=2000),
        ),
        (
            P.encode_time_sync(7, 2**40 + 3),
            P.ControlCommand(P.OP_TIME_SYNC, token=7, host_time_us=2**40 + 3),
        ),
        (P.encode_identify(3), P.ControlCommand(P.OP_IDENTIFY, seconds=3)),
        (P.encode_set_side("right"), P.ControlCommand(P.OP_SET_SIDE, side=P.SIDE_RIGHT)),
    ]
    for data, expected in cases:
        assert P.decode_command(data) == expected
    assert P.encode_set_rate(1000) == b"\x03\xe8\x03"
    assert len(P.encode_time_sync(1, 2)) == 13


@pytest.mark.parametrize(
    ("data", "result"),
    [
        (b"", P.RESULT_INVALID_LENGTH),
        (b"\x7f", P.RESULT_UNKNOWN_OPCODE),
        (b"\x03\xe8", P.RESULT_INVALID_LENGTH),
        (b"\x03\x10\x00", P.RESULT_INVALID_PARAMETER),  # 16 Hz
        (b"\x04\x03\xd0\x07", P.RESULT_INVALID_PARAMETER),  # +-3 g
        (b"\x06\x00", P.RESULT_INVALID_PARAMETER),
        (b"\x07\x03", P.RESULT_INVALID_PARAMETER),
    ],
)
def test_bad_commands(data, result):
    with pytest.raises(P.ProtocolError) as err:
        P.decode_command(data)
    assert err.value.result == result


def test_encoders_reject_bad_values():
    with pytest.raises(ValueError):
        P.encode_set_rate(49)
    with pytest.raises(ValueError):
        P.encode_set_ranges(3, 2000)
    with pytest.raises(ValueError):
        P.encode_set_side("middle")
    with pytest.raises(TypeError):
        P.encode_set_rate(100.0)  # type: ignore[arg-type]


def test_responses_round_trip():
    sync = P.encode_response(
        P.OP_TIME_SYNC, token=9, host_time_us=123_456_789, sensor_t_us=987_654_321
    )
    r = P.decode_response(sync)
    assert r.ok and (r.token, r.host_time_us, r.sensor_t_us) == (9, 123_456_789, 987_654_321)
    r = P.decode_response(
        P.encode_response(P.OP_START, samples_per_packet=18, period_ns=1_200_480, att_mtu=247)
    )
    assert (r.samples_per_packet, r.period_ns, r.att_mtu) == (18, 1_200_480, 247)
    r = P.decode_response(P.encode_response(P.OP_START, P.RESULT_MTU_TOO_SMALL))
    assert not r.ok and r.result_name == "MTU_TOO_SMALL" and r.samples_per_packet is None
    r = P.decode_response(P.encode_response(0x7F, P.RESULT_UNKNOWN_OPCODE))
    assert r.request_opcode == 0x7F and r.result == P.RESULT_UNKNOWN_OPCODE
    with pytest.raises(P.ProtocolError):
        P.decode_response(sync[:-1])
    with pytest.raises(P.ProtocolError):
        P.decode_response(b"\x01\x02\x03")


def test_status_round_trip():
    status = P.SensorStatus(
        state=P.STATE_STREAMING,
        side=P.SIDE_LEFT,
        battery_pct=87,
        battery_mv=3950,
        rate_hz=1000,
        period_ns=1_000_012,
        acc_scale_mps2=ACC_SCALE,
        gyr_scale_dps=GYR_SCALE,
        acc_range_g=16,
        imu_part=3,
        gyr_range_dps=2000,
        sensor_t_us=2**40,
        next_seq=65535,
        att_mtu=247,
        firmware=(1, 2, 3),
        errors=P.STATUS_ERR_BATTERY_LOW,
    )
    data = P.encode_status(status)
    assert len(data) == P.STATUS_SIZE == 40
    assert P.decode_status(data) == status
    assert P.decode_status(data + b"later fields") == status
    with pytest.raises(P.ProtocolError):
        P.decode_status(data[:-1])


# ---------------------------------------------------------------------------------------------
# Stream assembly
# ---------------------------------------------------------------------------------------------


def _feed(asm: P.StreamAssembler, packets, host, rng) -> list[P.StreamChunk]:
    """Feed in random-size batches, popping what is ready after each, then finish."""
    chunks = []
    i = 0
    while i < len(packets):
        j = i + int(rng.integers(1, 12))
        asm.add_packets(packets[i:j], host[i:j])
        chunks.append(asm.pop_ready())
        i = j
    chunks.append(asm.finish())
    return chunks


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_assembler_loss_duplicates_reordering_and_wrap(seed):
    rng = np.random.default_rng(seed)
    n = 1500
    packets, t_first_us, raw = make_packets(n, rng=rng, seq0=65536 - 700)  # wraps at 700
    host = 10.0 + (t_first_us - t_first_us[0]) * 1e-6 + 0.02
    # Loss: 4 % single packets and one run of 25; never the first or the last.
    lost = set(rng.choice(np.arange(1, n - 1), size=n // 25, replace=False).tolist())
    lost |= set(range(800, 825))
    order = [i for i in range(n) if i not in lost]
    # Duplicates (5 %), then reordering: each arrival displaced by up to 8 places.
    dups = rng.choice(order, size=len(order) // 20, replace=False)
    for d in dups.tolist():
        order.insert(order.index(d) + int(rng.integers(0, 5)), d)
    key = np.arange(len(order)) + rng.uniform(0, 8, size=len(order))
    order = [order[k] for k in np.argsort(key, kind="stable")]
    sent = [packets[i] for i in order]
    sent_host = host[order] + rng.uniform(0, 0.02, size=len(order))

    asm = P.StreamAssembler(hold_packets=32)
    chunks = _feed(asm, sent, sent_host, rng)
    stream = asm.stream()

    kept = np.array(sorted(set(range(n)) - lost))
    expected_t = sample_times_s(t_first_us[kept], 1_000_000, PER_PACKET)
    np.testing.assert_allclose(stream.t_s, expected_t, rtol=0, atol=1e-9)
    expected_raw = raw.reshape(n, PER_PACKET, 6)[kept].reshape(-1, 6)
    np.testing.assert_allclose(stream.acc_mps2, expected_raw[:, :3] * ACC_SCALE, atol=1e-12)
    np.testing.assert_allclose(stream.gyr_dps, expected_raw[:, 3:] * GYR_SCALE, atol=1e-12)
    assert np.all(np.diff(stream.t_s) > 0)
    assert sum(len(c) for c in chunks) == len(stream)

    s = stream.stats
    assert s.packets_lost == len(lost)
    assert s.packets_used == len(kept)
    assert s.packets_duplicate == len(dups)
    assert s.packets_late == 0
    assert s.packets_received == len(sent)
    assert s.packets_out_of_order > 0
    assert s.samples_dropped == 0
    assert abs(s.loss_fraction - len(lost) / n) < 1e-12
    # Every run of lost packets is one gap, with its sequence numbers and time span.
    runs = []
    for i in sorted(lost):
        if runs and runs[-1][1] == i - 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    assert len(stream.gaps) == len(runs) == s.gaps
    for gap, (a, b) in zip(stream.gaps, runs, strict=True):
        assert gap.reason == "lost packets"
        assert gap.first_missing_seq == 65536 - 700 + a
        assert gap.missing_packets == b - a + 1
        assert gap.missing_samples == (b - a + 1) * PER_PACKET
        assert gap.after_t_s == pytest.approx(expected_t[expected_t < t_first_us[a] * 1e-6][-1])
        assert gap.before_t_s == pytest.approx(t_first_us[b + 1] * 1e-6)


def test_late_packets_are_dropped_not_inserted():
    rng = np.random.default_rng(5)
    packets, t_first_us, _ = make_packets(40, rng=rng)
    order = list(range(40))
    order.remove(10)
    order.insert(30, 10)  # 20 places late
    asm = P.StreamAssembler(hold_packets=4)
    for i in order:
        asm.add_packets([packets[i]], 0.0)
        asm.pop_ready()
    asm.finish()
    stream = asm.stream()
    assert stream.stats.packets_late == 1 and stream.stats.packets_lost == 1
    assert np.all(np.diff(stream.t_s) > 0)
    assert [g.missing_packets for g in stream.gaps] == [1]
    # Sent before the first packet released, arriving after it: late too, not a duplicate.
    asm = P.StreamAssembler(hold_packets=0)
    asm.add_packets(packets[5:8], 0.0)
    asm.pop_ready()
    asm.add_packets(packets[3:6], 0.0)
    asm.finish()
    assert (asm.stats.packets_late, asm.stats.packets_duplicate) == (2, 1)


def test_long_outage_beyond_sequence_wrap():
    """70 000 packets lost (over 20 min at 1 kHz): the wrap count comes from the clock."""
    rng = np.random.default_rng(6)
    before, t_a, _ = make_packets(100, rng=rng, seq0=60_000)
    t0_after = int(t_a[0] + (100 + 70_000) * PER_PACKET * 1000)
    after, t_b, _ = make_packets(100, rng=rng, seq0=(60_000 + 100 + 70_000), t0_us=t0_after)
    asm = P.StreamAssembler()
    asm.add_packets(before, 0.0)
    asm.add_packets(after, 0.0)
    asm.finish()
    stream = asm.stream()
    assert [g.missing_packets for g in stream.gaps] == [70_000]
    assert stream.stats.packets_lost == 70_000 and len(stream) == 200 * PER_PACKET


def test_sensor_overflow_and_restart_gaps():
    rng = np.random.default_rng(7)
    packets, t_first_us, raw = make_packets(30, rng=rng)
    period = 1_000_000
    # Packet 10: the sensor lost 5 samples before it (contiguous sequence numbers).
    # Packet 20: first after a STOP/START, 3 s later.
    shift = np.zeros(30, dtype=np.int64)
    shift[10:] += 5 * period // 1000
    shift[20:] += 3_000_000
    flags = np.full(30, P.SIDE_LEFT)
    flags[10] |= P.FLAG_OVERFLOW
    flags[20] |= P.FLAG_START
    rebuilt = [
        P.encode_packet(
            i,
            int(t_first_us[i] + shift[i]),
            raw[i * PER_PACKET : (i + 1) * PER_PACKET],
            period_ns=period,
            acc_scale_mps2=ACC_SCALE,
            gyr_scale_dps=GYR_SCALE,
            flags=int(flags[i]),
        )
        for i in range(30)
    ]
    stream = P.assemble(rebuilt, 0.0)
    assert [(g.reason, g.missing_packets, g.missing_samples) for g in stream.gaps] == [
        ("sensor overflow", 0, 5),
        ("restart", 0, 3000),
    ]
    assert stream.stats.packets_lost == 0 and len(stream) == 30 * PER_PACKET


def test_overlapping_packets_never_break_monotonic_time():
    rng = np.random.default_rng(8)
    packets, t_first_us, raw = make_packets(10, rng=rng)
    late_stamp = P.encode_packet(
        5,
        int(t_first_us[5] - 3000),  # 3 samples earlier than it should be
        raw[5 * PER_PACKET : 6 * PER_PACKET],
        period_ns=1_000_000,
        acc_scale_mps2=ACC_SCALE,
        gyr_scale_dps=GYR_SCALE,
    )
    packets[5] = late_stamp
    stream = P.assemble(packets, 0.0)
    assert np.all(np.diff(stream.t_s) > 0)
    assert stream.stats.samples_dropped == 3


def test_empty_and_garbage_streams():
    asm = P.StreamAssembler()
    assert len(asm.pop_ready()) == 0 and len(asm.finish()) == 0
    asm.add_packets([b"junk", b""], [1.0, 2.0])
    asm.finish()
    stream = asm.stream()
    assert len(stream) == 0 and stream.clock is None
    assert stream.stats.packets_malformed == 2
    with pytest.raises(ValueError):
        asm.add_packets(make_packets(2, rng=np.random.default_rng(0))[0], [1.0, 2.0, 3.0])


# ---------------------------------------------------------------------------------------------
# Clock drift
# ---------------------------------------------------------------------------------------------

MIN_LATENCY_S = 0.005


def _drifting_link(drift_ppm: float, seed: int, duration_s: float = 60.0):
    """A 1 kHz stream whose sensor clock runs ``drift_ppm`` fast, with 5-40 ms latency.

    Returns (packets in arrival order, their arrival times, true host time of sensor time).
    """
    rng = np.random.default_rng(seed)
    n = int(duration_s * 1000 / PER_PACKET)
    t0_us = int(rng.integers(1_000_000, 10**10))
    packets, t_first_us, _ = make_packets(n, rng=rng, t0_us=t0_us)
    host0 = float(rng.uniform(0, 1e5))

    def true_host(t_sensor_s):
        return host0 + (np.asarray(t_sensor_s) - t0_us * 1e-6) / (1 + drift_ppm * 1e-6)

    t_last = t_first_us * 1e-6 + (PER_PACKET - 1) * 1e-3
    arrival = true_host(t_last) + MIN_LATENCY_S + rng.uniform(0, 0.035, size=n)
    # A lossy, duplicating, reordering link: 3 % lost, 2 % duplicated, arrival order.
    keep = rng.uniform(size=n) > 0.03
    idx = np.flatnonzero(keep)
    idx = np.concatenate([idx, rng.choice(idx, size=n // 50)])
    dup_extra = np.zeros(idx.shape[0])
    dup_extra[-(n // 50) :] = rng.uniform(0.0, 0.05, size=n // 50)
    times = arrival[idx] + dup_extra
    order = np.argsort(times, kind="stable")
    return [packets[i] for i in idx[order]], times[order], true_host


@pytest.mark.parametrize(("drift_ppm", "seed"), [(100.0, 0), (-100.0, 1), (37.0, 2)])
def test_drift_estimate_and_host_mapping(drift_ppm, seed):
    packets, times, true_host = _drifting_link(drift_ppm, seed)
    asm = P.StreamAssembler()
    chunks = _feed(asm, packets, times, np.random.default_rng(seed))
    assert sum(len(c) for c in chunks) > 0
    stream = asm.stream()
    clock = stream.clock
    assert clock is not None
    assert abs(clock.sensor_drift_ppm - drift_ppm) < 5.0
    # The map is the minimum-delay arrival time: the true time plus the link's 5 ms floor,
    # which arrival times alone cannot reveal.
    err = stream.host_s() - (true_host(stream.t_s) + MIN_LATENCY_S)
    assert np.abs(err).max() < 0.002
    assert 0.0 < clock.median_excess_delay_s < 0.035
    back = clock.to_sensor_s(clock.to_host_s(stream.t_s[::1000]))
    np.testing.assert_allclose(back, stream.t_s[::1000], rtol=0, atol=1e-9)


def test_two_sensors_on_one_host_clock():
    """Left +100 ppm, right -100 ppm: the same true instants map to the same host time."""
    left, lt, left_true = _drifting_link(100.0, 10)
    right, rt, right_true = _drifting_link(-100.0, 11)
    streams = {"left": P.assemble(left, lt), "right": P.assemble(right, rt)}
    on_host = P.host_times(streams)
    for side, truth in (("left", left_true), ("right", right_true)):
        err = on_host[side] - (truth(streams[side].t_s) + MIN_LATENCY_S)
        assert np.abs(err).max() < 0.002
    assert streams["left"].clock.sensor_drift_ppm > 90
    assert streams["right"].clock.sensor_drift_ppm < -90


def test_clock_short_span_and_time_sync_points():
    clock = P.estimate_clock(np.array([1.0, 1.5]), np.array([101.02, 101.51]))
    assert clock is not None and clock.slope_minus_1 == 0.0
    assert clock.offset_s == pytest.approx(100.01)
    assert P.estimate_clock(np.array([]), np.array([])) is None
    asm = P.StreamAssembler()
    asm.add_time_sync(2_000_000, 50.0)
    assert asm.clock_map().to_host_s(2.0) == pytest.approx(50.0)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(_valid_packet, _mutated(), st.binary(max_size=100)), max_size=30),
    st.integers(0, 8),
)
def test_assembler_never_raises_and_keeps_time_increasing(items, hold):
    asm = P.StreamAssembler(hold_packets=hold)
    for i in range(0, len(items), 7):
        asm.add_packets(items[i : i + 7], float(i))
        asm.pop_ready()
    asm.finish()
    stream = asm.stream()
    assert np.all(np.diff(stream.t_s) > 0)
    s = stream.stats
    assert s.packets_received + s.packets_malformed == len(items)
    assert s.packets_used + s.packets_duplicate + s.packets_late == s.packets_received
