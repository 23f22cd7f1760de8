"""A bleak backend over a bumble host: unchanged ``BleakScanner`` / ``BleakClient`` calls,
given ``backend=``, reach the virtual sensors of :mod:`imu.emulator.peripheral`.

Two transports, chosen per backend class (:func:`emulator_backend`) or module-wide
(:func:`set_default_target`, else ``$ANKLE_BLE_EMULATOR``):

* a :class:`bumble.link.LocalLink` object: in process (tests). A virtual controller for the
  host is attached to the link beside the sensors' controllers;
* a string: the HCI transport of a controller elsewhere, opened with bumble's
  ``open_transport``. ``tcp:HOST:PORT`` is short for ``tcp-client:HOST:PORT``, the form
  ``ankle emulate`` (:class:`~imu.emulator.peripheral.EmulatorServer`) listens on; any other
  bumble transport name (``usb:0``, ``android-netsim``, ...) also works.

One bumble host :class:`~bumble.device.Device` per transport and event loop plays the
computer's Bluetooth adapter: scanners share its scanning, connections are made one at a
time (a controller creates one connection at a time), each :class:`BumbleClient` owns one
connection. After connecting, the client exchanges an ATT MTU of 247 (bumble truncates
notifications to MTU - 3 otherwise), then discovers the services.

Written against bleak's backend interface of bleak 3.x (``BaseBleakScanner``,
``BaseBleakClient``, concrete ``BleakGATTService`` / ``BleakGATTCharacteristic`` /
``BleakGATTDescriptor``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import struct
import uuid as uuid_mod
import weakref
from collections.abc import Callable
from typing import Any, ClassVar

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError
from bleak.uuids import normalize_uuid_str
from bumble import att, core, hci
from bumble.controller import Controller
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport import open_transport
from bumble.transport.common import AsyncPipeSink

from imu.ble import ENV_VAR, REQUESTED_MTU, BleBackend
from imu.emulator.peripheral import EmulatedController

logger = logging.getLogger(__name__)

Target = LocalLink | str
_default_target: Target | None = None

try:  # bleak >= 3.0
    from bleak.exc import BleakGATTProtocolError as _GattError
except ImportError:  # pragma: no cover - older bleak
    _GattError = None


def set_default_target(target: Target | None) -> None:
    """Where :class:`BumbleScanner` / :class:`BumbleClient` (the plain classes) connect.

    ``None`` falls back to ``$ANKLE_BLE_EMULATOR``.
    """
    global _default_target
    _default_target = target


def _transport_name(spec: str) -> str:
    spec = spec.strip()
    if spec.startswith("tcp:"):
        return "tcp-client:" + spec[4:]
    return spec


def _resolve(target: Target | None) -> Target:
    target = target if target is not None else _default_target
    if target is None:
        target = os.environ.get(ENV_VAR, "").strip() or None
    if target is None:
        raise BleakError(
            f"no emulator selected: set {ENV_VAR}=tcp:127.0.0.1:PORT (see `ankle emulate`) "
            "or call imu.emulator.backend.set_default_target()"
        )
    return target


# ---------------------------------------------------------------------------------------------
# The shared host ("the computer's adapter")
# ---------------------------------------------------------------------------------------------


class _BumbleHost:
    """One bumble host device on one transport, shared by every scanner and client."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.device: Device | None = None
        self.transport = None
        self.controller: Controller | None = None
        self.connect_lock = asyncio.Lock()
        self.scanners: set[BumbleScanner] = set()
        self.clients: set[BumbleClient] = set()
        self.closed = False
        self._scan_lock = asyncio.Lock()

    async def open(self) -> None:
        address = hci.Address.generate_static_address()
        if isinstance(self.target, LocalLink):
            ctrl = EmulatedController("host", link=self.target)
            self.controller = ctrl
            host = Host(ctrl, AsyncPipeSink(ctrl))
        else:
            self.transport = await open_transport(_transport_name(self.target))
            host = Host(self.transport.source, self.transport.sink)
            terminated = getattr(self.transport.source, "terminated", None)
            if terminated is not None:
                terminated.add_done_callback(lambda _f: self._lost())
        dev = Device(name="ankle-motion host", address=address, host=host)
        dev.on(dev.EVENT_ADVERTISEMENT, self._on_advertisement)
        await dev.power_on()
        self.device = dev

    async def abort_connection(self) -> None:
        """After a cancelled connect: make the controller stop trying, and wait until it has."""
        dev = self.device
        if dev is None or self.closed:
            return
        done = asyncio.get_running_loop().create_future()

        def finished(*_args) -> None:
            if not done.done():
                done.set_result(None)

        dev.once(dev.EVENT_CONNECTION_FAILURE, finished)
        try:
            await dev.send_sync_command(hci.HCI_LE_Create_Connection_Cancel_Command())
            await asyncio.wait_for(done, 1.0)
        except Exception:  # nothing was pending (it had just completed or failed)
            pass
        finally:
            dev.remove_listener(dev.EVENT_CONNECTION_FAILURE, finished)

    def _lost(self) -> None:
        """The transport to the controller died: every connection is gone."""
        self.closed = True
        _forget_host(self)
        for client in list(self.clients):
            client._on_bumble_disconnection(hci.HCI_CONNECTION_TIMEOUT_ERROR)

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        for scanner in list(self.scanners):
            scanner._on_advertisement(advertisement)

    async def add_scanner(self, scanner: BumbleScanner) -> None:
        async with self._scan_lock:
            first = not self.scanners
            self.scanners.add(scanner)
            if first and self.device is not None and not self.device.is_scanning:
                await self.device.start_scanning(active=True, filter_duplicates=False)

    async def remove_scanner(self, scanner: BumbleScanner) -> None:
        async with self._scan_lock:
            self.scanners.discard(scanner)
            if not self.scanners and self.device is not None and self.device.is_scanning:
                with contextlib.suppress(Exception):
                    await self.device.stop_scanning()

    async def close(self) -> None:
        self.closed = True
        if self.device is not None:
            with contextlib.suppress(Exception):
                await self.device.power_off()
        if self.transport is not None:
            with contextlib.suppress(Exception):
                await self.transport.close()
        if self.controller is not None and isinstance(self.target, LocalLink):
            if self.controller in self.target.controllers:
                self.target.remove_controller(self.controller)


_HOSTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Any, _BumbleHost]] = (
    weakref.WeakKeyDictionary()
)
_OPENING: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Any, asyncio.Task]] = (
    weakref.WeakKeyDictionary()
)


def _key(target: Target) -> Any:
    return ("link", id(target)) if isinstance(target, LocalLink) else ("hci", target)


def _forget_host(host: _BumbleHost) -> None:
    for hosts in _HOSTS.values():
        for k, h in list(hosts.items()):
            if h is host:
                del hosts[k]


async def get_host(target: Target | None = None) -> _BumbleHost:
    """The shared bumble host for ``target`` in the running event loop (opened once)."""
    target = _resolve(target)
    loop = asyncio.get_running_loop()
    hosts = _HOSTS.setdefault(loop, {})
    key = _key(target)
    host = hosts.get(key)
    if host is not None and not host.closed:
        return host
    opening = _OPENING.setdefault(loop, {})
    task = opening.get(key)
    if task is None:

        async def _open() -> _BumbleHost:
            h = _BumbleHost(target)
            try:
                await h.open()
            except Exception as exc:
                raise BleakError(f"cannot open the emulator transport {target!r}: {exc}") from exc
            hosts[key] = h
            return h

        task = asyncio.ensure_future(_open())
        opening[key] = task
        task.add_done_callback(lambda _t: opening.pop(key, None))
    return await asyncio.shield(task)


async def close_hosts() -> None:
    """Close every bumble host of the running event loop (tests, end of a program)."""
    hosts = _HOSTS.pop(asyncio.get_running_loop(), {})
    for h in hosts.values():
        await h.close()


# ---------------------------------------------------------------------------------------------
# Advertising data -> bleak's AdvertisementData
# ---------------------------------------------------------------------------------------------


def _uuid16(v: int) -> str:
    return normalize_uuid_str(f"{v:04x}")


def _uuid32(v: int) -> str:
    return normalize_uuid_str(f"{v:08x}")


def _uuid128(le: bytes) -> str:
    return str(uuid_mod.UUID(bytes=bytes(le[::-1])))


