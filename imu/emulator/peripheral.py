"""A virtual ankle-motion sensor on Google's bumble stack (``firmware_notes/protocol.md``).

:class:`VirtualSensor` is one shoe sensor: a bumble :class:`~bumble.controller.Controller`
attached to a :class:`~bumble.link.LocalLink` (the "air") and a bumble
:class:`~bumble.device.Device` (its host stack) that

* advertises per §2 (flags, the 128-bit service UUID, ``ANKL-<side><xx>``: exactly 31 bytes),
  every 20 ms for 30 s after power-on or a disconnection, then every second; never while
  connected;
* serves the GATT database of §3 (Data notify, Control write + notify, Status read + notify,
  Battery, Device Information);
* answers every control command (§7) with one response notification;
* streams packets built with :func:`imu.protocol.encode_packet` from a
  :class:`~imu.recording.Recording` (a replayed file or synthesized movement), paced by its
  own clock (``drift_ppm`` against the host's, optionally ``speed`` times faster than real
  time), batched per §4 (the most samples the agreed MTU allows, or 50 ms), numbered from
  power-on, kept in a ring buffer while the link is down and sent in order afterwards;
* injects faults: dropped, duplicated and reordered notifications, sensor-initiated
  disconnection followed by re-advertising after a delay.

Its own CPU time (packet forming, command handling, notification calls) is in
``stats.cpu_s``; :class:`EmulatorServer` reports the whole process's.

:class:`EmulatorServer` puts sensors on a link and serves a fresh virtual controller to every
TCP client on 127.0.0.1 (HCI packets, H4 framing), so that a bumble host in another process
(``imu.emulator.backend``, ``ANKLE_BLE_EMULATOR=tcp:127.0.0.1:PORT``) sees them as if over
the air. :func:`serve` runs one from options (``python -m imu.emulator``, ``ankle emulate``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import math
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from bumble import hci, ll
from bumble.controller import Controller
from bumble.core import UUID
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink, PacketParser

from imu import protocol as P
from imu.recording import Recording

logger = logging.getLogger(__name__)
# bumble logs through "bumble.*" and warns about benign things (e.g. ACL data queued for a
# connection that just ended): keep them out of stderr unless the application configures
# logging.
logging.getLogger("bumble").addHandler(logging.NullHandler())

#: LE ACL buffer length the emulated controllers announce (with data length extension),
#: so a 247-byte ATT PDU goes through HCI in one packet.
ACL_PACKET_LENGTH = 251
#: ATT MTU the emulated sensor offers (§6).
SENSOR_MAX_MTU = 247
FAST_ADVERTISING_MS = 20.0
FAST_ADVERTISING_S = 30.0
SLOW_ADVERTISING_MS = 1000.0
STATUS_INTERVAL_S = 10.0
MAX_BATCH_AGE_NS = 50_000_000  # §4: send a packet when its oldest sample is 50 ms old
FIRMWARE = (1, 0, 0)
#: ICM-42688-P gyroscope sensitivity, LSB per deg/s, by range (datasheet): what §4 says to send.
GYR_LSB_PER_DPS = {125: 262.0, 250: 131.0, 500: 65.5, 1000: 32.8, 2000: 16.4}

_STATE_CHANGING = frozenset((P.OP_START, P.OP_STOP, P.OP_SET_RATE, P.OP_SET_RANGES, P.OP_SET_SIDE))
_address_counter = itertools.count()


class EmulatedController(Controller):
    """bumble's virtual controller, with large ACL buffers and a working connection cancel.

    bumble's controller answers LE Create Connection Cancel but leaves the connection
    pending, so a host that gives up connecting (timeout) waits for ever and later
    connects by surprise. Per the Core spec (Vol 4, Part E, 7.8.13) the cancel ends the
    attempt with an LE Connection Complete event, status Unknown Connection Identifier.
    """

    le_acl_data_packet_length = ACL_PACKET_LENGTH

    def on_hci_le_create_connection_cancel_command(self, command):
        pending, self.pending_le_connection = self.pending_le_connection, None
        if pending is None:
            return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.COMMAND_DISALLOWED_ERROR)
        asyncio.get_running_loop().call_soon(
            self.send_hci_packet,
            hci.HCI_LE_Connection_Complete_Event(
                status=hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR,
                connection_handle=0,
                role=hci.Role.CENTRAL,
                peer_address_type=pending.peer_address.address_type,
                peer_address=pending.peer_address,
                connection_interval=0,
                peripheral_latency=0,
                supervision_timeout=0,
                central_clock_accuracy=0,
            ),
        )
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)


def _now() -> float:
    """The event loop's clock (``time.monotonic`` for asyncio's loops; virtual in some tests)."""
    return asyncio.get_running_loop().time()


def _default_address(side: str | None) -> str:
    """A random static address (two top bits set), distinct per sensor in this process."""
    k = next(_address_counter)
    last = (0x3F + 0x51 * k) & 0xFF
    mid = {"left": 0x01, "right": 0x02}.get(side or "", 0x00)
    return f"F4:A1:E0:{mid:02X}:{(k >> 8) & 0xFF:02X}:{last:02X}"


def advertising_data(name: str) -> bytes:
    """§2's advertising data: flags, the 128-bit service UUID, the 8-character name (31 bytes)."""
    name_bytes = name.encode("ascii")
    if len(name_bytes) != 8:
        raise ValueError(f"the advertised name must be 8 ASCII characters, got {name!r}")
    service = UUID(P.SERVICE_UUID).to_bytes(force_128=True)  # little-endian on air
    data = bytes([2, 0x01, 0x06]) + bytes([17, 0x07]) + service + bytes([9, 0x09]) + name_bytes
    assert len(data) == 31
    return data


