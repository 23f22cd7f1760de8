"""Thin async BLE client for the ankle-motion sensor, on bleak's public API only.

* :func:`scan` lists the sensors advertising nearby (found by the service UUID; the name is
  only shown, never relied on); :func:`find_sensor` waits for one by address, name or side.
* :class:`SensorClient` connects (by address, name, side or the first sensor found),
  subscribes to Control, Status and Data, sends commands and waits for their response
  notifications, hands every notification to callbacks with the host arrival time
  (:func:`time.monotonic`), optionally appending it to a :class:`~imu.rawlog.RawLogWriter`,
  and reconnects by itself after a drop: the disconnection and the reconnection are marked
  (callbacks and raw log), the sensor is found again as soon as it advertises, the client
  resubscribes and sends START again if it was streaming.

Bytes are encoded and decoded by :mod:`imu.protocol`; nothing here parses packets.

Backends. Every function takes ``backend=``: ``None`` uses bleak's default backend (real
hardware: BlueZ, CoreBluetooth, WinRT), unless the environment variable
``ANKLE_BLE_EMULATOR`` names an emulator (``tcp:127.0.0.1:PORT`` from ``ankle emulate``);
a string is such an emulator address; a :class:`BleBackend` gives bleak's ``backend=``
classes for the scanner and the client explicitly (``imu.emulator.backend``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError

from imu import protocol as P

if TYPE_CHECKING:
    from bleak.backends.client import BaseBleakClient
    from bleak.backends.device import BLEDevice
    from bleak.backends.scanner import AdvertisementData, BaseBleakScanner

    from imu.rawlog import RawLogWriter

logger = logging.getLogger(__name__)

#: Environment variable selecting the emulator (e.g. ``tcp:127.0.0.1:9876``).
ENV_VAR = "ANKLE_BLE_EMULATOR"
COMMAND_TIMEOUT_S = 3.0
#: ATT MTU the client asks for (the sensor's packets fill ``MTU - 3`` bytes, §5).
REQUESTED_MTU = 247
_SERVICES = [P.SERVICE_UUID, P.BATTERY_SERVICE_UUID, P.DEVICE_INFO_SERVICE_UUID]
_ADDRESS_RE = re.compile(
    r"^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$|^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$"
)


# ---------------------------------------------------------------------------------------------
# Backends
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BleBackend:
    """The classes given to bleak's ``backend=`` for scanning and for connections.

    ``None`` for either means bleak's default backend for the platform.
    """

    scanner: type[BaseBleakScanner] | None = None
    client: type[BaseBleakClient] | None = None
    name: str = "bleak"


DEFAULT_BACKEND = BleBackend()


def resolve_backend(backend: BleBackend | str | None = None) -> BleBackend:
    """``backend=`` of this module's functions -> the :class:`BleBackend` to use.

    ``None``: the emulator named by ``$ANKLE_BLE_EMULATOR`` if set, else bleak's default.
    A string: an emulator (``tcp:HOST:PORT`` or any bumble transport name); needs the
    ``emulate`` extra (bumble).
    """
    if isinstance(backend, BleBackend):
        return backend
    spec = backend if backend is not None else os.environ.get(ENV_VAR, "").strip()
    if not spec:
        return DEFAULT_BACKEND
    from imu.emulator.backend import emulator_backend  # bumble: only when emulating

    return emulator_backend(spec)


# ---------------------------------------------------------------------------------------------
# Discovery
# ---------------------------------------------------------------------------------------------


def side_from_name(name: str | None) -> str | None:
    """``"ANKL-L3F"`` -> ``"left"``, ``"ANKL-R.."`` -> ``"right"``, otherwise None."""
    if not name or not name.startswith(P.NAME_PREFIX) or len(name) <= len(P.NAME_PREFIX):
        return None
    return {"L": "left", "R": "right"}.get(name[len(P.NAME_PREFIX)])


@dataclass(frozen=True)
class FoundSensor:
    """A sensor seen advertising the ankle-motion service.

    ``device`` is bleak's :class:`~bleak.backends.device.BLEDevice` (what
    :class:`~bleak.BleakClient` connects to); ``side`` comes from the advertised name.
    """

    address: str
    name: str | None
    side: str | None
    rssi: int | None
    device: BLEDevice = field(repr=False, compare=False)

    @classmethod
    def from_advertisement(cls, device: BLEDevice, adv: AdvertisementData) -> FoundSensor:
        name = adv.local_name or device.name
        return cls(device.address, name, side_from_name(name), adv.rssi, device)


def _is_sensor(adv: AdvertisementData) -> bool:
    return any(u.lower() == P.SERVICE_UUID for u in adv.service_uuids)


def _matches(found: FoundSensor, target: str | None, side: str | None) -> bool:
    if side is not None and found.side != side:
        return False
    if target is None:
        return True
    t = target.strip().lower()
    if _ADDRESS_RE.match(t):
        return found.address.lower().replace("-", ":") == t.replace("-", ":")
    return (found.name or "").lower() == t


async def scan(
    timeout_s: float = 5.0, *, backend: BleBackend | str | None = None
) -> list[FoundSensor]:
    """Sensors advertising the service within ``timeout_s``, sorted by name then address."""
    b = resolve_backend(backend)
    seen = await BleakScanner.discover(
        timeout=timeout_s, return_adv=True, service_uuids=[P.SERVICE_UUID], backend=b.scanner
    )
    found = [FoundSensor.from_advertisement(d, a) for d, a in seen.values() if _is_sensor(a)]
    return sorted(found, key=lambda f: (f.name or "", f.address))


async def find_sensor(
    target: str | None = None,
    *,
    side: str | None = None,
    timeout_s: float | None = 10.0,
    backend: BleBackend | str | None = None,
) -> FoundSensor | None:
    """The first sensor advertising whose address or name is ``target`` (any when None).

    ``side`` restricts to ``ANKL-L..`` / ``ANKL-R..`` sensors. Returns None after
    ``timeout_s`` (None: wait for ever).
    """
    b = resolve_backend(backend)

    async def first(scanner: BleakScanner) -> FoundSensor:
        async for device, adv in scanner.advertisement_data():
            if _is_sensor(adv):
                found = FoundSensor.from_advertisement(device, adv)
                if _matches(found, target, side):
                    return found
        raise AssertionError("advertisement_data() never ends")  # pragma: no cover

    async with BleakScanner(service_uuids=[P.SERVICE_UUID], backend=b.scanner) as scanner:
        try:
            return await asyncio.wait_for(first(scanner), timeout_s)
        except asyncio.TimeoutError:
            return None


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------


class SensorNotFoundError(BleakError):
    """No matching sensor advertised in time."""


class SensorCommandError(BleakError):
    """The sensor answered a command with an error result."""

    def __init__(self, response: P.ControlResponse) -> None:
        self.response = response
        op = P.OPCODE_NAMES.get(response.request_opcode, hex(response.request_opcode))
        super().__init__(f"{op} refused: {response.result_name}")


@dataclass(frozen=True)
class ClientEvent:
    """``kind`` is ``connect``, ``disconnect`` or ``reconnect``; ``host_s`` monotonic."""

    kind: str
    host_s: float
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TimeSync:
    """One TIME_SYNC exchange: the sensor clock between two host times (s, monotonic)."""

    token: int
    host_send_s: float
    host_receive_s: float
    sensor_t_us: int

    @property
    def round_trip_s(self) -> float:
        return self.host_receive_s - self.host_send_s


Callback = Callable[[bytes, float], None]


class SensorClient:
    """One sensor: connection, subscriptions, commands and automatic reconnection.

    Parameters
    ----------
    target : str or FoundSensor, optional
        Address (``"F4:A1:E0:01:00:3F"``; a UUID on macOS) or advertised name
        (``"ANKL-L3F"``); None: the first sensor found (of ``side`` if given).
    side : {'left', 'right'}, optional
        Only sensors advertising that side.
    backend : BleBackend or str, optional
        See the module docstring (None: bleak's default unless ``$ANKLE_BLE_EMULATOR``).
    on_data, on_control, on_status : callable(bytes, float), optional
        Every Data / Control / Status notification, verbatim, with its host arrival time
        (s, :func:`time.monotonic`), called in the event loop as it arrives.
    on_event : callable(ClientEvent), optional
        ``connect``, ``disconnect`` (the gap starts) and ``reconnect`` (it ends).
    rawlog : RawLogWriter, optional
        Every notification is appended (data, control and status kinds) and the
        disconnections and reconnections are marked.
    auto_reconnect : bool
        After an unexpected disconnection, find the sensor again and reconnect (scanning
        without a time limit until :meth:`close`), resubscribe and START again if
        streaming.
    scan_timeout_s : float
        How long :meth:`connect` waits for the sensor to advertise.
    command_timeout_s : float
        How long a command waits for its response notification.
    time_sync_interval_s : float, optional
        Send TIME_SYNC this often while connected (answers reach ``on_control``/``rawlog``).
    clock : callable
        Host arrival times, s (default :func:`time.monotonic`, the raw log's ``host_clock``).
    """

    def __init__(
        self,
        target: str | FoundSensor | None = None,
        *,
        side: str | None = None,
        backend: BleBackend | str | None = None,
        on_data: Callback | None = None,
        on_control: Callback | None = None,
        on_status: Callback | None = None,
        on_event: Callable[[ClientEvent], None] | None = None,
        rawlog: RawLogWriter | None = None,
        auto_reconnect: bool = True,
        scan_timeout_s: float = 10.0,
        command_timeout_s: float = COMMAND_TIMEOUT_S,
        time_sync_interval_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if side not in (None, "left", "right"):
            raise ValueError(f"side must be 'left', 'right' or None, got {side!r}")
        self.backend = resolve_backend(backend)
        self.found = target if isinstance(target, FoundSensor) else None
        self.target = target.address if isinstance(target, FoundSensor) else target
        self.side = side
        self.on_data = on_data
        self.on_control = on_control
        self.on_status = on_status
        self.on_event = on_event
        self.rawlog = rawlog
        self.auto_reconnect = auto_reconnect
        self.scan_timeout_s = scan_timeout_s
        self.command_timeout_s = command_timeout_s
        self.time_sync_interval_s = time_sync_interval_s
        self.clock = clock
        #: Connection history (connect / disconnect / reconnect), in order.
        self.events: list[ClientEvent] = []
        self.notifications = 0
        self.last_start: P.ControlResponse | None = None
        self._client: BleakClient | None = None
        self._streaming = False
        self._closing = False
        self._connected = asyncio.Event()
        self._cmd_lock = asyncio.Lock()
        self._pending: dict[int, asyncio.Future[P.ControlResponse]] = {}
        self._reconnect_task: asyncio.Task[None] | None = None
        self._sync_task: asyncio.Task[None] | None = None
        self._tokens = itertools.count(1)
        self._down_since: float | None = None
        self._reconnects = 0

    # -- properties -------------------------------------------------------------------------

    @property
    def address(self) -> str | None:
        return self.found.address if self.found else None

    @property
    def name(self) -> str | None:
        return self.found.name if self.found else None

    @property
    def is_connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    @property
    def mtu_size(self) -> int | None:
        return self._client.mtu_size if self._client is not None else None

    @property
    def streaming(self) -> bool:
        """START was sent and not STOP (kept across reconnections)."""
        return self._streaming

    @property
    def reconnects(self) -> int:
        return self._reconnects

    # -- connection -------------------------------------------------------------------------

    async def connect(self) -> None:
        """Find the sensor (unless given as a FoundSensor), connect and subscribe.

        Raises
        ------
        SensorNotFoundError
            Nothing matching advertised within ``scan_timeout_s``.
        """
        self._closing = False
        if self.found is None:
            self.found = await find_sensor(
                self.target, side=self.side, timeout_s=self.scan_timeout_s, backend=self.backend
            )
            if self.found is None:
                what = self.target or (f"{self.side} sensor" if self.side else "sensor")
                raise SensorNotFoundError(f"no {what} advertising within {self.scan_timeout_s} s")
        await self._connect_to(self.found)
        self._event("connect", self.clock(), address=self.address, name=self.name)
        if self.rawlog is not None:
            meta = {"address": self.address, "sensor": self.name, "att_mtu": self.mtu_size}
            if self.found.side:
                meta["side"] = self.found.side
            self.rawlog.update_meta(self.clock(), meta)

    async def _connect_to(self, found: FoundSensor) -> None:
        client = BleakClient(
            found.device,
            disconnected_callback=self._on_disconnected,
            services=_SERVICES,
            timeout=self.scan_timeout_s,
            backend=self.backend.client,
        )
        await client.connect()
        try:
            # Control and Status before any command, Data before START (§3).
            await client.start_notify(P.CONTROL_CHAR_UUID, self._on_control_notify)
            await client.start_notify(P.STATUS_CHAR_UUID, self._on_status_notify)
            await client.start_notify(P.DATA_CHAR_UUID, self._on_data_notify)
        except BaseException:
            with contextlib.suppress(Exception):
                await client.disconnect()
            raise
        self._client = client
        self._connected.set()
        if self.time_sync_interval_s and (self._sync_task is None or self._sync_task.done()):
            self._sync_task = asyncio.create_task(self._sync_loop())

    async def wait_connected(self, timeout_s: float | None = None) -> bool:
        """Wait until connected (e.g. after a drop); False on timeout."""
        try:
            await asyncio.wait_for(self._connected.wait(), timeout_s)
        except asyncio.TimeoutError:
            return False
        return True

    async def close(self, *, stop: bool = True) -> None:
        """Stop reconnecting, send STOP if streaming (``stop``), and disconnect."""
        self._closing = True
        for task in (self._reconnect_task, self._sync_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        client, self._client = self._client, None
        self._connected.clear()
        if client is None:
            return
        if stop and self._streaming and client.is_connected:
            self._client = client
            with contextlib.suppress(Exception):
                await self.stop()
            self._client = None
        with contextlib.suppress(Exception):
            await client.disconnect()

    async def __aenter__(self) -> SensorClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _event(self, kind: str, t: float, **info: Any) -> None:
        ev = ClientEvent(kind, t, info)
        self.events.append(ev)
        if self.rawlog is not None:
            if kind == "disconnect":
                self.rawlog.mark_disconnect(t, str(info.get("reason", "")))
            elif kind == "reconnect":
                self.rawlog.mark_reconnect(t, **info)
        if self.on_event is not None:
            self.on_event(ev)

    def _on_disconnected(self, client: BleakClient) -> None:
        if client is not self._client:
            return  # an old connection, or our own close()
        t = self.clock()
        self._client = None
        self._connected.clear()
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(BleakError("disconnected"))
        if self._closing:
            return
        self._down_since = t
        self._event("disconnect", t, reason="link lost", address=self.address)
        if self.auto_reconnect and (self._reconnect_task is None or self._reconnect_task.done()):
            self._reconnect_task = asyncio.create_task(self._reconnect())

    async def _reconnect(self) -> None:
        attempt = 0
        while not self._closing:
            attempt += 1
            try:
                found = await find_sensor(self.address, timeout_s=5.0, backend=self.backend)
            except (BleakError, OSError) as err:  # e.g. the adapter (or emulator) is gone
                logger.warning("%s: cannot scan (%s); retrying", self.name, err)
                await asyncio.sleep(1.0)
                continue
            if found is None or self._closing:
                continue
            try:
                await self._connect_to(found)
            except (BleakError, asyncio.TimeoutError, TimeoutError, OSError) as err:
                logger.info("%s: reconnection attempt %d failed: %s", self.name, attempt, err)
                await asyncio.sleep(0.05)
                continue
            t = self.clock()
            self.found = found
            self._reconnects += 1
            down = t - self._down_since if self._down_since is not None else None
            self._event("reconnect", t, address=self.address, attempt=attempt, down_s=down)
            if self._streaming:
                try:
                    await self.start()
                except (BleakError, asyncio.TimeoutError, TimeoutError) as err:
                    logger.warning("%s: START after reconnection failed: %s", self.name, err)
            return

    # -- notifications ----------------------------------------------------------------------

    def _on_data_notify(self, _char: Any, data: bytearray) -> None:
        t = self.clock()
        value = bytes(data)
        self.notifications += 1
        if self.rawlog is not None:
            self.rawlog.append(value, t)
        if self.on_data is not None:
            self.on_data(value, t)

    def _on_control_notify(self, _char: Any, data: bytearray) -> None:
        t = self.clock()
        value = bytes(data)
        if self.rawlog is not None:
            from imu.rawlog import KIND_CONTROL

            self.rawlog.append(value, t, KIND_CONTROL)
        if self.on_control is not None:
            self.on_control(value, t)
        try:
            response = P.decode_response(value)
        except P.ProtocolError:
            logger.warning("%s: not a control response: %s", self.name, value.hex())
            return
        fut = self._pending.get(response.request_opcode)
        if fut is not None and not fut.done():
            fut.set_result(response)

    def _on_status_notify(self, _char: Any, data: bytearray) -> None:
        t = self.clock()
        value = bytes(data)
        if self.rawlog is not None:
            from imu.rawlog import KIND_STATUS

            self.rawlog.append(value, t, KIND_STATUS)
        if self.on_status is not None:
            self.on_status(value, t)

    # -- commands ---------------------------------------------------------------------------

    def _require(self) -> BleakClient:
        if self._client is None:
            raise BleakError("not connected")
        return self._client

    async def command(self, payload: bytes) -> P.ControlResponse:
        """Write one command (with response) and wait for its response notification."""
        client = self._require()
        opcode = payload[0]
        async with self._cmd_lock:
            fut: asyncio.Future[P.ControlResponse] = asyncio.get_running_loop().create_future()
            self._pending[opcode] = fut
            try:
                await client.write_gatt_char(P.CONTROL_CHAR_UUID, payload, response=True)
                return await asyncio.wait_for(fut, self.command_timeout_s)
            finally:
                self._pending.pop(opcode, None)

    async def _checked(self, payload: bytes) -> P.ControlResponse:
        response = await self.command(payload)
        if not response.ok:
            raise SensorCommandError(response)
        return response

    async def configure(
        self,
        *,
        rate_hz: int | None = None,
        acc_range_g: int | None = None,
        gyr_range_dps: int | None = None,
        side: str | None = None,
    ) -> dict[str, P.ControlResponse]:
        """SET_RATE / SET_RANGES / SET_SIDE (only those given; the sensor must be stopped).

        Returns the responses by command name; raises :class:`SensorCommandError` on a
        refusal.
        """
        out: dict[str, P.ControlResponse] = {}
        if rate_hz is not None:
            out["SET_RATE"] = await self._checked(P.encode_set_rate(rate_hz))
        if acc_range_g is not None or gyr_range_dps is not None:
            out["SET_RANGES"] = await self._checked(
                P.encode_set_ranges(acc_range_g or 16, gyr_range_dps or 2000)
            )
        if side is not None:
            out["SET_SIDE"] = await self._checked(P.encode_set_side(side))
        return out

    async def start(self) -> P.ControlResponse:
        """START; the stream is restarted automatically after reconnections until :meth:`stop`."""
        response = await self._checked(P.encode_start())
        self._streaming = True
        self.last_start = response
        return response

    async def stop(self) -> P.ControlResponse:
        """STOP."""
        self._streaming = False
        return await self._checked(P.encode_stop())

    async def identify(self, seconds: int = 5) -> P.ControlResponse:
        return await self._checked(P.encode_identify(seconds))

    async def time_sync(self) -> TimeSync:
        """TIME_SYNC: the sensor clock bracketed by two host times (monotonic, s)."""
        token = next(self._tokens) & 0xFFFFFFFF
        t_send = self.clock()
        response = await self._checked(P.encode_time_sync(token, int(t_send * 1e6)))
        t_recv = self.clock()
        return TimeSync(token, t_send, t_recv, int(response.sensor_t_us or 0))

    async def _sync_loop(self) -> None:
        while not self._closing:
            await asyncio.sleep(self.time_sync_interval_s or 10.0)
            if self.is_connected:
                with contextlib.suppress(BleakError, asyncio.TimeoutError, TimeoutError):
                    await self.time_sync()

    async def read_status(self) -> P.SensorStatus:
        """Read the Status characteristic (also logged to ``rawlog`` as a status record)."""
        value = bytes(await self._require().read_gatt_char(P.STATUS_CHAR_UUID))
        if self.rawlog is not None:
            from imu.rawlog import KIND_STATUS

            self.rawlog.append(value, self.clock(), KIND_STATUS)
        return P.decode_status(value)

    async def read_battery(self) -> int:
        """Battery level, %."""
        return int((await self._require().read_gatt_char(P.BATTERY_LEVEL_CHAR_UUID))[0])

    async def read_firmware(self) -> str:
        value = await self._require().read_gatt_char(P.FIRMWARE_REVISION_CHAR_UUID)
        return bytes(value).decode("utf-8", "replace")
