"""The emulated sensor (bumble) through UNCHANGED bleak calls with ``backend=``.

Everything runs in process on a bumble LocalLink (no Bluetooth hardware), except the last
tests, which run ``python -m imu.emulator`` in a subprocess and reach it over TCP.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("bumble")

from bleak import BleakClient, BleakScanner  # noqa: E402
from bumble.link import LocalLink  # noqa: E402
from procs import spawn, wait_line  # noqa: E402

from imu import protocol as P  # noqa: E402
from imu.emulator import (  # noqa: E402
    Faults,
    VirtualSensor,
    advertising_data,
    emulator_backend,
    run_in_virtual_time,
)
from imu.emulator.backend import close_hosts, parse_advertising_data  # noqa: E402
from imu.recording import Recording, write_recording  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def run(coro, timeout_s: float = 40.0, *, virtual: bool = False):
    """Run a test coroutine (on a virtual clock that skips idle time if ``virtual``)."""

    async def main():
        try:
            return await asyncio.wait_for(coro, timeout_s * (100 if virtual else 1))
        finally:
            await close_hosts()

    return run_in_virtual_time(main()) if virtual else asyncio.run(main())


def wave_recording(duration_s: float = 30.0, fs: float = 1000.0, seed: int = 0) -> Recording:
    """Cheap varied movement: sines, a ramp and noise on every axis, 1 kHz."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * fs)) / fs
    acc = np.column_stack([np.sin(2 * t), np.cos(3 * t), 9.81 + 2 * np.sin(7 * t)])
    acc += rng.normal(0, 0.05, acc.shape)
    gyr = np.column_stack([150 * np.sin(5 * t), 40 * np.cos(t), (t % 4) * 30 - 60])
    gyr += rng.normal(0, 0.5, gyr.shape)
    return Recording(t, acc, gyr, fs, meta={"sample_rate_hz": f"{fs:g}"})


@pytest.fixture(scope="module")
def heel_raise():
    from imu.synth.scenarios import HeelRaiseSetup, heel_raise_session

    setup = HeelRaiseSetup(n_sets=1, reps_per_set=(2,), walk_between_sets=False)
    rec, _ = heel_raise_session(3, fs_hz=1000.0, setup=setup, side="left")
    return rec


async def _device(backend, name: str):
    device = await BleakScanner.find_device_by_name(name, timeout=3.0, backend=backend.scanner)
    assert device is not None, f"{name} not found"
    return device


# ---------------------------------------------------------------------------------------------
# Advertising, GATT, commands
# ---------------------------------------------------------------------------------------------


def test_advertising_data_follows_protocol_section_2():
    data = advertising_data("ANKL-L3F")
    assert len(data) == 31
    assert data.hex(" ") == (
        "02 01 06 11 07 97 a8 f2 88 39 f1 35 8c f7 4e f4 5b 01 00 b5 e4 "
        "09 09 41 4e 4b 4c 2d 4c 33 46"
    )
    fields = parse_advertising_data(data)
    assert fields["local_name"] == "ANKL-L3F"
    assert fields["service_uuids"] == [P.SERVICE_UUID]


def test_unchanged_bleak_scanner_finds_sensor_within_31_bytes():
    async def main():
        link = LocalLink()
        backend = emulator_backend(link)
        async with VirtualSensor(link, wave_recording(2), side="right") as sensor:
            seen = await BleakScanner.discover(
                timeout=0.3,
                return_adv=True,
                service_uuids=[P.SERVICE_UUID],
                backend=backend.scanner,
            )
            device, adv = seen[sensor.address_str]
            assert adv.local_name == sensor.name and sensor.name.startswith("ANKL-R")
            assert P.SERVICE_UUID in adv.service_uuids
            raw = adv.platform_data[1]
            assert raw == sensor.advertising_data and len(raw) <= 31
            by_name = await BleakScanner.find_device_by_name(
                sensor.name, timeout=2.0, backend=backend.scanner
            )
            assert by_name is not None and by_name.address == sensor.address_str
            # A filter on another service hides it.
            other = await BleakScanner.discover(
                timeout=0.2,
                service_uuids=["0000180d-0000-1000-8000-00805f9b34fb"],
                backend=backend.scanner,
            )
            assert other == []

    run(main())