@dataclass
class Faults:
    """What the virtual sensor does wrong on purpose.

    Attributes
    ----------
    drop, duplicate, reorder : float
        Probability per data packet that it is never sent (its ``seq`` is lost), sent twice
        in a row, or held back and sent after the next packet. Exclusive per packet.
    disconnect_after_s : float or None
        The sensor ends the connection this many (real) seconds after a START on it, then
        re-advertises after ``readvertise_after_s``.
    readvertise_after_s : float
        Delay before advertising again after a sensor-initiated disconnection, s.
    max_disconnects : int
        How many times ``disconnect_after_s`` applies.
    seed : int or None
        Seed of the fault draws.
    """

    drop: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    disconnect_after_s: float | None = None
    readvertise_after_s: float = 1.0
    max_disconnects: int = 1
    seed: int | None = 0

    def __post_init__(self) -> None:
        for name in ("drop", "duplicate", "reorder"):
            p = getattr(self, name)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be a probability, got {p}")
        if self.drop + self.duplicate + self.reorder > 1.0:
            raise ValueError("drop + duplicate + reorder must not exceed 1")


@dataclass
class SensorStats:
    """Counters of one virtual sensor (what was done to the stream, for the tests).

    ``dropped_seqs``: sequence numbers (u16) formed but never sent by fault injection;
    ``overflow_dropped``: packets pushed out of the full ring buffer while the link was down
    or busy; ``cpu_s``: CPU time of the sensor's own code (forming packets, handling
    commands, handing notifications to bumble), s.
    """

    packets_formed: int = 0
    samples_formed: int = 0
    notifications_sent: int = 0
    duplicated: int = 0
    reordered: int = 0
    dropped_seqs: list[int] = field(default_factory=list)
    overflow_dropped: int = 0
    connections: int = 0
    disconnects: int = 0
    sensor_disconnects: int = 0
    commands: int = 0
    cpu_s: float = 0.0

    @property
    def dropped(self) -> int:
        return len(self.dropped_seqs)


def _source_counts(
    rec: Recording, rate_hz: float, acc_scale: float, gyr_scale: float
) -> np.ndarray:
    """The recording as raw int16 counts at ``rate_hz`` (interpolated when rates differ)."""
    acc = np.asarray(rec.acc_mps2, dtype=np.float64)
    gyr = np.asarray(rec.gyr_dps, dtype=np.float64)
    fs = float(rec.fs_hz) if rec.fs_hz else rate_hz
    if abs(fs - rate_hz) > 1e-9 * rate_hz and len(rec) > 1:
        t = np.asarray(rec.t_s, dtype=np.float64) - float(rec.t_s[0])
        n = max(1, int(math.floor(t[-1] * rate_hz)) + 1)
        grid = np.arange(n) / rate_hz
        acc = np.column_stack([np.interp(grid, t, acc[:, k]) for k in range(3)])
        gyr = np.column_stack([np.interp(grid, t, gyr[:, k]) for k in range(3)])
    return np.hstack([P.quantize(acc, acc_scale), P.quantize(gyr, gyr_scale)])


