"""imu.ble (bleak's public API only) against emulated sensors: discovery, connection,
commands, raw logging, reconnection after a drop, two sensors with a late joiner."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from imu import protocol as P
from imu.ble import DEFAULT_BACKEND, ENV_VAR, BleBackend, resolve_backend, side_from_name
from imu.recording import Recording


def test_side_from_name():
    assert side_from_name("ANKL-L3F") == "left"
    assert side_from_name("ANKL-R90") == "right"
    assert side_from_name("ANKL-U12") is None
    assert side_from_name("Polar H10") is None
    assert side_from_name(None) is None


def test_backend_defaults_to_bleak_unless_emulator_selected(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert resolve_backend(None) is DEFAULT_BACKEND
    assert resolve_backend(None).scanner is None and resolve_backend(None).client is None
    custom = BleBackend(name="custom")
    assert resolve_backend(custom) is custom
    pytest.importorskip("bumble")
    monkeypatch.setenv(ENV_VAR, "tcp:127.0.0.1:9")
    b = resolve_backend(None)
    assert b.scanner is not None and b.client is not None and "tcp:127.0.0.1:9" in b.name


# ---------------------------------------------------------------------------------------------
# Against the emulator (bumble)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emu():
    """The emulator's pieces (skips the tests when bumble is not installed)."""
    pytest.importorskip("bumble")
    import imu.emulator as emu

    return emu


def run(emu, coro, timeout_s: float = 40.0, *, virtual: bool = False):
    async def main():
        try:
            return await asyncio.wait_for(coro, timeout_s * (100 if virtual else 1))
        finally:
            await emu.close_hosts()

    return emu.run_in_virtual_time(main()) if virtual else asyncio.run(main())


def recording(duration_s: float = 30.0, fs: float = 1000.0, seed: int = 0) -> Recording:
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * fs)) / fs
    acc = np.column_stack([np.sin(2 * t), np.cos(3 * t), 9.81 + 2 * np.sin(7 * t)])
    gyr = np.column_stack([150 * np.sin(5 * t), 40 * np.cos(t), rng.normal(0, 1, t.shape)])
    return Recording(t, acc, gyr, fs)


def test_scan_finds_both_sensors_with_sides(emu):
    from bumble.link import LocalLink

    from imu.ble import find_sensor, scan

    async def main():
        link = LocalLink()
        backend = emu.emulator_backend(link)
        async with (
            emu.VirtualSensor(link, recording(2), side="left") as left,
            emu.VirtualSensor(link, recording(2), side="right") as right,
        ):
            found = await scan(0.3, backend=backend)
            by_side = await find_sensor(side="right", timeout_s=2, backend=backend)
            by_name = await find_sensor(left.name, timeout_s=2, backend=backend)
            by_address = await find_sensor(right.address_str.lower(), timeout_s=2, backend=backend)
            missing = await find_sensor("ANKL-L00", timeout_s=0.2, backend=backend)
            return left, right, found, by_side, by_name, by_address, missing

    left, right, found, by_side, by_name, by_address, missing = run(emu, main())
    assert [(f.name, f.side) for f in found] == [(left.name, "left"), (right.name, "right")]
    assert by_side.address == right.address_str
    assert by_name.address == left.address_str
    assert by_address.name == right.name
    assert missing is None