def test_unchanged_bleak_client_gatt_and_mtu():
    async def main():
        link = LocalLink()
        backend = emulator_backend(link)
        async with VirtualSensor(link, wave_recording(2), side="left") as sensor:
            device = await _device(backend, sensor.name)
            async with BleakClient(device, backend=backend.client) as client:
                assert client.is_connected
                assert client.mtu_size >= 247
                svc = client.services.get_service(P.SERVICE_UUID)
                props = {c.uuid: set(c.properties) for c in svc.characteristics}
                assert props[P.DATA_CHAR_UUID] == {"notify"}
                assert props[P.CONTROL_CHAR_UUID] == {"write", "notify"}
                assert props[P.STATUS_CHAR_UUID] == {"read", "notify"}
                for uuid in (P.DATA_CHAR_UUID, P.CONTROL_CHAR_UUID, P.STATUS_CHAR_UUID):
                    descs = client.services.get_characteristic(uuid).descriptors
                    assert [d.uuid for d in descs] == ["00002902-0000-1000-8000-00805f9b34fb"]
                assert (await client.read_gatt_char(P.BATTERY_LEVEL_CHAR_UUID))[0] == 87
                fw = await client.read_gatt_char(P.FIRMWARE_REVISION_CHAR_UUID)
                assert fw.decode() == "1.0.0"
                status = P.decode_status(await client.read_gatt_char(P.STATUS_CHAR_UUID))
                assert status.state == P.STATE_IDLE and status.side == P.SIDE_LEFT
                assert status.att_mtu == client.mtu_size and status.rate_hz == 1000
            await asyncio.sleep(0.1)
            assert sensor.stats.connections == 1 and sensor.stats.disconnects == 1
            assert not client.is_connected

    run(main())


def test_every_command_answered_by_one_response_notification():
    async def main():
        link = LocalLink()
        backend = emulator_backend(link)
        async with VirtualSensor(link, wave_recording(2), side="left") as sensor:
            device = await _device(backend, sensor.name)
            responses: asyncio.Queue[bytes] = asyncio.Queue()
            async with BleakClient(device, backend=backend.client) as client:
                await client.start_notify(
                    P.CONTROL_CHAR_UUID, lambda _c, d: responses.put_nowait(bytes(d))
                )

                async def ask(payload: bytes) -> P.ControlResponse:
                    await client.write_gatt_char(P.CONTROL_CHAR_UUID, payload, response=True)
                    rsp = P.decode_response(await asyncio.wait_for(responses.get(), 2.0))
                    assert responses.empty()  # exactly one response
                    return rsp

                r = await ask(P.encode_set_rate(500))
                assert r.ok and (r.rate_hz, r.period_ns) == (500, 2_000_000)
                r = await ask(P.encode_set_rate(1000))
                r = await ask(P.encode_set_ranges(8, 1000))
                assert r.ok and (r.acc_range_g, r.gyr_range_dps) == (8, 1000)
                assert r.acc_scale_mps2 == pytest.approx(P.acc_scale_for_range(8))
                assert r.gyr_scale_dps == pytest.approx(1 / 32.8)
                before = sensor.sensor_ns() // 1000
                r = await ask(P.encode_time_sync(42, 1_700_000_000_000_000))
                after = sensor.sensor_ns() // 1000
                assert (r.token, r.host_time_us) == (42, 1_700_000_000_000_000)
                assert before <= r.sensor_t_us <= after
                assert (await ask(P.encode_identify(3))).ok
                r = await ask(P.encode_set_side("right"))
                assert r.ok and r.side == P.SIDE_RIGHT and sensor.side == "right"
                r = await ask(b"\x03\xe8")  # SET_RATE, one byte short
                assert r.result == P.RESULT_INVALID_LENGTH
                r = await ask(b"\x42")
                assert (r.request_opcode, r.result) == (0x42, P.RESULT_UNKNOWN_OPCODE)
                r = await ask(b"\x03\x0a\x00")  # 10 Hz
                assert r.result == P.RESULT_INVALID_PARAMETER
                r = await ask(P.encode_start())
                assert r.ok and (r.samples_per_packet, r.period_ns, r.att_mtu) == (18, 10**6, 247)
                assert (await ask(P.encode_start())).ok  # START while streaming: OK
                r = await ask(P.encode_set_rate(200))
                assert r.result == P.RESULT_NOT_ALLOWED_WHILE_STREAMING
                r = await ask(P.encode_set_ranges(16, 2000))
                assert r.result == P.RESULT_NOT_ALLOWED_WHILE_STREAMING
                assert (await ask(P.encode_stop())).ok
                assert (await ask(P.encode_stop())).ok  # STOP while stopped: OK
                assert sensor.stats.commands == 15

    run(main())