class VirtualSensor:
    """One emulated shoe sensor on a bumble :class:`~bumble.link.LocalLink`.

    Parameters
    ----------
    link : LocalLink
        The shared "air" (in-process centrals, or :class:`EmulatorServer`'s TCP clients).
    source : Recording
        What the IMU measures, replayed from its first sample (looped unless
        ``loop_source`` is False; interpolated when SET_RATE picks another rate).
    side : {'left', 'right'} or None
        Stored side (SET_SIDE changes it); ``None`` advertises ``ANKL-U..``.
    address : str, optional
        Random static address, ``"F4:A1:E0:01:00:3F"`` style; the name ends in its last byte.
    rate_hz : int, optional
        Initial rate (default: the source's rate when it is 50..1000 Hz, else 1000).
    acc_range_g, gyr_range_dps : int
        Initial ranges (defaults ±16 g, ±2000 deg/s).
    drift_ppm : float
        How fast the sensor clock runs against the host's (+ = fast).
    speed : float
        Sensor time per host second (1 = real time; 5 streams five times faster).
    faults : Faults, optional
    ring_buffer_s : float
        Data kept while the link is down or busy, s of samples (§4: at least 2).
    stream_while_disconnected : bool
        Keep sampling into the ring buffer across a disconnection (sent, in order, after the
        host's next START); otherwise a disconnection stops streaming.
    loop_source : bool
        Start the source over when it ends (else the stream stops there).
    clock_start_us : int
        Sensor clock at power-on, µs.
    battery_pct : int
    latency_ms : (float, float), optional
        Link latency model: each packet leaves a random time, uniform in this range, after
        its last sample was taken (connection events, retransmissions), never before the
        one formed earlier. None (default): as soon as it is formed.
    """

    def __init__(
        self,
        link: LocalLink,
        source: Recording,
        *,
        side: str | None = "left",
        address: str | None = None,
        rate_hz: int | None = None,
        acc_range_g: int = 16,
        gyr_range_dps: int = 2000,
        drift_ppm: float = 0.0,
        speed: float = 1.0,
        faults: Faults | None = None,
        ring_buffer_s: float = 4.0,
        stream_while_disconnected: bool = True,
        loop_source: bool = True,
        clock_start_us: int = 0,
        battery_pct: int = 87,
        latency_ms: tuple[float, float] | None = None,
    ) -> None:
        if len(source) == 0:
            raise ValueError("the source recording is empty")
        if side not in (None, "left", "right"):
            raise ValueError(f"side must be 'left', 'right' or None, got {side!r}")
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.link = link
        self.source = source
        self.side_code = {"left": P.SIDE_LEFT, "right": P.SIDE_RIGHT}.get(side or "", P.SIDE_UNSET)
        self.address = hci.Address(address or _default_address(side))
        if not self.address.is_static:
            raise ValueError(f"{self.address} is not a random static address (top bits 11)")
        if rate_hz is None:
            fs = float(source.fs_hz)
            rate_hz = round(fs) if P.RATE_MIN_HZ <= fs <= P.RATE_MAX_HZ else P.RATE_MAX_HZ
        self.rate_hz = int(rate_hz)
        self.period_ns = round(1e9 / self.rate_hz)
        self.acc_range_g = int(acc_range_g)
        self.gyr_range_dps = int(gyr_range_dps)
        self.drift_ppm = float(drift_ppm)
        self.speed = float(speed)
        self.faults = faults or Faults()
        self.ring_buffer_s = float(ring_buffer_s)
        self.stream_while_disconnected = stream_while_disconnected
        self.loop_source = loop_source
        self.clock_start_us = int(clock_start_us)
        self.battery_pct = int(battery_pct)
        if latency_ms is not None and not 0 <= latency_ms[0] <= latency_ms[1]:
            raise ValueError(
                f"latency_ms must be (min, max) with 0 <= min <= max, got {latency_ms}"
            )
        self.latency_s = (
            None if latency_ms is None else (latency_ms[0] * 1e-3, latency_ms[1] * 1e-3)
        )
        self._latency_rng = random.Random(
            None if self.faults.seed is None else self.faults.seed + 1
        )
        self._last_ready = 0.0
        self.stats = SensorStats()
        #: Host monotonic times at which advertising (re)started.
        self.advertising_started_at: list[float] = []

        self._rng = random.Random(self.faults.seed)
        self._controller: Controller | None = None
        self.device: Device | None = None
        self._connection: Connection | None = None
        self._boot_mono = 0.0
        self._rate = self.speed * (1.0 + self.drift_ppm * 1e-6) * 1e9  # sensor ns per host s
        self._seq = 0
        self._streaming = False
        self._start_flag = False
        self._link_ready = False  # START received on this connection and data subscribed
        self._data_subscribed = False
        self._att_mtu = P.ATT_NOTIFY_OVERHEAD + 20  # ATT default 23 until exchanged
        self._n_batch = 1
        self._stream_t0_ns = 0
        self._j = 0  # next sample index of the current stream
        self._src0 = 0  # source row of sample 0 of the current stream
        self._src_next = 0  # source row the next stream starts at
        self._src_cache: tuple[tuple[int, float, float], np.ndarray] | None = None
        self._ring: deque[tuple[int, bytes, float]] = deque()  # seq, packet, ready at
        self._ring_cap = 1
        self._held: tuple[int, bytes, float] | None = None
        self._overflow_since_status = False
        self._readvertise_delay = 0.0
        self._disconnects_left = self.faults.max_disconnects
        self._disconnect_timer: asyncio.TimerHandle | None = None
        self._readvertise_timer: asyncio.TimerHandle | None = None
        self._slow_timer: asyncio.TimerHandle | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._flush_lock = asyncio.Lock()
        self._pump_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task] = set()
        self._last_status_mono = 0.0
        self._closed = False

    # -- identity ---------------------------------------------------------------------------

    @property
    def side(self) -> str | None:
        return P.SIDE_NAMES[self.side_code]

    @property
    def name(self) -> str:
        letter = {P.SIDE_LEFT: "L", P.SIDE_RIGHT: "R"}.get(self.side_code, "U")
        return f"{P.NAME_PREFIX}{letter}{self.address.address_bytes[0]:02X}"

    @property
    def address_str(self) -> str:
        return self.address.to_string(with_type_qualifier=False)

    @property
    def advertising_data(self) -> bytes:
        return advertising_data(self.name)

    @property
    def acc_scale(self) -> float:
        return P.acc_scale_for_range(self.acc_range_g)

    @property
    def gyr_scale(self) -> float:
        return 1.0 / GYR_LSB_PER_DPS[self.gyr_range_dps]

    @property
    def connected(self) -> bool:
        return self._connection is not None

    @property
    def streaming(self) -> bool:
        return self._streaming

    # -- clock ------------------------------------------------------------------------------

    def sensor_ns(self, host_mono: float | None = None) -> int:
        """The sensor clock (ns since power-on plus ``clock_start_us``) at a host time."""
        h = _now() if host_mono is None else host_mono
        return self.clock_start_us * 1000 + int((h - self._boot_mono) * self._rate)

    def host_mono_at(self, sensor_ns: int) -> float:
        """The host monotonic time at which the sensor clock reads ``sensor_ns``."""
        return self._boot_mono + (sensor_ns - self.clock_start_us * 1000) / self._rate

    # -- life cycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Power on: attach to the link, build the GATT database, advertise, run the pump."""
        if self.device is not None:
            return
        self._boot_mono = _now()
        ctrl = EmulatedController(f"sensor-{self.name}", link=self.link)
        self._controller = ctrl
        dev = Device(name=self.name, address=self.address, host=Host(ctrl, AsyncPipeSink(ctrl)))
        dev.gatt_server.max_mtu = SENSOR_MAX_MTU
        self._build_gatt(dev)
        dev.on(dev.EVENT_CONNECTION, self._on_connection)
        self.device = dev
        await dev.power_on()
        self._pump_task = asyncio.create_task(self._pump(), name=f"pump-{self.name}")
        await self._advertise()

    async def close(self) -> None:
        """Power off: stop streaming, drop the connection, leave the link."""
        if self._closed:
            return
        self._closed = True
        self._streaming = False
        if self._disconnect_timer is not None:
            self._disconnect_timer.cancel()
        if self._pump_task is not None:
            self._pump_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._pump_task
        for timer in (self._readvertise_timer, self._slow_timer):
            if timer is not None:
                timer.cancel()
        if self._tasks:  # let bumble commands in flight finish (cancelling them confuses its host)
            await asyncio.wait(list(self._tasks), timeout=2.0)
        if self.device is not None:
            with contextlib.suppress(Exception):
                await self.device.stop_advertising()
            if self._connection is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._connection.disconnect(), 1.0)
        if self._controller is not None and self._controller in self.link.controllers:
            self.link.remove_controller(self._controller)

    async def __aenter__(self) -> VirtualSensor:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _advertise(self, slow: bool = False) -> None:
        """§2: fast (20 ms) for 30 s after power-on or a disconnection, then about 1 s."""
        if self._closed or self.device is None or self._connection is not None:
            return
        interval = SLOW_ADVERTISING_MS if slow else FAST_ADVERTISING_MS
        await self.device.start_advertising(
            advertising_data=self.advertising_data,
            scan_response_data=b"",
            advertising_interval_min=interval,
            advertising_interval_max=interval + 10,
        )
        if slow:
            return
        self.advertising_started_at.append(_now())
        if self._slow_timer is not None:
            self._slow_timer.cancel()
        self._slow_timer = asyncio.get_running_loop().call_later(
            FAST_ADVERTISING_S,
            lambda: self._closed or self._connection or self._spawn(self._advertise(slow=True)),
        )

    async def drop_link(self, readvertise_after_s: float | None = None) -> None:
        """Sensor-initiated disconnection; advertise again after ``readvertise_after_s``."""
        conn = self._connection
        if conn is None:
            return
        self._readvertise_delay = (
            self.faults.readvertise_after_s if readvertise_after_s is None else readvertise_after_s
        )
        self.stats.sensor_disconnects += 1
        with contextlib.suppress(Exception):
            await conn.disconnect(hci.HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR)

    # -- GATT -------------------------------------------------------------------------------

    def _build_gatt(self, dev: Device) -> None:
        props = Characteristic.Properties
        readable, writeable = Characteristic.READABLE, Characteristic.WRITEABLE
        self._data_char = Characteristic(P.DATA_CHAR_UUID, props.NOTIFY, readable, b"")
        self._control_char = Characteristic(
            P.CONTROL_CHAR_UUID,
            props.WRITE | props.NOTIFY,
            readable | writeable,
            CharacteristicValue(read=lambda _c: b"", write=self._on_control_write),
        )
        self._status_char = Characteristic(
            P.STATUS_CHAR_UUID,
            props.READ | props.NOTIFY,
            readable,
            CharacteristicValue(read=lambda _c: self._status_bytes()),
        )
        self._battery_char = Characteristic(
            P.BATTERY_LEVEL_CHAR_UUID,
            props.READ | props.NOTIFY,
            readable,
            CharacteristicValue(read=lambda _c: bytes([self.battery_pct])),
        )
        self._data_char.on(Characteristic.EVENT_SUBSCRIPTION, self._on_data_subscription)
        fw = ".".join(map(str, FIRMWARE))
        dev.add_services(
            [
                Service(P.SERVICE_UUID, [self._data_char, self._control_char, self._status_char]),
                Service(P.BATTERY_SERVICE_UUID, [self._battery_char]),
                Service(
                    P.DEVICE_INFO_SERVICE_UUID,
                    [
                        Characteristic(
                            P.FIRMWARE_REVISION_CHAR_UUID, props.READ, readable, fw.encode()
                        ),
                        Characteristic("2A24", props.READ, readable, b"ankle-motion emulator"),
                        Characteristic("2A29", props.READ, readable, b"ankle-motion"),
                    ],
                ),
            ]
        )

    def _status(self) -> P.SensorStatus:
        return P.SensorStatus(
            state=P.STATE_STREAMING if self._streaming else P.STATE_IDLE,
            side=self.side_code,
            battery_pct=self.battery_pct,
            battery_mv=3600 + 6 * self.battery_pct,
            rate_hz=self.rate_hz,
            period_ns=self.period_ns,
            acc_scale_mps2=self.acc_scale,
            gyr_scale_dps=self.gyr_scale,
            acc_range_g=self.acc_range_g,
            imu_part=0,
            gyr_range_dps=self.gyr_range_dps,
            sensor_t_us=self.sensor_ns() // 1000,
            next_seq=self._seq & 0xFFFF,
            att_mtu=self._att_mtu,
            firmware=FIRMWARE,
            errors=P.STATUS_ERR_OVERFLOW if self._overflow_since_status else 0,
        )

    def _status_bytes(self) -> bytes:
        value = P.encode_status(self._status())
        self._overflow_since_status = False
        return value

    async def _notify(self, char: Characteristic, value: bytes) -> bool:
        conn = self._connection
        if conn is None or self.device is None:
            return False
        try:
            await self.device.notify_subscriber(conn, char, value)
        except Exception:  # the link went away under us
            logger.debug("notification failed", exc_info=True)
            return False
        return True

    async def _notify_status(self) -> None:
        self._last_status_mono = _now()
        if self._att_mtu >= P.STATUS_SIZE + P.ATT_NOTIFY_OVERHEAD:
            await self._notify(self._status_char, self._status_bytes())

    # -- connection events ------------------------------------------------------------------

    def _on_connection(self, connection: Connection) -> None:
        if connection.role != hci.Role.PERIPHERAL:
            return
        self._connection = connection
        if self._slow_timer is not None:
            self._slow_timer.cancel()
            self._slow_timer = None
        self._att_mtu = connection.att_mtu
        self._link_ready = False
        self._data_subscribed = False
        self.stats.connections += 1
        connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)
        connection.on(connection.EVENT_CONNECTION_ATT_MTU_UPDATE, self._on_mtu)

    def _on_mtu(self) -> None:
        if self._connection is not None:
            self._att_mtu = self._connection.att_mtu

    def _on_data_subscription(self, _bearer, notify_enabled: bool, _indicate: bool) -> None:
        self._data_subscribed = bool(notify_enabled)
        if not notify_enabled:
            self._link_ready = False

    def _on_disconnection(self, reason: int) -> None:
        self._connection = None
        self._link_ready = False
        self._data_subscribed = False
        self.stats.disconnects += 1
        if self._disconnect_timer is not None:
            self._disconnect_timer.cancel()
            self._disconnect_timer = None
        if self._held is not None:  # it never left: back to the front, in order
            self._ring.appendleft(self._held)
            self._held = None
            self.stats.reordered -= 1
        if not self.stream_while_disconnected and self._streaming:
            self._stop_stream(flush=False)
        delay, self._readvertise_delay = self._readvertise_delay, 0.0
        if not self._closed:
            self._readvertise_timer = asyncio.get_running_loop().call_later(
                delay, lambda: self._closed or self._spawn(self._advertise())
            )

    # -- control ----------------------------------------------------------------------------

    def _on_control_write(self, _connection, value: bytes) -> None:
        t_ns = self.sensor_ns()  # TIME_SYNC: the clock as early as possible
        c0 = time.thread_time()
        self.stats.commands += 1
        try:
            cmd = P.decode_command(value)
        except P.ProtocolError as err:
            opcode = value[0] if value else 0
            response = P.encode_response(opcode, err.result)
        else:
            response = self._execute(cmd, t_ns)
        self.stats.cpu_s += time.thread_time() - c0
        changes_state = bool(value) and value[0] in _STATE_CHANGING
        stopping = bool(value) and value[0] == P.OP_STOP
        # After the ATT write response, which bumble sends when this handler returns.
        self._spawn(self._respond(response, changes_state, stopping))

    async def _respond(self, response: bytes, changes_state: bool, stopping: bool) -> None:
        while stopping and self._ring and self._link_ready:  # the last samples before STOP's answer
            await asyncio.sleep(max(0.0, self._ring[0][2] - _now()))
            await self._flush(_now() + 1e-6)
        await self._notify(self._control_char, response)
        if changes_state:
            await self._notify_status()
        self._kick()  # the pump sends what START released

    def _execute(self, cmd: P.ControlCommand, t_ns: int) -> bytes:
        op = cmd.opcode
        if op == P.OP_START:
            if self._att_mtu < P.HEADER_SIZE + P.SAMPLE_SIZE + P.ATT_NOTIFY_OVERHEAD:
                return P.encode_response(op, P.RESULT_MTU_TOO_SMALL)
            if not self._streaming:
                self._start_stream(t_ns)
            self._link_ready = self._data_subscribed
            self._arm_disconnect_fault()
            return P.encode_response(
                op,
                samples_per_packet=self._n_batch,
                period_ns=self.period_ns,
                att_mtu=self._att_mtu,
            )
        if op == P.OP_STOP:
            if self._streaming:
                self._stop_stream(flush=True)
            return P.encode_response(op)
        if op == P.OP_SET_RATE:
            if self._streaming:
                return P.encode_response(op, P.RESULT_NOT_ALLOWED_WHILE_STREAMING)
            self.rate_hz = int(cmd.rate_hz)
            self.period_ns = round(1e9 / self.rate_hz)
            return P.encode_response(op, rate_hz=self.rate_hz, period_ns=self.period_ns)
        if op == P.OP_SET_RANGES:
            if self._streaming:
                return P.encode_response(op, P.RESULT_NOT_ALLOWED_WHILE_STREAMING)
            self.acc_range_g, self.gyr_range_dps = int(cmd.acc_range_g), int(cmd.gyr_range_dps)
            return P.encode_response(
                op,
                acc_range_g=self.acc_range_g,
                gyr_range_dps=self.gyr_range_dps,
                acc_scale_mps2=self.acc_scale,
                gyr_scale_dps=self.gyr_scale,
            )
        if op == P.OP_TIME_SYNC:
            return P.encode_response(
                op, token=cmd.token, host_time_us=cmd.host_time_us, sensor_t_us=t_ns // 1000
            )
        if op == P.OP_IDENTIFY:
            logger.info("%s: identify for %d s", self.name, cmd.seconds)
            return P.encode_response(op)
        if op == P.OP_SET_SIDE:
            self.side_code = int(cmd.side)
            return P.encode_response(op, side=self.side_code)
        return P.encode_response(op, P.RESULT_UNKNOWN_OPCODE)  # pragma: no cover

    def _arm_disconnect_fault(self) -> None:
        f = self.faults
        if f.disconnect_after_s is None or self._disconnects_left <= 0:
            return
        if self._disconnect_timer is not None:
            return
        self._disconnects_left -= 1
        self._disconnect_timer = asyncio.get_running_loop().call_later(
            f.disconnect_after_s, lambda: self._spawn(self.drop_link(f.readvertise_after_s))
        )

    # -- streaming --------------------------------------------------------------------------

    def _counts(self) -> np.ndarray:
        key = (self.rate_hz, self.acc_scale, self.gyr_scale)
        if self._src_cache is None or self._src_cache[0] != key:
            self._src_cache = (key, _source_counts(self.source, *key))
        return self._src_cache[1]

    def _start_stream(self, t_ns: int) -> None:
        self._counts()
        n_mtu = P.samples_per_packet(self._att_mtu)
        n_age = MAX_BATCH_AGE_NS // self.period_ns + 1
        self._n_batch = int(max(1, min(n_mtu, n_age)))
        self._stream_t0_ns = t_ns
        self._j = 0
        self._src0 = self._src_next
        self._start_flag = True
        self._streaming = True
        self._ring_cap = max(1, math.ceil(self.ring_buffer_s * self.rate_hz / self._n_batch))
        self._kick()

    def _stop_stream(self, flush: bool) -> None:
        if flush:  # the last, partial batch: samples taken up to now
            now = self.sensor_ns()
            m = (now - self._stream_t0_ns) // self.period_ns + 1 - self._j
            if m > 0:
                self._form(min(int(m), self._n_batch))
        self._streaming = False
        self._src_next = self._src0 + self._j
        self._kick()

    def _form(self, n: int) -> bool:
        """Form one packet of ``n`` samples into the ring; False when the source ended."""
        counts = self._counts()
        total = counts.shape[0]
        a = self._src0 + self._j
        if not self.loop_source:
            if a >= total:
                return False
            n = min(n, total - a)
        a %= total
        raw = counts[a : a + n] if a + n <= total else counts[np.arange(a, a + n) % total]
        t_ns = self._stream_t0_ns + self._j * self.period_ns
        flags = self.side_code
        if self._start_flag:
            flags |= P.FLAG_START
            self._start_flag = False
        packet = P.encode_packet(
            self._seq,
            (t_ns + 500) // 1000,
            raw,
            period_ns=self.period_ns,
            acc_scale_mps2=self.acc_scale,
            gyr_scale_dps=self.gyr_scale,
            flags=flags,
        )
        ready = 0.0
        if self.latency_s is not None:
            taken = self.host_mono_at(t_ns + (n - 1) * self.period_ns)
            ready = max(self._last_ready, taken + self._latency_rng.uniform(*self.latency_s))
            self._last_ready = ready
        self._ring.append((self._seq & 0xFFFF, packet, ready))
        if len(self._ring) > self._ring_cap:  # §4: drop the oldest whole packets
            self._ring.popleft()
            self.stats.overflow_dropped += 1
            self._overflow_since_status = True
        self._seq += 1
        self._j += n
        self.stats.packets_formed += 1
        self.stats.samples_formed += n
        return True

    def _form_due(self, now_ns: int) -> None:
        n = self._n_batch
        while self._streaming:
            t_last = self._stream_t0_ns + (self._j + n - 1) * self.period_ns
            if t_last > now_ns + 1000:  # (1 µs: the wake-up time is rounded)
                return
            if not self._form(n):
                self._stop_stream(flush=False)
                self._spawn(self._notify_status())
                return

    def _next_due_mono(self) -> float:
        t_last = self._stream_t0_ns + (self._j + self._n_batch - 1) * self.period_ns
        return self.host_mono_at(t_last)

    async def _flush(self, now: float) -> None:
        """Send what the ring holds and is due, in order, applying the injected faults."""
        async with self._flush_lock:
            await self._flush_locked(now)

    async def _flush_locked(self, now: float) -> None:
        f = self.faults
        while self._ring and self._link_ready and self._connection is not None:
            if self._ring[0][2] > now:
                return
            item = self._ring.popleft()
            u = self._rng.random() if (f.drop or f.duplicate or f.reorder) else 1.0
            if u < f.drop:
                self.stats.dropped_seqs.append(item[0])
                continue
            if self._held is not None:
                held, self._held = self._held, None
                if not await self._send(item[1]):
                    self._ring.appendleft(item)
                    self._ring.appendleft(held)
                    self.stats.reordered -= 1
                    return
                await self._send(held[1])
                continue
            if u < f.drop + f.duplicate:
                if await self._send(item[1]):
                    await self._send(item[1])
                    self.stats.duplicated += 1
                    continue
            elif u < f.drop + f.duplicate + f.reorder:
                self._held = item
                self.stats.reordered += 1
                continue
            elif await self._send(item[1]):
                continue
            self._ring.appendleft(item)
            return
        if self._held is not None and not self._streaming and self._link_ready and not self._ring:
            # Nothing will follow it: send it now (it arrives in order after all).
            held, self._held = self._held, None
            self.stats.reordered -= 1
            await self._send(held[1])

    async def _send(self, packet: bytes) -> bool:
        ok = await self._notify(self._data_char, packet)
        if ok:
            self.stats.notifications_sent += 1
        return ok

    def _kick(self) -> None:
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    async def _wait(self, timeout: float | None) -> None:
        loop = asyncio.get_running_loop()
        self._waiter = w = loop.create_future()
        handle = None
        if timeout is not None:
            handle = loop.call_later(max(0.0, timeout), lambda: w.done() or w.set_result(None))
        try:
            await w
        finally:
            if handle is not None:
                handle.cancel()
            self._waiter = None

    async def _pump(self) -> None:
        """Form packets as the sensor clock reaches them; send when the link allows."""
        self._last_status_mono = _now()
        while not self._closed:
            c0 = time.thread_time()
            now = _now()
            if self._streaming:
                self._form_due(self.sensor_ns(now))
            wake = self._last_status_mono + STATUS_INTERVAL_S
            if self._ring and self._link_ready:
                await self._flush(now + 1e-6)
                if self._ring and self._link_ready:
                    wake = min(wake, self._ring[0][2])
            if now - self._last_status_mono >= STATUS_INTERVAL_S - 1e-6:  # §8: every 10 s
                if self._connection is not None:
                    await self._notify_status()
                self._last_status_mono = now
            if self._streaming:
                wake = min(wake, self._next_due_mono())
            self.stats.cpu_s += time.thread_time() - c0
            await self._wait(wake - _now())