def test_client_configures_streams_and_logs(emu, tmp_path):
    from bumble.link import LocalLink

    from imu.ble import SensorClient, SensorCommandError, SensorNotFoundError
    from imu.rawlog import KIND_CONTROL, KIND_STATUS, RawLogWriter, read_rawlog

    async def main():
        link = LocalLink()
        backend = emu.emulator_backend(link)
        async with emu.VirtualSensor(link, recording(), side=None) as sensor:
            with pytest.raises(SensorNotFoundError):
                await SensorClient(side="left", backend=backend, scan_timeout_s=0.2).connect()
            with RawLogWriter(tmp_path / "s.rawlog") as log:
                client = SensorClient(sensor.name, backend=backend, rawlog=log)
                async with client:
                    assert client.mtu_size >= 247 and client.address == sensor.address_str
                    out = await client.configure(rate_hz=500, acc_range_g=8, side="right")
                    assert out["SET_RATE"].rate_hz == 500 and out["SET_SIDE"].side == 2
                    status = await client.read_status()
                    assert (status.rate_hz, status.acc_range_g, status.side) == (500, 8, 2)
                    assert await client.read_battery() == 87
                    assert await client.read_firmware() == "1.0.0"
                    start = await client.start()
                    assert (start.samples_per_packet, start.period_ns) == (18, 2_000_000)
                    with pytest.raises(SensorCommandError, match="NOT_ALLOWED_WHILE_STREAMING"):
                        await client.configure(rate_hz=1000)
                    sync = await client.time_sync()
                    assert 0 <= sync.round_trip_s < 0.1
                    assert sensor.sensor_ns(sync.host_send_s) // 1000 <= sync.sensor_t_us
                    assert sync.sensor_t_us <= sensor.sensor_ns(sync.host_receive_s) // 1000
                    await asyncio.sleep(1.0)
                    await client.identify(2)
                # close() sent STOP
                assert not sensor.streaming and not client.is_connected
                return sensor, client

    sensor, client = run(emu, main())
    log = read_rawlog(tmp_path / "s.rawlog")
    packets, _ = log.data()
    assert len(packets) == client.notifications == sensor.stats.notifications_sent
    assert log.count(KIND_CONTROL) == sensor.stats.commands  # every response logged
    assert log.count(KIND_STATUS) >= 3  # the read and the notifications on changes
    assert log.meta["address"] == sensor.address_str
    assert log.meta["sensor"] == client.name == "ANKL-U" + sensor.name[-2:]  # before SET_SIDE
    stream = P.assemble(packets, np.arange(len(packets), dtype=float))
    assert stream.stats.packets_lost == 0 and len(stream) == sensor.stats.samples_formed
    assert stream.fs_hz == pytest.approx(500)


def test_reconnects_within_2_s_of_advertising_and_marks_the_gap(emu, tmp_path):
    """The sensor drops the link mid-set and advertises again 0.7 s later: the client
    reconnects as soon as it sees it, resubscribes and STARTs; the log marks the gap and
    keeps everything that arrived; the sensor's ring buffer fills the gap."""
    from bumble.link import LocalLink

    from imu.ble import SensorClient
    from imu.rawlog import (
        KIND_DISCONNECT,
        KIND_RECONNECT,
        RawLogWriter,
        rawlog_to_recording,
        read_rawlog,
    )

    faults = emu.Faults(disconnect_after_s=1.0, readvertise_after_s=0.7)
    path = tmp_path / "drop.rawlog"

    async def main():
        link = LocalLink()
        backend = emu.emulator_backend(link)
        events = []
        async with emu.VirtualSensor(link, recording(), side="left", faults=faults) as sensor:
            with RawLogWriter(path, {"side": "left"}) as log:
                client = SensorClient(
                    side="left", backend=backend, rawlog=log, on_event=events.append
                )
                await client.connect()
                await client.start()
                t0 = time.monotonic()
                while client.reconnects == 0 and time.monotonic() - t0 < 6:
                    await asyncio.sleep(0.05)
                await asyncio.sleep(1.0)
                await client.close()
        return sensor, client, events

    sensor, client, events = run(emu, main())
    assert [e.kind for e in events] == ["connect", "disconnect", "reconnect"]
    assert sensor.stats.sensor_disconnects == 1
    readvertised = sensor.advertising_started_at[1]  # [0]: power-on, [2]: after close()
    reconnected = events[2].host_s
    assert 0 <= reconnected - readvertised < 2.0
    assert events[2].host_s - events[1].host_s >= 0.7  # the sensor was away that long
    log = read_rawlog(path)
    assert log.count(KIND_DISCONNECT) == 1 and log.count(KIND_RECONNECT) == 1
    packets, _ = log.data()
    assert len(packets) == client.notifications
    rec, summary = rawlog_to_recording(path)
    in_flight = sensor.stats.notifications_sent - len(packets)  # queued when the link dropped
    assert 0 <= in_flight <= 2
    assert summary.packets_lost == in_flight and len(summary.gaps) == (1 if in_flight else 0)
    assert summary.disconnects == 1
    assert summary.samples == int(P.decode_packets(packets).count.sum())
    assert rec.meta["side"] == "left"