def test_connect_timeout_to_absent_sensor_then_connect():
    async def main():
        link = LocalLink()
        backend = emulator_backend(link)
        async with VirtualSensor(link, wave_recording(2)) as sensor:
            t0 = time.monotonic()
            with pytest.raises(TimeoutError):
                await BleakClient(
                    "F4:00:00:00:00:01", timeout=0.3, backend=backend.client
                ).connect()
            assert time.monotonic() - t0 < 1.0
            task = asyncio.create_task(
                BleakClient("F4:00:00:00:00:02", timeout=5, backend=backend.client).connect()
            )
            await asyncio.sleep(0.1)
            task.cancel()  # a cancelled attempt must not block the next one
            with pytest.raises(asyncio.CancelledError):
                await task
            async with BleakClient(sensor.address_str, backend=backend.client) as client:
                assert client.is_connected and client.mtu_size == 247

    run(main())


# ---------------------------------------------------------------------------------------------
# Streaming
# ---------------------------------------------------------------------------------------------


async def _stream(sensor: VirtualSensor, backend, seconds: float, *, subscribe_status=False):
    """Connect with a plain BleakClient, START, collect data for ``seconds``, STOP."""
    device = await _device(backend, sensor.name)
    packets: list[tuple[bytes, float]] = []
    async with BleakClient(device, backend=backend.client) as client:
        await client.start_notify(P.CONTROL_CHAR_UUID, lambda _c, _d: None)
        await client.start_notify(
            P.DATA_CHAR_UUID, lambda _c, d: packets.append((bytes(d), time.monotonic()))
        )
        await client.write_gatt_char(P.CONTROL_CHAR_UUID, P.encode_start(), response=True)
        await asyncio.sleep(seconds)
        await client.write_gatt_char(P.CONTROL_CHAR_UUID, P.encode_stop(), response=True)
        await asyncio.sleep(0.1)
    return packets


def test_stream_equals_source_within_quantization(heel_raise):
    speed = 4.0

    async def main():
        link = LocalLink()
        backend = emulator_backend(link)
        async with VirtualSensor(link, heel_raise, side="left", speed=speed) as sensor:
            packets = await _stream(sensor, backend, 2.0)
            return sensor, packets

    sensor, packets = run(main())
    batch = P.decode_packets([p for p, _ in packets])
    assert batch.n_malformed == 0
    assert set(batch.count[:-1].tolist()) == {18}  # full packets at MTU 247, last one partial
    assert all(len(p) <= 244 for p, _ in packets)
    assert batch.flags[0] & P.FLAG_START and not (batch.flags[1:] & P.FLAG_START).any()
    assert ((batch.flags & P.FLAG_SIDE_MASK) == P.SIDE_LEFT).all()
    assert np.array_equal(batch.seq, np.arange(len(packets)))
    stream = P.assemble(batch, np.array([t for _, t in packets]))
    n = len(stream)
    assert stream.stats.packets_lost == 0 and stream.gaps == ()
    assert n == sensor.stats.samples_formed > 7000  # 2 s at 4x real time, 1 kHz
    assert np.allclose(np.diff(stream.t_s), 1e-3, atol=1e-6)
    acc_scale, gyr_scale = sensor.acc_scale, sensor.gyr_scale
    src_acc = np.clip(heel_raise.acc_mps2[:n], -32768 * acc_scale, 32767 * acc_scale)
    src_gyr = np.clip(heel_raise.gyr_dps[:n], -32768 * gyr_scale, 32767 * gyr_scale)
    assert np.abs(stream.acc_mps2 - src_acc).max() <= 0.5 * acc_scale * (1 + 1e-5)
    assert np.abs(stream.gyr_dps - src_gyr).max() <= 0.5 * gyr_scale * (1 + 1e-5)