# ---------------------------------------------------------------------------------------------
# Faster than real time: an event loop whose clock skips idle time
# ---------------------------------------------------------------------------------------------


class _SkippingSelector:
    """Wraps the loop's selector: instead of sleeping until the next timer, move the clock."""

    def __init__(self, selector, loop: VirtualTimeEventLoop) -> None:
        self._selector = selector
        self._loop = loop

    def select(self, timeout: float | None = None):
        if timeout is None:  # nothing scheduled: only real I/O (or another thread) can wake us
            return self._selector.select(None)
        ready = self._selector.select(0)
        if not ready and timeout > 0:
            now = self._loop._virtual_now  # always move forward, even by less than one ulp
            self._loop._virtual_now = max(now + timeout, math.nextafter(now, math.inf))
        return ready

    def __getattr__(self, name: str):
        return getattr(self._selector, name)


class VirtualTimeEventLoop(asyncio.SelectorEventLoop):
    """An asyncio loop on a virtual clock that jumps over idle time.

    Sensors, bumble's link, bleak's timeouts and :class:`~imu.ble.SensorClient` (given
    ``clock=loop.time``) all run on ``loop.time()``, so a session of minutes takes only the
    CPU time it needs, with exact timing: no scheduler jitter (in-process links only, no
    sockets).
    """

    def __init__(self, start_s: float = 0.0) -> None:
        super().__init__()
        self._virtual_now = float(start_s)
        self._selector = _SkippingSelector(self._selector, self)

    def time(self) -> float:
        return self._virtual_now