def parse_advertising_data(data: bytes) -> dict[str, Any]:
    """AD structures -> local name, service UUIDs (bleak's normalized strings), TX power,
    manufacturer and service data. Malformed trailing bytes are ignored."""
    name: str | None = None
    uuids: list[str] = []
    manufacturer: dict[int, bytes] = {}
    service_data: dict[str, bytes] = {}
    tx_power: int | None = None
    i = 0
    while i < len(data):
        n = data[i]
        if n == 0 or i + 1 + n > len(data):
            break
        t, v = data[i + 1], bytes(data[i + 2 : i + 1 + n])
        i += 1 + n
        if t in (0x02, 0x03):
            uuids += [_uuid16(x) for (x,) in struct.iter_unpack("<H", v[: len(v) // 2 * 2])]
        elif t in (0x04, 0x05):
            uuids += [_uuid32(x) for (x,) in struct.iter_unpack("<I", v[: len(v) // 4 * 4])]
        elif t in (0x06, 0x07):
            uuids += [_uuid128(v[k : k + 16]) for k in range(0, len(v) - 15, 16)]
        elif t == 0x09 or (t == 0x08 and name is None):
            name = v.decode("utf-8", "replace")
        elif t == 0x0A and v:
            tx_power = struct.unpack("<b", v[:1])[0]
        elif t == 0xFF and len(v) >= 2:
            manufacturer[struct.unpack("<H", v[:2])[0]] = v[2:]
        elif t == 0x16 and len(v) >= 2:
            service_data[_uuid16(struct.unpack("<H", v[:2])[0])] = v[2:]
        elif t == 0x20 and len(v) >= 4:
            service_data[_uuid32(struct.unpack("<I", v[:4])[0])] = v[4:]
        elif t == 0x21 and len(v) >= 16:
            service_data[_uuid128(v[:16])] = v[16:]
    return {
        "local_name": name,
        "service_uuids": list(dict.fromkeys(uuids)),
        "manufacturer_data": manufacturer,
        "service_data": service_data,
        "tx_power": tx_power,
    }


def _address_str(address: hci.Address) -> str:
    return address.to_string(with_type_qualifier=False)


# ---------------------------------------------------------------------------------------------
# Scanner
# ---------------------------------------------------------------------------------------------


class BumbleScanner(BaseBleakScanner):
    """bleak scanner backend over the shared bumble host (``BleakScanner(backend=...)``).

    ``platform_data`` of each :class:`AdvertisementData` is ``(advertisement, raw_bytes)``:
    the bumble advertisement and the advertising data exactly as received.
    """

    _target: ClassVar[Target | None] = None

    def __init__(
        self,
        detection_callback: Callable | None = None,
        service_uuids: list[str] | None = None,
        scanning_mode: str = "active",
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._scanning_mode = scanning_mode
        self._host: _BumbleHost | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        self._host = await get_host(self._target)
        await self._host.add_scanner(self)

    async def stop(self) -> None:
        if self._host is not None:
            await self._host.remove_scanner(self)
            self._host = None

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        raw = bytes(advertisement.data_bytes)
        if advertisement.is_scan_response:
            raw = bytes(advertisement.data)  # advertising data + scan response, merged
        fields = parse_advertising_data(raw)
        if not self.is_allowed_uuid(fields["service_uuids"]):
            return
        address = _address_str(advertisement.address)
        adv = AdvertisementData(
            rssi=advertisement.rssi,
            platform_data=(advertisement, bytes(advertisement.data_bytes)),
            **fields,
        )
        device = self.create_or_update_device(
            address, address, fields["local_name"], advertisement.address, adv
        )
        self.call_detection_callbacks(device, adv)


# ---------------------------------------------------------------------------------------------
# Client
# ---------------------------------------------------------------------------------------------

_PROPERTY_NAMES = [
    (0x01, "broadcast"),
    (0x02, "read"),
    (0x04, "write-without-response"),
    (0x08, "write"),
    (0x10, "notify"),
    (0x20, "indicate"),
    (0x40, "authenticated-signed-writes"),
    (0x80, "extended-properties"),
]


def _uuid_str(u: core.UUID) -> str:
    return normalize_uuid_str(u.to_hex_str("-").lower())


def _gatt_error(err: att.ATT_Error) -> BleakError:
    if _GattError is not None:
        return _GattError(err.error_code)
    return BleakError(f"ATT error 0x{err.error_code:02x}")  # pragma: no cover


class BumbleClient(BaseBleakClient):
    """bleak client backend over the shared bumble host (``BleakClient(..., backend=...)``)."""

    _target: ClassVar[Target | None] = None

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        services: set[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout
        )
        details = getattr(address_or_ble_device, "details", None)
        self._peer_address = details if isinstance(details, hci.Address) else None
        self._device_name = getattr(address_or_ble_device, "name", None)
        self._services_filter = services
        self._host: _BumbleHost | None = None
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._subscribers: dict[int, Callable[[bytes], None]] = {}
        self._closing = False

    # -- bleak interface --------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._device_name or self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        return self._connection.att_mtu if self._connection is not None else att.ATT_DEFAULT_MTU

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool = False, **kwargs: Any) -> None:
        if self._connection is not None:
            return
        timeout = kwargs.get("timeout", self._timeout)
        self._host = host = await get_host(self._target)
        address = self._peer_address or hci.Address(self.address)
        self._closing = False
        try:
            async with host.connect_lock:
                assert host.device is not None
                try:
                    connection = await host.device.connect_le(address, timeout=timeout)
                except asyncio.CancelledError:  # stop the controller too, before the next one
                    await asyncio.shield(host.abort_connection())
                    raise
        except core.TimeoutError as exc:
            raise TimeoutError(f"connection to {self.address} timed out") from exc
        except core.BaseBumbleError as exc:
            raise BleakError(f"connection to {self.address} failed: {exc}") from exc
        self._connection = connection
        connection.on(connection.EVENT_DISCONNECTION, self._on_bumble_disconnection)
        host.clients.add(self)
        self._peer = Peer(connection)
        try:
            await self._peer.request_mtu(REQUESTED_MTU)
            self.services = await self._discover()
        except BaseException:
            with contextlib.suppress(Exception):
                await self.disconnect()
            raise
        if pair:
            logger.info("pairing is not emulated; connected without it")

    async def _discover(self) -> BleakGATTServiceCollection:
        peer = self._peer
        assert peer is not None
        wanted = None
        if self._services_filter:
            wanted = [core.UUID(normalize_uuid_str(u)) for u in self._services_filter]
        collection = BleakGATTServiceCollection()
        for s in await peer.discover_services(wanted or ()):
            await s.discover_characteristics()
            service = BleakGATTService(s, s.handle, _uuid_str(s.uuid))
            collection.add_service(service)
            for c in s.characteristics:
                await c.discover_descriptors()
                props = [name for bit, name in _PROPERTY_NAMES if c.properties & bit]
                char = BleakGATTCharacteristic(
                    c, c.handle, _uuid_str(c.uuid), props, lambda: self.mtu_size - 3, service
                )
                collection.add_characteristic(char)
                for d in c.descriptors:
                    collection.add_descriptor(
                        BleakGATTDescriptor(d, d.handle, _uuid_str(d.type), char)
                    )
        return collection

    def _on_bumble_disconnection(self, reason: int) -> None:
        if self._connection is None:
            return
        self._connection = None
        self._peer = None
        self._subscribers.clear()
        if self._host is not None:
            self._host.clients.discard(self)
        logger.debug("%s disconnected (reason 0x%02x)", self.address, reason)
        callback = self._disconnected_callback
        if callback is not None:
            asyncio.get_running_loop().call_soon(callback)

    async def disconnect(self) -> None:
        connection = self._connection
        if connection is None:
            return
        self._closing = True
        try:
            await asyncio.wait_for(connection.disconnect(), 5.0)
        except Exception:  # already gone, or the transport died
            self._on_bumble_disconnection(hci.HCI_CONNECTION_TIMEOUT_ERROR)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("pairing is not emulated (the sensor does not need it)")

    async def unpair(self) -> None:
        raise NotImplementedError("pairing is not emulated (the sensor does not need it)")

    def _require(self) -> Peer:
        if self._peer is None:
            raise BleakError("not connected")
        return self._peer

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        peer = self._require()
        try:
            return bytearray(await peer.read_value(characteristic.obj))
        except att.ATT_Error as err:
            raise _gatt_error(err) from err

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        peer = self._require()
        try:
            return bytearray(await peer.read_value(descriptor.obj))
        except att.ATT_Error as err:
            raise _gatt_error(err) from err

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
    ) -> None:
        peer = self._require()
        try:
            await peer.write_value(characteristic.obj, bytes(data), with_response=response)
        except att.ATT_Error as err:
            raise _gatt_error(err) from err

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        peer = self._require()
        try:
            await peer.write_value(descriptor.obj, bytes(data), with_response=True)
        except att.ATT_Error as err:
            raise _gatt_error(err) from err

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        peer = self._require()

        def subscriber(value: bytes) -> None:
            callback(bytearray(value))

        self._subscribers[characteristic.handle] = subscriber
        await peer.gatt_client.subscribe(characteristic.obj, subscriber, prefer_notify=True)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        peer = self._require()
        subscriber = self._subscribers.pop(characteristic.handle, None)
        await peer.gatt_client.unsubscribe(characteristic.obj, subscriber)


def emulator_backend(target: Target | None = None) -> BleBackend:
    """The :class:`~imu.ble.BleBackend` whose classes reach the emulator at ``target``.

    ``target``: a :class:`~bumble.link.LocalLink` (in process), ``tcp:HOST:PORT``, any
    bumble transport name, or None (:func:`set_default_target`, then ``$ANKLE_BLE_EMULATOR``).
    """
    if target is None:
        return BleBackend(BumbleScanner, BumbleClient, "bumble")
    attrs = {"_target": target, "__module__": __name__}
    scanner = type("BumbleScanner", (BumbleScanner,), dict(attrs))
    client = type("BumbleClient", (BumbleClient,), dict(attrs))
    label = target if isinstance(target, str) else "bumble LocalLink"
    return BleBackend(scanner, client, f"bumble ({label})")