def test_injected_drop_duplicate_reorder_match_assembler_stats():
    faults = Faults(drop=0.04, duplicate=0.04, reorder=0.04, seed=7)

    async def main():
        link = LocalLink()
        backend = emulator_backend(link)
        async with VirtualSensor(link, wave_recording(), faults=faults) as sensor:
            packets = await _stream(sensor, backend, 12.0)
            return sensor, packets

    sensor, packets = run(main(), virtual=True)
    st = sensor.stats
    assert st.dropped > 5 and st.duplicated > 5 and st.reordered > 5
    asm = P.StreamAssembler()
    for p, t in packets:
        asm.add_packets([p], t)
    asm.finish()
    stream = asm.stream()
    seqs = P.decode_packets([p for p, _ in packets]).seq
    lo, hi = int(seqs.min()), int(seqs.max())
    inner_drops = sorted(s for s in st.dropped_seqs if lo < s < hi)
    assert stream.stats.packets_lost == len(inner_drops)
    assert stream.stats.packets_duplicate == st.duplicated
    assert stream.stats.packets_out_of_order == st.reordered
    assert stream.stats.packets_late == 0
    runs = 1 + int(np.count_nonzero(np.diff(inner_drops) > 1)) if inner_drops else 0
    assert len(stream.gaps) == runs
    assert all(g.reason == "lost packets" for g in stream.gaps)
    assert sum(g.missing_packets for g in stream.gaps) == len(inner_drops)
    assert len(stream) == st.samples_formed - 18 * (st.dropped)  # only full packets dropped


@pytest.mark.parametrize("drift_ppm", [100.0, -100.0])
def test_sensor_clock_drift_is_estimated(drift_ppm):
    """A minute at 1 kHz with 2-12 ms of random link latency, on a virtual clock (the
    host's arrival times are the event loop's: no scheduler jitter, no waiting)."""

    async def main():
        loop = asyncio.get_running_loop()
        link = LocalLink()
        backend = emulator_backend(link)
        sensor = VirtualSensor(link, wave_recording(), drift_ppm=drift_ppm, latency_ms=(2, 12))
        async with sensor:
            device = await _device(backend, sensor.name)
            packets: list[tuple[bytes, float]] = []
            async with BleakClient(device, backend=backend.client) as client:
                await client.start_notify(
                    P.DATA_CHAR_UUID, lambda _c, d: packets.append((bytes(d), loop.time()))
                )
                await client.write_gatt_char(P.CONTROL_CHAR_UUID, P.encode_start(), response=True)
                await asyncio.sleep(60.0)
                await client.write_gatt_char(P.CONTROL_CHAR_UUID, P.encode_stop(), response=True)
                await asyncio.sleep(0.1)
        return sensor, packets

    sensor, packets = run(main(), virtual=True)
    stream = P.assemble([p for p, _ in packets], np.array([t for _, t in packets]))
    assert stream.stats.packets_lost == 0 and len(stream) == sensor.stats.samples_formed
    assert len(stream) == pytest.approx(60_000 * (1 + drift_ppm * 1e-6), abs=20)
    assert stream.clock is not None and stream.clock.span_s > 59
    assert stream.clock.sensor_drift_ppm == pytest.approx(drift_ppm, abs=2.0)
    # The envelope sits at the smallest latency (2 ms); the median excess is about 5 ms.
    assert 0.002 < stream.clock.median_excess_delay_s < 0.008