def run_in_virtual_time(coro):
    """Like :func:`asyncio.run`, on a :class:`VirtualTimeEventLoop`."""
    loop = VirtualTimeEventLoop()
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(coro)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


# ---------------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------------

EXERCISES = ("heel-raise", "pogo")


def synthesized_recording(
    exercise: str = "heel-raise", side: str = "left", rate_hz: float = 1000.0, seed: int = 0
) -> Recording:
    """Synthesized movement (``imu.synth``) to stream: a heel-raise or a pogo session."""
    if exercise == "heel-raise":
        from imu.synth.scenarios import heel_raise_session

        rec, _ = heel_raise_session(seed, fs_hz=rate_hz, side=side)
    elif exercise == "pogo":
        from imu.synth.hops import pogo_session

        rec, _ = pogo_session(seed, fs_hz=rate_hz, side=side)
    else:
        raise ValueError(f"exercise must be one of {EXERCISES}, got {exercise!r}")
    return rec


# ---------------------------------------------------------------------------------------------
# HCI over TCP: one virtual controller per client on the sensors' link
# ---------------------------------------------------------------------------------------------


class _TcpHciClient(asyncio.Protocol):
    """One TCP client = one central's controller on the link (H4-framed HCI both ways)."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.controller: Controller | None = None
        self.transport: asyncio.Transport | None = None
        self.parser: PacketParser | None = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.transport = transport
        n = next(self.server._client_ids)
        ctrl = EmulatedController(f"central-{n}", host_sink=self, link=self.server.link)
        self.controller = ctrl
        self.parser = PacketParser(ctrl)
        self.server.clients.add(self)
        logger.info("HCI client %d connected from %s", n, transport.get_extra_info("peername"))

    def on_packet(self, packet: bytes) -> None:  # controller -> host
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(packet)

    def data_received(self, data: bytes) -> None:
        if self.parser is not None:
            try:
                self.parser.feed_data(data)
            except Exception:
                logger.warning("invalid HCI data from a client; closing it")
                if self.transport is not None:
                    self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        """The central vanished (closed, crashed, killed): its links time out."""
        self.transport = None
        ctrl = self.controller
        self.server.clients.discard(self)
        if ctrl is None:
            return
        for conn in list(ctrl.le_connections.values()):
            with contextlib.suppress(Exception):
                conn.send_ll_control_pdu(ll.TerminateInd(hci.HCI_CONNECTION_TIMEOUT_ERROR))
            ctrl.le_connections.pop(conn.peer_address, None)
        # Remove it once the terminations have been delivered.
        asyncio.get_running_loop().call_soon(self._detach, ctrl)

    def _detach(self, ctrl: Controller) -> None:
        if ctrl in self.server.link.controllers:
            self.server.link.remove_controller(ctrl)


class EmulatorServer:
    """Virtual sensors on one link, served to other processes over TCP on 127.0.0.1.

    Each TCP client gets its own virtual controller on the link, speaking HCI (H4 framing):
    a bumble host opened on ``tcp-client:127.0.0.1:PORT`` (see
    :mod:`imu.emulator.backend`) scans, connects and receives notifications as over the air.
    When a client disappears (even killed with SIGKILL) its connections end as after a
    supervision timeout and the sensors advertise again.
    """

    def __init__(self, sensors: Sequence[VirtualSensor] = (), link: LocalLink | None = None):
        self.link = link or (sensors[0].link if sensors else LocalLink())
        self.sensors = list(sensors)
        self.clients: set[_TcpHciClient] = set()
        self._client_ids = itertools.count()
        self._server: asyncio.base_events.Server | None = None
        self.port: int | None = None
        self._cpu0 = time.process_time()
        self._wall0 = time.monotonic()

    def add_sensor(self, sensor: VirtualSensor) -> None:
        if sensor.link is not self.link:
            raise ValueError("the sensor is on another link")
        self.sensors.append(sensor)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Power the sensors on and listen; returns the TCP port."""
        for s in self.sensors:
            await s.start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _TcpHciClient(self), host, port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        self._cpu0, self._wall0 = time.process_time(), time.monotonic()
        return self.port

    @property
    def address(self) -> str:
        """What to put in ``ANKLE_BLE_EMULATOR`` (``tcp:127.0.0.1:PORT``)."""
        return f"tcp:127.0.0.1:{self.port}"

    def cpu_report(self) -> dict[str, float]:
        """The emulator process's CPU time since start, s, and as a fraction of one core."""
        cpu = time.process_time() - self._cpu0
        wall = max(1e-9, time.monotonic() - self._wall0)
        return {
            "cpu_s": cpu,
            "wall_s": wall,
            "cpu_fraction": cpu / wall,
            "sensors_cpu_s": sum(s.stats.cpu_s for s in self.sensors),
        }

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for c in list(self.clients):
                if c.transport is not None:
                    c.transport.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
        for s in self.sensors:
            await s.close()

    async def __aenter__(self) -> EmulatorServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    replay: Sequence[Recording] = (),
    exercise: str = "heel-raise",
    sides: Sequence[str] = ("left", "right"),
    rate_hz: int | None = None,
    drift_ppm: Sequence[float] | float = 0.0,
    latency_ms: tuple[float, float] | None = None,
    speed: float = 1.0,
    faults: Faults | None = None,
    join_delay_s: Sequence[float] | float = 0.0,
    seed: int = 0,
    duration_s: float | None = None,
    on_ready: Callable[[EmulatorServer], None] | None = None,
    report_interval_s: float | None = None,
    report: Callable[[str], None] = print,
    stop_event: asyncio.Event | None = None,
) -> dict[str, object]:
    """Run virtual sensors on ``host:port`` (0: any free port) until cancelled or ``duration_s``.

    Parameters
    ----------
    replay : sequence of Recording
        One recording per side (one for all sides is reused); empty: synthesize
        ``exercise`` at ``rate_hz`` for each side.
    sides : sequence of {'left', 'right'}
        One sensor each.
    rate_hz : int, optional
        Initial sample rate (default: the replayed file's, 1000 Hz for synthesized movement).
    latency_ms : (float, float), optional
        Random link latency per packet (see :class:`VirtualSensor`).
    drift_ppm, join_delay_s : float or one per side
        Clock drift; seconds after start before that sensor powers on (a late joiner).
    on_ready : callable, optional
        Called with the server once it listens (its ``address`` is ``tcp:127.0.0.1:PORT``).
    report_interval_s : float, optional
        Print the emulator's CPU use this often.
    stop_event : asyncio.Event, optional
        Return (cleanly) when it is set.

    Returns
    -------
    dict
        The CPU report (:meth:`EmulatorServer.cpu_report`) and each sensor's stats.
    """

    def per_side(value, k):
        if isinstance(value, (int, float)):
            return float(value)
        return float(value[k])

    link = LocalLink()
    sensors = []
    for k, side in enumerate(sides):
        if replay:
            source = replay[k] if len(replay) > k else replay[0]
        else:
            source = synthesized_recording(exercise, side, rate_hz or 1000, seed + k)
        sensors.append(
            VirtualSensor(
                link,
                source,
                side=side,
                rate_hz=rate_hz,
                drift_ppm=per_side(drift_ppm, k),
                latency_ms=latency_ms,
                speed=speed,
                faults=dataclasses.replace(faults or Faults(), seed=seed + k),
            )
        )
    delays = [per_side(join_delay_s, k) for k in range(len(sensors))]
    server = EmulatorServer([s for s, d in zip(sensors, delays, strict=True) if d <= 0], link)
    await server.start(host, port)
    for s in server.sensors:
        report(f"sensor {s.name} {s.address_str} ({s.side}) advertising")
    if on_ready is not None:
        on_ready(server)

    async def late(sensor: VirtualSensor, delay: float) -> None:
        await asyncio.sleep(delay)
        await sensor.start()
        server.add_sensor(sensor)
        report(f"sensor {sensor.name} {sensor.address_str} ({sensor.side}) joined late")

    tasks = [asyncio.create_task(late(s, d)) for s, d in zip(sensors, delays, strict=True) if d > 0]
    stop = stop_event or asyncio.Event()
    t0 = time.monotonic()
    next_report = t0 + (report_interval_s or math.inf)
    try:
        while not stop.is_set():
            now = time.monotonic()
            wake = next_report if duration_s is None else min(next_report, t0 + duration_s)
            if wake <= now and duration_s is not None and now - t0 >= duration_s:
                break
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), min(3600.0, max(0.0, wake - now)))
            if report_interval_s and time.monotonic() >= next_report:
                next_report += report_interval_s
                r = server.cpu_report()
                report(
                    f"emulator CPU {100 * r['cpu_fraction']:.1f} % of one core "
                    f"({r['cpu_s']:.1f} s in {r['wall_s']:.0f} s)"
                )
    finally:
        for t in tasks:
            t.cancel()
        result: dict[str, object] = dict(server.cpu_report())
        result["sensors"] = {s.name: s.stats for s in sensors}
        await server.close()
    return result