def test_two_sensors_one_joining_late_minute_session(emu):
    """Left from the start, right powered on 5 s later while its client waits; a minute
    at 1 kHz each with ±100 ppm clocks and 2-12 ms link latency, on a virtual clock: zero
    samples lost on both, drifts recovered."""
    from bumble.link import LocalLink

    from imu.ble import SensorClient

    async def main():
        loop = asyncio.get_running_loop()
        link = LocalLink()
        backend = emu.emulator_backend(link)
        kw = {"latency_ms": (2, 12)}
        left = emu.VirtualSensor(link, recording(), side="left", drift_ppm=100, **kw)
        right = emu.VirtualSensor(link, recording(seed=1), side="right", drift_ppm=-100, **kw)
        got: dict[str, list] = {"left": [], "right": []}
        clients = {
            side: SensorClient(
                side=side,
                backend=backend,
                scan_timeout_s=20,
                clock=loop.time,
                on_data=lambda d, t, side=side: got[side].append((d, t)),
            )
            for side in got
        }

        async def record(side: str) -> None:
            await clients[side].connect()
            await clients[side].start()

        await left.start()
        tasks = [asyncio.create_task(record("left")), asyncio.create_task(record("right"))]
        await asyncio.sleep(5.0)
        assert not clients["right"].is_connected
        await right.start()
        await asyncio.gather(*tasks)
        t_right = loop.time()
        await asyncio.sleep(60.0 - 5.0)
        for c in clients.values():
            await c.close()
        await left.close()
        await right.close()
        return got, {"left": left, "right": right}, clients, t_right

    got, sensors, clients, t_right = run(emu, main(), virtual=True)
    for side, drift in (("left", 100.0), ("right", -100.0)):
        packets = [d for d, _ in got[side]]
        stream = P.assemble(packets, np.array([t for _, t in got[side]]))
        assert stream.stats.packets_lost == 0 and stream.gaps == ()
        assert len(stream) == sensors[side].stats.samples_formed
        assert stream.clock.sensor_drift_ppm == pytest.approx(drift, abs=2.0)
        assert clients[side].events[0].kind == "connect" and len(clients[side].events) == 1
    assert len(got["left"]) > 60 * 55 - 5  # a minute at 55.6 packets/s
    assert clients["right"].events[0].host_s == pytest.approx(5.0, abs=0.1)  # at once
    assert 54 * 55 < len(got["right"]) < 55 * 56


def test_connects_within_two_intervals_in_slow_advertising(emu):
    """After 30 s without a connection the sensor advertises every second (§2): a recorder
    started then sees it at the next advertisement and connects at the one after (the
    controller initiates on an advertising event), so within about 2 s (virtual clock)."""
    from bumble.link import LocalLink

    from imu.ble import SensorClient

    async def main():
        loop = asyncio.get_running_loop()
        link = LocalLink()
        backend = emu.emulator_backend(link)
        async with emu.VirtualSensor(link, recording(2)):
            await asyncio.sleep(45.0)
            t0 = loop.time()
            client = SensorClient(backend=backend, clock=loop.time)
            await client.connect()
            dt = loop.time() - t0
            await client.close()
        return dt

    assert run(emu, main(), virtual=True) < 2.1