def test_ring_buffer_overflow_drops_oldest_whole_packets():
    async def main():
        link = LocalLink()
        backend = emulator_backend(link)
        sensor = VirtualSensor(link, wave_recording(), speed=4.0, ring_buffer_s=0.5)
        async with sensor:
            device = await _device(backend, sensor.name)
            packets: list[bytes] = []
            async with BleakClient(device, backend=backend.client) as client:
                await client.start_notify(P.DATA_CHAR_UUID, lambda _c, d: packets.append(bytes(d)))
                await client.write_gatt_char(P.CONTROL_CHAR_UUID, P.encode_start(), response=True)
                await asyncio.sleep(0.3)
            await asyncio.sleep(0.5)  # streaming on, link down: 2 s of samples, 0.5 s kept
            statuses: list[P.SensorStatus] = []
            async with BleakClient(device, backend=backend.client) as client:
                await client.start_notify(
                    P.STATUS_CHAR_UUID, lambda _c, d: statuses.append(P.decode_status(d))
                )
                await client.start_notify(P.DATA_CHAR_UUID, lambda _c, d: packets.append(bytes(d)))
                await client.write_gatt_char(P.CONTROL_CHAR_UUID, P.encode_start(), response=True)
                await asyncio.sleep(0.3)
                await client.write_gatt_char(P.CONTROL_CHAR_UUID, P.encode_stop(), response=True)
                await asyncio.sleep(0.05)
            return sensor, packets, statuses

    sensor, packets, statuses = run(main(), virtual=True)
    assert sensor.stats.overflow_dropped > 0
    stream = P.assemble(packets, np.arange(len(packets), dtype=float))
    in_flight = sensor.stats.notifications_sent - len(packets)  # lost as the host hung up
    assert 0 <= in_flight <= 2
    assert stream.stats.packets_lost == sensor.stats.overflow_dropped + in_flight
    assert "lost packets" in [g.reason for g in stream.gaps]
    # Status notified on START (streaming, overflow since the last status) and on STOP.
    assert statuses[0].state == P.STATE_STREAMING and statuses[0].errors & P.STATUS_ERR_OVERFLOW
    assert statuses[-1].state == P.STATE_IDLE


# ---------------------------------------------------------------------------------------------
# Over TCP, with the emulator in another process
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def emulator_process(tmp_path):
    csv = tmp_path / "replay.csv"
    write_recording(csv, wave_recording(20))
    proc = spawn(
        ["-m", "imu.emulator", "--port", "0", "--replay", str(csv), "--side", "left"],
        merge_stderr=True,
    )
    try:
        line = wait_line(proc, "listening on ")
        yield line.split()[-1]  # tcp:127.0.0.1:PORT
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


RECORDER = """
import asyncio, sys
from imu.ble import SensorClient
from imu.rawlog import RawLogWriter

async def main():
    log = RawLogWriter(sys.argv[1], {"side": "left"}, flush_interval_s=0.1)
    client = SensorClient(side="left", rawlog=log)  # backend from $ANKLE_BLE_EMULATOR
    await client.connect()
    await client.start()
    print("streaming", flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_tcp_emulator_subprocess_and_recorder_killed(emulator_process, tmp_path):
    """`python -m imu.emulator` in one process, a recorder in another (SIGKILLed mid-set),
    then a new recorder in this one: the raw log keeps what arrived, the sensor advertises
    again at once and the new connection streams without loss."""
    from imu.ble import SensorClient
    from imu.rawlog import read_rawlog

    log_path = tmp_path / "killed.rawlog"
    rec = spawn(
        ["-c", RECORDER, str(log_path)],
        env={"ANKLE_BLE_EMULATOR": emulator_process},
        merge_stderr=True,
    )
    try:
        wait_line(rec, "streaming")
        time.sleep(1.0)
        rec.send_signal(signal.SIGKILL)
        rec.wait(5)
    finally:
        if rec.poll() is None:
            rec.kill()
    log = read_rawlog(log_path)
    packets, _ = log.data()
    assert len(packets) > 30  # ~1 s at 55 packets/s reached the OS before the kill
    stream = P.assemble(packets, np.arange(len(packets), dtype=float))
    assert stream.stats.packets_lost == 0 and len(stream) == 18 * len(packets)

    async def main():
        got: list[bytes] = []
        t0 = time.monotonic()
        client = SensorClient(
            side="left", backend=emulator_process, on_data=lambda d, t: got.append(d)
        )
        await client.connect()
        connect_s = time.monotonic() - t0
        rsp = await client.start()
        await asyncio.sleep(1.0)
        await client.stop()
        await asyncio.sleep(0.1)
        await client.close()
        return got, rsp, connect_s

    got, rsp, connect_s = run(main())
    assert connect_s < 2.0
    assert rsp.att_mtu == 247 and rsp.samples_per_packet == 18
    batch = P.decode_packets(got)
    # The sensor kept sampling after the recorder died (ring buffer): the new stream
    # continues the sequence numbers of the killed one.
    assert int(batch.seq[0]) >= len(packets)
    stream = P.assemble(got, np.arange(len(got), dtype=float))
    assert stream.stats.packets_lost == 0 and len(stream) > 900
