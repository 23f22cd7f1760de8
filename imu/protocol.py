"""The sensor's BLE protocol (``firmware_notes/protocol.md``): pure bytes <-> arrays.

Synchronous and free of I/O; the BLE client (``imu/ble.py``), the emulator, the raw-log
recovery and the tests all share it.

* Constants: GATT UUIDs, control opcodes and result codes, packet layout.
* :func:`encode_packet` / :func:`decode_packets`: the data notification. Decoding is
  vectorized (packets grouped by length, read with :func:`numpy.frombuffer` through a
  structured dtype) and never raises: malformed packets are counted by reason and skipped.
* Control commands, their responses and the status characteristic: encoders and decoders.
* :class:`StreamAssembler`: packets arriving over time (lost, duplicated, reordered) ->
  samples on the sensor clock with the gaps left as gaps, loss statistics, and the sensor
  clock mapped to host time with its drift (:func:`estimate_clock`).

Data packet, version 1 (little-endian, 24-byte header then ``count`` samples)::

    off size field
      0  u8   version         1
      1  u8   flags           bits 0-1 side (0 unset, 1 left, 2 right), bit 2 OVERFLOW
                              (samples were lost inside the sensor before this packet),
                              bit 3 START (first packet after a START command)
      2  u16  seq             packet counter since power-on, wraps at 65536
      4  u8   count           samples in this packet, 1..255
      5  u8   reserved        0 (ignored by readers)
      6  u48  t_us            sensor clock (µs since power-on) at the first sample
     12  u32  period_ns       sample period as measured on the sensor clock, ns
     16  f32  acc_scale       m/s^2 per LSB
     20  f32  gyr_scale       deg/s per LSB
     24  count x (i16 ax, ay, az, gx, gy, gz)

Units follow the project rule: SI, except where a name says otherwise (``gyr_dps``,
``t_us``, ``period_ns``).
"""

from __future__ import annotations

import functools
import math
import struct
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

# ---------------------------------------------------------------------------------------------
# GATT identifiers
# ---------------------------------------------------------------------------------------------


def _project_uuid(short: int) -> str:
    """The project's 128-bit UUID with ``short`` in bits 96-111 (the ``xxxx`` of the base)."""
    return f"e4b5{short:04x}-5bf4-4ef7-8c35-f13988f2a897"


#: Base UUID of the project (``e4b5xxxx-5bf4-4ef7-8c35-f13988f2a897``), a random version-4 UUID.
UUID_BASE = _project_uuid(0x0000)
SERVICE_UUID = _project_uuid(0x0001)
DATA_CHAR_UUID = _project_uuid(0x0002)  # notify
CONTROL_CHAR_UUID = _project_uuid(0x0003)  # write with response + notify (responses)
STATUS_CHAR_UUID = _project_uuid(0x0004)  # read + notify
#: Standard Battery Service and Battery Level (Bluetooth SIG assigned numbers).
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_CHAR_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
#: Standard Device Information Service and its Firmware Revision String.
DEVICE_INFO_SERVICE_UUID = "0000180a-0000-1000-8000-00805f9b34fb"
FIRMWARE_REVISION_CHAR_UUID = "00002a26-0000-1000-8000-00805f9b34fb"
#: Advertised local name starts with this (e.g. ``ANKL-L3F``).
NAME_PREFIX = "ANKL-"

for _u in (SERVICE_UUID, DATA_CHAR_UUID, CONTROL_CHAR_UUID, STATUS_CHAR_UUID):
    assert str(uuid.UUID(_u)) == _u
del _u

# ---------------------------------------------------------------------------------------------
# Data packet layout
# ---------------------------------------------------------------------------------------------

PROTOCOL_VERSION = 1
HEADER_SIZE = 24
SAMPLE_SIZE = 12  # 6 x int16
MAX_SAMPLES_PER_PACKET = 255  # u8 count
ATT_NOTIFY_OVERHEAD = 3  # opcode + attribute handle: a notification carries ATT_MTU - 3 bytes
T_US_MODULUS = 1 << 48
STANDARD_GRAVITY = 9.80665  # m/s^2, as imu.recording

SIDE_UNSET, SIDE_LEFT, SIDE_RIGHT = 0, 1, 2
SIDE_NAMES = {SIDE_UNSET: None, SIDE_LEFT: "left", SIDE_RIGHT: "right"}
FLAG_SIDE_MASK = 0x03
FLAG_OVERFLOW = 0x04
FLAG_START = 0x08

_HEADER_FIELDS: list[tuple[str, str]] = [
    ("version", "u1"),
    ("flags", "u1"),
    ("seq", "<u2"),
    ("count", "u1"),
    ("reserved", "u1"),
    ("t_lo", "<u4"),
    ("t_hi", "<u2"),
    ("period_ns", "<u4"),
    ("acc_scale", "<f4"),
    ("gyr_scale", "<f4"),
]
HEADER_DTYPE = np.dtype(_HEADER_FIELDS)
assert HEADER_DTYPE.itemsize == HEADER_SIZE

_HEADER_STRUCT = struct.Struct("<BBHBBIHIff")
assert _HEADER_STRUCT.size == HEADER_SIZE


@functools.lru_cache(maxsize=64)
def packet_dtype(count: int) -> np.dtype:
    """Structured dtype of a whole version-1 packet holding ``count`` samples."""
    return np.dtype([*_HEADER_FIELDS, ("samples", "<i2", (count, 6))])


def packet_size(count: int) -> int:
    """Bytes of a packet with ``count`` samples: ``24 + 12 * count``."""
    return HEADER_SIZE + SAMPLE_SIZE * count


def samples_per_packet(att_mtu: int) -> int:
    """Most samples one notification can carry at ATT MTU ``att_mtu`` (0: none fits).

    ``floor((att_mtu - 3 - 24) / 12)``: 18 at MTU 247, 13 at 185, 0 at the default 23.
    """
    n = (int(att_mtu) - ATT_NOTIFY_OVERHEAD - HEADER_SIZE) // SAMPLE_SIZE
    return max(0, min(MAX_SAMPLES_PER_PACKET, n))


def acc_scale_for_range(acc_range_g: float) -> float:
    """m/s^2 per LSB of an accelerometer at ``+-acc_range_g`` (full scale over 32768 LSB)."""
    return float(acc_range_g) * STANDARD_GRAVITY / 32768.0


def gyr_scale_for_range(gyr_range_dps: float) -> float:
    """deg/s per LSB at ``+-gyr_range_dps`` if full scale is 32768 LSB.

    Chips differ (the ICM-42688-P and BMI270 give 16.4 LSB/(deg/s) at 2000 deg/s, the
    LSM6DSO 70 mdps/LSB): firmware sends its datasheet sensitivity, not this.
    """
    return float(gyr_range_dps) / 32768.0


# ---------------------------------------------------------------------------------------------
# Control characteristic
# ---------------------------------------------------------------------------------------------

OP_START = 0x01
OP_STOP = 0x02
OP_SET_RATE = 0x03
OP_SET_RANGES = 0x04
OP_TIME_SYNC = 0x05
OP_IDENTIFY = 0x06
OP_SET_SIDE = 0x07
OP_RESPONSE = 0x80  # first byte of every response notification

OPCODE_NAMES = {
    OP_START: "START",
    OP_STOP: "STOP",
    OP_SET_RATE: "SET_RATE",
    OP_SET_RANGES: "SET_RANGES",
    OP_TIME_SYNC: "TIME_SYNC",
    OP_IDENTIFY: "IDENTIFY",
    OP_SET_SIDE: "SET_SIDE",
}

RESULT_OK = 0x00
RESULT_UNKNOWN_OPCODE = 0x01
RESULT_INVALID_LENGTH = 0x02
RESULT_INVALID_PARAMETER = 0x03
RESULT_NOT_ALLOWED_WHILE_STREAMING = 0x04
RESULT_MTU_TOO_SMALL = 0x05
RESULT_HARDWARE_ERROR = 0x06

RESULT_NAMES = {
    RESULT_OK: "OK",
    RESULT_UNKNOWN_OPCODE: "UNKNOWN_OPCODE",
    RESULT_INVALID_LENGTH: "INVALID_LENGTH",
    RESULT_INVALID_PARAMETER: "INVALID_PARAMETER",
    RESULT_NOT_ALLOWED_WHILE_STREAMING: "NOT_ALLOWED_WHILE_STREAMING",
    RESULT_MTU_TOO_SMALL: "MTU_TOO_SMALL",
    RESULT_HARDWARE_ERROR: "HARDWARE_ERROR",
}

RATE_MIN_HZ, RATE_MAX_HZ = 50, 1000
ACC_RANGES_G = (2, 4, 8, 16)
GYR_RANGES_DPS = (125, 250, 500, 1000, 2000)
IDENTIFY_MAX_S = 60

# Command parameter layouts (after the opcode byte).
_CMD_PARAMS = {
    OP_START: struct.Struct("<"),
    OP_STOP: struct.Struct("<"),
    OP_SET_RATE: struct.Struct("<H"),  # rate_hz
    OP_SET_RANGES: struct.Struct("<BH"),  # acc_range_g, gyr_range_dps
    OP_TIME_SYNC: struct.Struct("<IQ"),  # token, host_time_us
    OP_IDENTIFY: struct.Struct("<B"),  # seconds
    OP_SET_SIDE: struct.Struct("<B"),  # side
}
# Response payload layouts (after 0x80, request opcode, result), when result is OK.
_RSP_PAYLOAD = {
    OP_START: struct.Struct("<BIH"),  # samples_per_packet, period_ns, att_mtu
    OP_STOP: struct.Struct("<"),
    OP_SET_RATE: struct.Struct("<HI"),  # rate_hz (as chosen), period_ns
    OP_SET_RANGES: struct.Struct("<BHff"),  # acc_range_g, gyr_range_dps, acc_scale, gyr_scale
    OP_TIME_SYNC: struct.Struct("<IQQ"),  # token, host_time_us (echo), sensor_t_us
    OP_IDENTIFY: struct.Struct("<"),
    OP_SET_SIDE: struct.Struct("<B"),  # side
}


class ProtocolError(ValueError):
    """A control command or response that does not follow the protocol.

    ``result`` is the result code a sensor answers with (``RESULT_*``).
    """

    def __init__(self, result: int, message: str) -> None:
        self.result = result
        super().__init__(message)


@dataclass(frozen=True)
class ControlCommand:
    """A decoded control write; only the fields of its opcode are set."""

    opcode: int
    rate_hz: int | None = None
    acc_range_g: int | None = None
    gyr_range_dps: int | None = None
    token: int | None = None
    host_time_us: int | None = None
    seconds: int | None = None
    side: int | None = None

    @property
    def name(self) -> str:
        return OPCODE_NAMES.get(self.opcode, f"0x{self.opcode:02x}")


def encode_start() -> bytes:
    """START: begin streaming data notifications."""
    return bytes([OP_START])


def encode_stop() -> bytes:
    """STOP: stop streaming (the sequence counter keeps counting across STOP/START)."""
    return bytes([OP_STOP])


def encode_set_rate(rate_hz: int) -> bytes:
    """SET_RATE: requested sample rate in Hz, 50..1000 (the sensor picks its nearest ODR)."""
    _check_range("rate_hz", rate_hz, RATE_MIN_HZ, RATE_MAX_HZ)
    return bytes([OP_SET_RATE]) + _CMD_PARAMS[OP_SET_RATE].pack(rate_hz)


def encode_set_ranges(acc_range_g: int, gyr_range_dps: int) -> bytes:
    """SET_RANGES: accelerometer +-2/4/8/16 g, gyroscope +-125/250/500/1000/2000 deg/s."""
    if acc_range_g not in ACC_RANGES_G:
        raise ValueError(f"acc_range_g must be one of {ACC_RANGES_G}, got {acc_range_g!r}")
    if gyr_range_dps not in GYR_RANGES_DPS:
        raise ValueError(f"gyr_range_dps must be one of {GYR_RANGES_DPS}, got {gyr_range_dps!r}")
    return bytes([OP_SET_RANGES]) + _CMD_PARAMS[OP_SET_RANGES].pack(acc_range_g, gyr_range_dps)


def encode_time_sync(token: int, host_time_us: int) -> bytes:
    """TIME_SYNC: the sensor answers with ``token``, ``host_time_us`` and its own clock."""
    _check_range("token", token, 0, 2**32 - 1)
    _check_range("host_time_us", host_time_us, 0, 2**64 - 1)
    return bytes([OP_TIME_SYNC]) + _CMD_PARAMS[OP_TIME_SYNC].pack(token, host_time_us)


def encode_identify(seconds: int = 5) -> bytes:
    """IDENTIFY: blink the LED (or buzz) for ``seconds`` (1..60)."""
    _check_range("seconds", seconds, 1, IDENTIFY_MAX_S)
    return bytes([OP_IDENTIFY]) + _CMD_PARAMS[OP_IDENTIFY].pack(seconds)


def encode_set_side(side: int | str) -> bytes:
    """SET_SIDE: ``"left"``/``"right"`` (or 1/2), stored by the sensor across power cycles."""
    code = _side_code(side)
    return bytes([OP_SET_SIDE]) + _CMD_PARAMS[OP_SET_SIDE].pack(code)


def _side_code(side: int | str) -> int:
    if isinstance(side, str):
        for code, name in SIDE_NAMES.items():
            if name == side:
                return code
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    if side not in (SIDE_LEFT, SIDE_RIGHT):
        raise ValueError(f"side must be {SIDE_LEFT} (left) or {SIDE_RIGHT} (right), got {side!r}")
    return int(side)


def _check_range(name: str, value: int, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be in {lo}..{hi}, got {value}")


def decode_command(data: bytes) -> ControlCommand:
    """Parse a control write (sensor side: firmware, emulator).

    Raises
    ------
    ProtocolError
        With ``result`` UNKNOWN_OPCODE, INVALID_LENGTH or INVALID_PARAMETER.
    """
    data = bytes(data)
    if not data:
        raise ProtocolError(RESULT_INVALID_LENGTH, "empty control write")
    op = data[0]
    layout = _CMD_PARAMS.get(op)
    if layout is None:
        raise ProtocolError(RESULT_UNKNOWN_OPCODE, f"unknown opcode 0x{op:02x}")
    if len(data) != 1 + layout.size:
        raise ProtocolError(
            RESULT_INVALID_LENGTH,
            f"{OPCODE_NAMES[op]} takes {1 + layout.size} bytes, got {len(data)}",
        )
    values = layout.unpack_from(data, 1)
    if op == OP_SET_RATE:
        (rate,) = values
        if not RATE_MIN_HZ <= rate <= RATE_MAX_HZ:
            raise ProtocolError(RESULT_INVALID_PARAMETER, f"rate {rate} Hz not in 50..1000")
        return ControlCommand(op, rate_hz=rate)
    if op == OP_SET_RANGES:
        acc, gyr = values
        if acc not in ACC_RANGES_G or gyr not in GYR_RANGES_DPS:
            raise ProtocolError(RESULT_INVALID_PARAMETER, f"ranges {acc} g / {gyr} dps")
        return ControlCommand(op, acc_range_g=acc, gyr_range_dps=gyr)
    if op == OP_TIME_SYNC:
        token, host_us = values
        return ControlCommand(op, token=token, host_time_us=host_us)
    if op == OP_IDENTIFY:
        (seconds,) = values
        if not 1 <= seconds <= IDENTIFY_MAX_S:
            raise ProtocolError(RESULT_INVALID_PARAMETER, f"identify {seconds} s not in 1..60")
        return ControlCommand(op, seconds=seconds)
    if op == OP_SET_SIDE:
        (side,) = values
        if side not in (SIDE_LEFT, SIDE_RIGHT):
            raise ProtocolError(RESULT_INVALID_PARAMETER, f"side {side} is not 1 or 2")
        return ControlCommand(op, side=side)
    return ControlCommand(op)


@dataclass(frozen=True)
class ControlResponse:
    """A decoded response notification; fields beyond ``result`` only when it is OK.

    Attributes
    ----------
    request_opcode, result : int
    samples_per_packet, period_ns, att_mtu : int or None
        START: the batch size and actual sample period the stream will use.
    rate_hz : int or None
        SET_RATE: the rate chosen (the sensor's nearest output data rate); ``period_ns``
        the actual period.
    acc_range_g, gyr_range_dps : int or None
    acc_scale_mps2, gyr_scale_dps : float or None
        SET_RANGES: ranges set and their scales (per LSB).
    token, host_time_us, sensor_t_us : int or None
        TIME_SYNC: the token and host time echoed, and the sensor clock (µs) when the
        command was received.
    side : int or None
        SET_SIDE.
    """

    request_opcode: int
    result: int
    samples_per_packet: int | None = None
    period_ns: int | None = None
    att_mtu: int | None = None
    rate_hz: int | None = None
    acc_range_g: int | None = None
    gyr_range_dps: int | None = None
    acc_scale_mps2: float | None = None
    gyr_scale_dps: float | None = None
    token: int | None = None
    host_time_us: int | None = None
    sensor_t_us: int | None = None
    side: int | None = None

    @property
    def ok(self) -> bool:
        return self.result == RESULT_OK

    @property
    def result_name(self) -> str:
        return RESULT_NAMES.get(self.result, f"0x{self.result:02x}")


_RSP_FIELDS = {
    OP_START: ("samples_per_packet", "period_ns", "att_mtu"),
    OP_STOP: (),
    OP_SET_RATE: ("rate_hz", "period_ns"),
    OP_SET_RANGES: ("acc_range_g", "gyr_range_dps", "acc_scale_mps2", "gyr_scale_dps"),
    OP_TIME_SYNC: ("token", "host_time_us", "sensor_t_us"),
    OP_IDENTIFY: (),
    OP_SET_SIDE: ("side",),
}


def encode_response(request_opcode: int, result: int = RESULT_OK, **fields: float) -> bytes:
    """Response notification (sensor side): ``0x80, request_opcode, result, payload``.

    With ``result`` OK the payload holds the opcode's response fields (keyword arguments
    named as in :class:`ControlResponse`); otherwise it is empty.
    """
    if request_opcode not in _RSP_PAYLOAD:
        # An unknown opcode is answered with UNKNOWN_OPCODE and no payload.
        if result == RESULT_OK:
            raise ValueError(f"unknown opcode 0x{request_opcode:02x} cannot be answered OK")
        return bytes([OP_RESPONSE, request_opcode & 0xFF, result])
    head = bytes([OP_RESPONSE, request_opcode, result])
    if result != RESULT_OK:
        return head
    names = _RSP_FIELDS[request_opcode]
    if set(fields) != set(names):
        raise ValueError(f"{OPCODE_NAMES[request_opcode]} response needs fields {names}")
    return head + _RSP_PAYLOAD[request_opcode].pack(*(fields[n] for n in names))


def decode_response(data: bytes) -> ControlResponse:
    """Parse a response notification from the control characteristic (host side).

    Raises
    ------
    ProtocolError
        Not a response, or a payload of the wrong length for an OK result.
    """
    data = bytes(data)
    if len(data) < 3 or data[0] != OP_RESPONSE:
        raise ProtocolError(RESULT_INVALID_LENGTH, f"not a control response: {data[:8].hex()}")
    op, result = data[1], data[2]
    if result != RESULT_OK or op not in _RSP_PAYLOAD:
        return ControlResponse(op, result)
    layout = _RSP_PAYLOAD[op]
    if len(data) != 3 + layout.size:
        raise ProtocolError(
            RESULT_INVALID_LENGTH,
            f"{OPCODE_NAMES[op]} response has {len(data)} bytes, expected {3 + layout.size}",
        )
    values = layout.unpack_from(data, 3)
    return ControlResponse(op, result, **dict(zip(_RSP_FIELDS[op], values, strict=True)))


# ---------------------------------------------------------------------------------------------
# Status characteristic
# ---------------------------------------------------------------------------------------------

STATUS_VERSION = 1
IMU_PARTS = {0: "other", 1: "LSM6DSO", 2: "BMI270", 3: "ICM-42688-P"}
STATE_IDLE, STATE_STREAMING = 0, 1
STATUS_ERR_BATTERY_LOW = 0x01
STATUS_ERR_IMU_FAULT = 0x02
STATUS_ERR_OVERFLOW = 0x04
BATTERY_UNKNOWN = 0xFF

_STATUS_STRUCT = struct.Struct("<BBBBHHIffBBHQHHBBBB")
STATUS_SIZE = _STATUS_STRUCT.size
assert STATUS_SIZE == 40


@dataclass(frozen=True)
class SensorStatus:
    """The status characteristic (40 bytes, little-endian; see ``protocol.md``).

    Attributes
    ----------
    state : int
        0 idle, 1 streaming.
    side : int
        0 unset, 1 left, 2 right.
    battery_pct : int
        0..100, 255 unknown.
    battery_mv : int
        Battery voltage in mV, 0 unknown.
    rate_hz : int
        Rate chosen by the last SET_RATE (nominal).
    period_ns : int
        Actual sample period on the sensor clock, ns.
    acc_scale_mps2, gyr_scale_dps : float
        Scales per LSB.
    acc_range_g, gyr_range_dps : int
    imu_part : int
        0 other, 1 LSM6DSO, 2 BMI270, 3 ICM-42688-P.
    sensor_t_us : int
        Sensor clock when the value was produced (µs since power-on).
    next_seq : int
        Sequence number the next data packet will carry.
    att_mtu : int
        ATT MTU of the current connection.
    firmware : tuple of int
        (major, minor, patch).
    errors : int
        Bit 0 battery low, bit 1 IMU fault, bit 2 FIFO overflow since the last status.
    """

    state: int
    side: int
    battery_pct: int
    battery_mv: int
    rate_hz: int
    period_ns: int
    acc_scale_mps2: float
    gyr_scale_dps: float
    acc_range_g: int
    imu_part: int
    gyr_range_dps: int
    sensor_t_us: int
    next_seq: int
    att_mtu: int
    firmware: tuple[int, int, int]
    errors: int = 0


def encode_status(status: SensorStatus) -> bytes:
    """The 40-byte status value."""
    s = status
    return _STATUS_STRUCT.pack(
        STATUS_VERSION,
        s.state,
        s.side,
        s.battery_pct,
        s.battery_mv,
        s.rate_hz,
        s.period_ns,
        s.acc_scale_mps2,
        s.gyr_scale_dps,
        s.acc_range_g,
        s.imu_part,
        s.gyr_range_dps,
        s.sensor_t_us,
        s.next_seq,
        s.att_mtu,
        *s.firmware,
        s.errors,
    )


def decode_status(data: bytes) -> SensorStatus:
    """Parse the status value; longer values (later versions) are read up to 40 bytes.

    Raises
    ------
    ProtocolError
        Shorter than 40 bytes or version 0.
    """
    data = bytes(data)
    if len(data) < STATUS_SIZE or data[0] == 0:
        raise ProtocolError(RESULT_INVALID_LENGTH, f"status of {len(data)} bytes / version 0")
    v = _STATUS_STRUCT.unpack_from(data, 0)
    return SensorStatus(
        state=v[1],
        side=v[2],
        battery_pct=v[3],
        battery_mv=v[4],
        rate_hz=v[5],
        period_ns=v[6],
        acc_scale_mps2=v[7],
        gyr_scale_dps=v[8],
        acc_range_g=v[9],
        imu_part=v[10],
        gyr_range_dps=v[11],
        sensor_t_us=v[12],
        next_seq=v[13],
        att_mtu=v[14],
        firmware=(v[15], v[16], v[17]),
        errors=v[18],
    )


# ---------------------------------------------------------------------------------------------
# Data packets: encode and decode
# ---------------------------------------------------------------------------------------------


def quantize(values: np.ndarray, scale: float) -> np.ndarray:
    """Physical values -> int16 counts at ``scale`` units per LSB, saturating like a sensor.

    Parameters
    ----------
    values : array_like, shape (n, 3)
        m/s^2 (with ``acc_scale``) or deg/s (with ``gyr_scale``).
    scale : float
        Units per LSB, positive.

    Returns
    -------
    ndarray of int16, shape (n, 3)
        ``round(values / scale)`` clipped to -32768..32767.
    """
    counts = np.rint(np.asarray(values, dtype=np.float64) / float(scale))
    return np.clip(counts, -32768, 32767).astype(np.int16)


def encode_packet(
    seq: int,
    t_us: int,
    raw: np.ndarray,
    *,
    period_ns: int,
    acc_scale_mps2: float,
    gyr_scale_dps: float,
    flags: int = 0,
    version: int = PROTOCOL_VERSION,
) -> bytes:
    """One data notification (sensor side: emulator, tests).

    Parameters
    ----------
    seq : int
        Packet counter, taken modulo 65536.
    t_us : int
        Sensor clock (µs) at the first sample, taken modulo 2**48.
    raw : array_like of int, shape (n, 6)
        Counts ``ax, ay, az, gx, gy, gz``, 1 <= n <= 255, each within int16.
    period_ns : int
        Sample period on the sensor clock, ns (1..2**32-1).
    acc_scale_mps2, gyr_scale_dps : float
        m/s^2 and deg/s per LSB, positive.
    flags : int
        ``FLAG_*`` bits (side in bits 0-1).
    version : int
        Only for making malformed packets in tests.

    Returns
    -------
    bytes
        ``24 + 12 n`` bytes.
    """
    arr = np.asarray(raw)
    if arr.ndim != 2 or arr.shape[1] != 6 or not 1 <= arr.shape[0] <= MAX_SAMPLES_PER_PACKET:
        raise ValueError(f"raw must have shape (n, 6) with 1 <= n <= 255, got {arr.shape}")
    if arr.size and (arr.min() < -32768 or arr.max() > 32767):
        raise ValueError("raw counts must fit in int16")
    if not 0 < int(period_ns) < 2**32:
        raise ValueError(f"period_ns must be in 1..2**32-1, got {period_ns}")
    for name, scale in (("acc_scale_mps2", acc_scale_mps2), ("gyr_scale_dps", gyr_scale_dps)):
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"{name} must be positive and finite, got {scale}")
    t = int(t_us) % T_US_MODULUS
    head = _HEADER_STRUCT.pack(
        version & 0xFF,
        flags & 0xFF,
        int(seq) & 0xFFFF,
        arr.shape[0],
        0,
        t & 0xFFFFFFFF,
        t >> 32,
        int(period_ns),
        acc_scale_mps2,
        gyr_scale_dps,
    )
    return head + arr.astype("<i2").tobytes()


MALFORMED_REASONS = ("not_bytes", "length", "version", "count", "field")


@dataclass(frozen=True)
class DecodedBatch:
    """Valid packets of one :func:`decode_packets` call, in input order.

    Attributes
    ----------
    n_input : int
        Items given to the decoder.
    source_index : ndarray of int64, shape (p,)
        Position of each valid packet in the input.
    flags : ndarray of uint8, shape (p,)
    seq : ndarray of int64, shape (p,)
        0..65535.
    t_us : ndarray of int64, shape (p,)
        Sensor clock at each packet's first sample, µs.
    period_ns : ndarray of int64, shape (p,)
    acc_scale_mps2, gyr_scale_dps : ndarray of float64, shape (p,)
    sample_start : ndarray of int64, shape (p + 1,)
        Packet ``i`` holds samples ``sample_start[i]:sample_start[i + 1]``.
    raw : ndarray of int16, shape (m, 6)
        Counts ``ax, ay, az, gx, gy, gz``.
    malformed : dict of str to int
        Skipped inputs by reason: ``not_bytes``, ``length`` (not 24 + 12 n with n >= 1),
        ``version``, ``count`` (header count disagrees with the length), ``field``
        (period 0, scale not positive and finite).
    """

    n_input: int
    source_index: np.ndarray
    flags: np.ndarray
    seq: np.ndarray
    t_us: np.ndarray
    period_ns: np.ndarray
    acc_scale_mps2: np.ndarray
    gyr_scale_dps: np.ndarray
    sample_start: np.ndarray
    raw: np.ndarray
    malformed: dict[str, int] = field(default_factory=dict)

    @property
    def n_packets(self) -> int:
        return int(self.seq.shape[0])

    @property
    def n_samples(self) -> int:
        return int(self.raw.shape[0])

    @property
    def n_malformed(self) -> int:
        return int(sum(self.malformed.values()))

    @property
    def count(self) -> np.ndarray:
        """Samples per packet, shape (p,)."""
        return np.diff(self.sample_start)

    @property
    def packet_of_sample(self) -> np.ndarray:
        """Index of the packet of each sample, shape (m,)."""
        return np.repeat(np.arange(self.n_packets), self.count)

    @property
    def acc_mps2(self) -> np.ndarray:
        """Specific force, shape (m, 3), m/s^2."""
        scale = np.repeat(self.acc_scale_mps2, self.count)
        return self.raw[:, :3] * scale[:, None]

    @property
    def gyr_dps(self) -> np.ndarray:
        """Angular rate, shape (m, 3), deg/s."""
        scale = np.repeat(self.gyr_scale_dps, self.count)
        return self.raw[:, 3:] * scale[:, None]

    @property
    def sample_t_us(self) -> np.ndarray:
        """Sensor clock of each sample, µs (float64), shape (m,)."""
        count = self.count
        k = np.arange(self.n_samples) - np.repeat(self.sample_start[:-1], count)
        return np.repeat(self.t_us, count) + k * np.repeat(self.period_ns, count) * 1e-3


def _empty_batch(n_input: int, malformed: dict[str, int]) -> DecodedBatch:
    i64 = np.zeros(0, dtype=np.int64)
    return DecodedBatch(
        n_input=n_input,
        source_index=i64,
        flags=np.zeros(0, dtype=np.uint8),
        seq=i64,
        t_us=i64,
        period_ns=i64,
        acc_scale_mps2=np.zeros(0),
        gyr_scale_dps=np.zeros(0),
        sample_start=np.zeros(1, dtype=np.int64),
        raw=np.zeros((0, 6), dtype=np.int16),
        malformed=malformed,
    )


def decode_packets(packets: Sequence[bytes]) -> DecodedBatch:
    """Decode data notifications, vectorized; never raises on any input.

    Packets are grouped by length; each group is joined and read at once with
    :func:`numpy.frombuffer` through :func:`packet_dtype`. Anything malformed is counted
    in ``malformed`` and skipped.

    Parameters
    ----------
    packets : sequence of bytes
        Notification values in arrival order (``bytearray``/``memoryview`` accepted).

    Returns
    -------
    DecodedBatch
        The valid packets in input order with their samples.
    """
    malformed = dict.fromkeys(MALFORMED_REASONS, 0)
    try:
        items = list(packets)
    except Exception:  # not iterable at all
        malformed["not_bytes"] += 1
        return _empty_batch(1, malformed)
    n_input = len(items)
    lengths = np.full(n_input, -1, dtype=np.int64)
    for i, item in enumerate(items):
        if isinstance(item, (bytes, bytearray)):
            lengths[i] = len(item)
        elif isinstance(item, memoryview):
            items[i] = item = item.tobytes()
            lengths[i] = len(item)
    malformed["not_bytes"] = int(np.count_nonzero(lengths < 0))
    body = lengths - HEADER_SIZE
    good_len = (body >= SAMPLE_SIZE) & (body % SAMPLE_SIZE == 0)
    good_len &= body <= SAMPLE_SIZE * MAX_SAMPLES_PER_PACKET
    malformed["length"] = int(np.count_nonzero(~good_len & (lengths >= 0)))

    parts: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []  # (n, src, header, raw)
    for length in np.unique(lengths[good_len]):
        idx = np.flatnonzero(lengths == length)
        n = int(length - HEADER_SIZE) // SAMPLE_SIZE
        recs = np.frombuffer(b"".join([items[i] for i in idx]), dtype=packet_dtype(n))
        ok = recs["version"] == PROTOCOL_VERSION
        malformed["version"] += int(np.count_nonzero(~ok))
        count_ok = recs["count"] == n
        malformed["count"] += int(np.count_nonzero(ok & ~count_ok))
        ok &= count_ok
        with np.errstate(invalid="ignore", over="ignore"):
            fields_ok = (recs["period_ns"] > 0) & (recs["acc_scale"] > 0) & (recs["gyr_scale"] > 0)
            fields_ok &= np.isfinite(recs["acc_scale"]) & np.isfinite(recs["gyr_scale"])
        malformed["field"] += int(np.count_nonzero(ok & ~fields_ok))
        ok &= fields_ok
        if ok.any():
            good = recs[ok]
            parts.append((n, idx[ok], good, good["samples"].reshape(-1, 6)))

    malformed = {k: v for k, v in malformed.items() if v}
    if not parts:
        return _empty_batch(n_input, malformed)

    src = np.concatenate([p[1] for p in parts])
    heads = [p[2] for p in parts]
    count = np.concatenate([np.full(p[2].shape[0], p[0], dtype=np.int64) for p in parts])
    raw_grouped = np.concatenate([p[3] for p in parts])

    def col(name: str, dtype: type) -> np.ndarray:
        return np.concatenate([h[name].astype(dtype) for h in heads])

    order = np.argsort(src, kind="stable")
    start_grouped = np.concatenate([[0], np.cumsum(count)])[:-1]
    count_o = count[order]
    sample_start = np.concatenate([[0], np.cumsum(count_o)]).astype(np.int64)
    within = np.arange(sample_start[-1]) - np.repeat(sample_start[:-1], count_o)
    gather = np.repeat(start_grouped[order], count_o) + within
    t_us = col("t_lo", np.int64) + (col("t_hi", np.int64) << 32)
    return DecodedBatch(
        n_input=n_input,
        source_index=src[order].astype(np.int64),
        flags=col("flags", np.uint8)[order],
        seq=col("seq", np.int64)[order],
        t_us=t_us[order],
        period_ns=col("period_ns", np.int64)[order],
        acc_scale_mps2=col("acc_scale", np.float64)[order],
        gyr_scale_dps=col("gyr_scale", np.float64)[order],
        sample_start=sample_start,
        raw=np.ascontiguousarray(raw_grouped[gather]),
        malformed=malformed,
    )


# ---------------------------------------------------------------------------------------------
# Sensor clock -> host clock
# ---------------------------------------------------------------------------------------------

#: Below this span of sensor time the drift is not estimated (taken as 0).
MIN_DRIFT_SPAN_S = 2.0
_CLOCK_WINDOWS = 512


@dataclass(frozen=True)
class ClockMap:
    """Sensor clock -> host clock: ``host = t + offset_s + slope_minus_1 * (t - ref_s)``.

    The map is the lower envelope of (sensor time, host arrival time): where a sample would
    have arrived with the smallest transport delay seen. BLE delay is one-sided (never
    negative), so the envelope is the best line from arrival times alone; it still includes
    the link's minimum latency (typically a few ms), which arrival times cannot reveal.

    Attributes
    ----------
    ref_s : float
        Sensor time (s) the map is anchored at.
    offset_s : float
        ``host - sensor`` at ``ref_s``, s.
    slope_minus_1 : float
        ``d host / d sensor - 1``.
    n_points : int
        Arrivals the fit used.
    span_s : float
        Sensor-time span of those arrivals, s.
    median_excess_delay_s : float
        Median of the arrivals' delay above the envelope, s (the link's jitter).
    """

    ref_s: float
    offset_s: float
    slope_minus_1: float
    n_points: int
    span_s: float
    median_excess_delay_s: float

    @property
    def sensor_drift_ppm(self) -> float:
        """How fast the sensor clock runs against the host clock, ppm (+ = sensor fast)."""
        return (1.0 / (1.0 + self.slope_minus_1) - 1.0) * 1e6

    def to_host_s(self, t_s: np.ndarray | float) -> np.ndarray:
        """Sensor times (s) -> host times (s), same shape."""
        t = np.asarray(t_s, dtype=np.float64)
        return t + self.offset_s + self.slope_minus_1 * (t - self.ref_s)

    def to_sensor_s(self, host_s: np.ndarray | float) -> np.ndarray:
        """Host times (s) -> sensor times (s), same shape."""
        h = np.asarray(host_s, dtype=np.float64)
        return self.ref_s + (h - self.ref_s - self.offset_s) / (1.0 + self.slope_minus_1)


def _lower_hull(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower convex hull of points sorted by x (monotone chain over a few hundred points)."""
    hx: list[float] = []
    hy: list[float] = []
    for xi, yi in zip(x.tolist(), y.tolist(), strict=True):
        if hx and xi == hx[-1]:
            if yi >= hy[-1]:
                continue
            hx.pop()
            hy.pop()
        while (
            len(hx) >= 2
            and (hx[-1] - hx[-2]) * (yi - hy[-2]) - (hy[-1] - hy[-2]) * (xi - hx[-2]) <= 0
        ):
            hx.pop()
            hy.pop()
        hx.append(xi)
        hy.append(yi)
    return np.array(hx), np.array(hy)


def _envelope_line(x: np.ndarray, r: np.ndarray) -> tuple[float, float]:
    """(intercept at x=0, slope) of the lower-envelope line of ``r`` against ``x``.

    Among lines below every point, the one minimizing the summed distance to the points
    (Moon, Skelly & Towsley 1999) is the hull edge above the mean of ``x``. The points are
    first reduced to one minimum per window of ``x``.
    """
    span = float(x.max())
    k = min(x.shape[0], _CLOCK_WINDOWS)
    bins = np.minimum((x / span * k).astype(np.int64), k - 1)
    order = np.lexsort((r, bins))
    first = np.ones(order.shape[0], dtype=bool)
    first[1:] = bins[order][1:] != bins[order][:-1]
    sel = order[first]  # bins ascending -> x nearly ascending
    sel = sel[np.argsort(x[sel], kind="stable")]
    hx, hy = _lower_hull(x[sel], r[sel])
    if hx.shape[0] < 2:
        return float(hy[0]), 0.0
    xm = float(x.mean())
    j = int(np.clip(np.searchsorted(hx, xm) - 1, 0, hx.shape[0] - 2))
    slope = (hy[j + 1] - hy[j]) / (hx[j + 1] - hx[j])
    return float(hy[j] - slope * hx[j]), float(slope)


def estimate_clock(sensor_s: np.ndarray, host_s: np.ndarray) -> ClockMap | None:
    """Fit the sensor -> host clock map from packet arrivals.

    Parameters
    ----------
    sensor_s : array_like, shape (n,)
        Sensor time of the newest sample in each packet, s.
    host_s : array_like, shape (n,)
        Host arrival time of each packet, s (a clock that never steps, e.g. monotonic).

    Returns
    -------
    ClockMap or None
        None without any finite point. Under ``MIN_DRIFT_SPAN_S`` of sensor time the drift
        is taken as 0 and the offset is the smallest ``host - sensor``.
    """
    x_all = np.asarray(sensor_s, dtype=np.float64).ravel()
    y_all = np.asarray(host_s, dtype=np.float64).ravel()
    keep = np.isfinite(x_all) & np.isfinite(y_all)
    x_all, y_all = x_all[keep], y_all[keep]
    n = int(x_all.shape[0])
    if n == 0:
        return None
    ref = float(x_all.min())
    x = x_all - ref
    r = y_all - x_all
    span = float(x.max())
    if n < 3 or span < MIN_DRIFT_SPAN_S:
        offset, slope = float(r.min()), 0.0
    else:
        # Two passes: the second takes window minima of the detrended residual, so they are
        # the envelope's candidates even where the drift is large against the window width.
        _, s1 = _envelope_line(x, r)
        a2, s2 = _envelope_line(x, r - s1 * x)
        offset, slope = a2, s1 + s2
    excess = r - (offset + slope * x)
    return ClockMap(
        ref_s=ref,
        offset_s=offset,
        slope_minus_1=slope,
        n_points=n,
        span_s=span,
        median_excess_delay_s=float(np.median(excess)),
    )


# ---------------------------------------------------------------------------------------------
# Stream assembly
# ---------------------------------------------------------------------------------------------

_SEQ_MOD = 1 << 16
#: Over this much sensor time between two arrivals, the sequence wrap count is taken from the
#: timestamps (a u16 counter wraps every ~20 min at 1 kHz and 18 samples per packet).
_LONG_GAP_US = 30_000_000
_MIN_PACKET_US = 100.0  # below this the packets' own timing is implausible: no time-aided unwrap
_MAX_WRAPS = 1 << 24


@dataclass(frozen=True)
class Gap:
    """Samples missing between two received packets (nothing is invented in their place).

    Attributes
    ----------
    after_t_s : float
        Sensor time of the last sample before the gap, s.
    before_t_s : float
        Sensor time of the first sample after it, s.
    first_missing_seq : int
        Unwrapped sequence number of the first missing packet (``-1`` when no packet is
        missing: the sensor itself lost samples, or a STOP/START pause).
    missing_packets : int
    missing_samples : int
        Estimated from the time span and the sample period.
    reason : str
        ``"lost packets"``, ``"sensor overflow"`` (OVERFLOW flag or a time jump with
        contiguous sequence numbers) or ``"restart"`` (a STOP/START pause).
    """

    after_t_s: float
    before_t_s: float
    first_missing_seq: int
    missing_packets: int
    missing_samples: int
    reason: str

    @property
    def duration_s(self) -> float:
        return self.before_t_s - self.after_t_s


@dataclass(frozen=True)
class LinkStats:
    """Packet accounting of one sensor's stream.

    Attributes
    ----------
    packets_received : int
        Valid packets given to the assembler (duplicates included).
    packets_malformed : int
        Inputs the decoder skipped.
    packets_used : int
        Distinct packets whose samples were emitted.
    packets_duplicate : int
    packets_late : int
        Arrived after their place in the stream had been emitted; dropped.
    packets_out_of_order : int
        Arrived after a packet with a higher sequence number (duplicates included).
    packets_lost : int
        Sequence numbers never received between the first and the last packet used.
    samples : int
        Samples emitted.
    samples_dropped : int
        Samples not after the previous sample's time (overlapping packets); dropped.
    gaps : int
    malformed_by_reason : dict of str to int
    """

    packets_received: int
    packets_malformed: int
    packets_used: int
    packets_duplicate: int
    packets_late: int
    packets_out_of_order: int
    packets_lost: int
    samples: int
    samples_dropped: int
    gaps: int
    malformed_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def loss_fraction(self) -> float:
        """Lost packets over the packets sent between the first and last used, 0..1."""
        sent = self.packets_used + self.packets_lost
        return self.packets_lost / sent if sent else 0.0


@dataclass(frozen=True)
class StreamChunk:
    """Samples released by one :meth:`StreamAssembler.pop_ready` call, in time order.

    Attributes
    ----------
    t_s : ndarray, shape (n,)
        Sensor clock, s, strictly increasing (also across chunks).
    acc_mps2 : ndarray, shape (n, 3)
    gyr_dps : ndarray, shape (n, 3)
    gaps : tuple of Gap
        Gaps that end within this chunk (or at its start).
    """

    t_s: np.ndarray
    acc_mps2: np.ndarray
    gyr_dps: np.ndarray
    gaps: tuple[Gap, ...] = ()

    def __len__(self) -> int:
        return int(self.t_s.shape[0])


@dataclass(frozen=True)
class AssembledStream:
    """One sensor's whole stream.

    Attributes
    ----------
    t_s : ndarray, shape (n,)
        Sensor clock, s, strictly increasing; gaps left as gaps.
    acc_mps2 : ndarray, shape (n, 3)
        Specific force, m/s^2, sensor axes.
    gyr_dps : ndarray, shape (n, 3)
        Angular rate, deg/s, sensor axes.
    gaps : tuple of Gap
    stats : LinkStats
    clock : ClockMap or None
        Sensor -> host clock; None when nothing arrived.
    period_s : float
        Median sample period reported by the sensor, s (nan when empty).
    """

    t_s: np.ndarray
    acc_mps2: np.ndarray
    gyr_dps: np.ndarray
    gaps: tuple[Gap, ...]
    stats: LinkStats
    clock: ClockMap | None
    period_s: float

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    @property
    def fs_hz(self) -> float:
        """Sample rate from the sensor's reported period, Hz."""
        return 1.0 / self.period_s if self.period_s > 0 else math.nan

    def host_s(self) -> np.ndarray:
        """Each sample's time on the host clock (see :class:`ClockMap`), shape (n,)."""
        if self.clock is None:
            return np.full(self.t_s.shape, np.nan)
        return self.clock.to_host_s(self.t_s)


@dataclass
class _Packets:
    """Columns of packets plus their samples (internal to the assembler)."""

    ext: np.ndarray  # unwrapped sequence number, int64
    arrival: np.ndarray  # arrival counter, int64
    flags: np.ndarray
    t_us: np.ndarray
    period_ns: np.ndarray
    acc_scale: np.ndarray
    gyr_scale: np.ndarray
    host_s: np.ndarray
    start: np.ndarray  # (p + 1,) offsets into raw
    raw: np.ndarray  # (m, 6) int16

    _COLS = ("ext", "arrival", "flags", "t_us", "period_ns", "acc_scale", "gyr_scale", "host_s")

    def __len__(self) -> int:
        return int(self.ext.shape[0])

    @property
    def count(self) -> np.ndarray:
        return np.diff(self.start)

    def take(self, idx: np.ndarray) -> _Packets:
        count = self.count[idx]
        start = np.concatenate([[0], np.cumsum(count)]).astype(np.int64)
        within = np.arange(start[-1]) - np.repeat(start[:-1], count)
        gather = np.repeat(self.start[:-1][idx], count) + within
        cols = {c: getattr(self, c)[idx] for c in self._COLS}
        return _Packets(**cols, start=start, raw=self.raw[gather])

    @staticmethod
    def concat(parts: list[_Packets]) -> _Packets:
        if len(parts) == 1:
            return parts[0]
        cols = {c: np.concatenate([getattr(p, c) for p in parts]) for c in _Packets._COLS}
        count = np.concatenate([p.count for p in parts])
        start = np.concatenate([[0], np.cumsum(count)]).astype(np.int64)
        return _Packets(**cols, start=start, raw=np.concatenate([p.raw for p in parts]))


class StreamAssembler:
    """Packets of one sensor, as they arrive, -> samples in order with gaps marked.

    Sequence numbers (u16) are unwrapped against the previous arrival (after a long silence,
    against the time stamps), so a stream may run for any length of time. Packets are held
    back until ``hold_packets`` newer ones have arrived, which puts reordered packets in
    place; duplicates are dropped; a packet arriving after its place was released is
    counted as late and dropped. Samples keep their sensor times: missing packets leave a
    gap in ``t_s``, never invented samples. Every arrival also feeds the clock fit
    (:func:`estimate_clock`).

    Parameters
    ----------
    hold_packets : int
        Reordering window in packets (default 32, about 0.6 s at 1 kHz).
    keep : bool
        Keep everything released, for :meth:`stream` (default True).

    Notes
    -----
    A sensor reboot (sequence and clock restart from 0) is not followed: the packets after
    it count as late. The recorder should start a new raw log when the status shows one.
    """

    def __init__(self, *, hold_packets: int = 32, keep: bool = True) -> None:
        if hold_packets < 0:
            raise ValueError("hold_packets must be >= 0")
        self.hold_packets = int(hold_packets)
        self.keep = keep
        self._pending: list[_Packets] = []
        self._arrivals = 0
        self._ref: tuple[int, int] | None = None  # (ext, t_us) of the previous arrival
        self._first: tuple[int, int] | None = None  # (ext, t_us) of the first arrival
        self._max_ext: int | None = None
        self._emitted_max: int | None = None
        self._first_emitted = 0
        self._last: tuple[float, float, float] | None = None  # last t, expected next t, period
        self._last_t_s = -math.inf
        self._gap_lo: list[int] = []
        self._gap_hi: list[int] = []
        self._gaps: list[Gap] = []
        self._chunks: list[StreamChunk] = []
        self._clock_x: list[np.ndarray] = []
        self._clock_y: list[np.ndarray] = []
        self._periods: list[np.ndarray] = []
        self._n = dict.fromkeys(
            ("received", "used", "dup", "late", "ooo", "lost", "samples", "dropped"), 0
        )
        self._malformed: dict[str, int] = {}

    # -- input ------------------------------------------------------------------------------

    def add(self, batch: DecodedBatch, host_time_s: np.ndarray | float) -> None:
        """Take a decoded batch.

        Parameters
        ----------
        batch : DecodedBatch
            From :func:`decode_packets` (its malformed counts are added to the stats).
        host_time_s : float or array_like, shape (batch.n_input,)
            Host arrival time of each input item (or one time for all), s.
        """
        for reason, n in batch.malformed.items():
            self._malformed[reason] = self._malformed.get(reason, 0) + n
        p = batch.n_packets
        if p == 0:
            return
        host = np.asarray(host_time_s, dtype=np.float64)
        if host.ndim == 0:
            host = np.full(p, float(host))
        elif host.shape == (batch.n_input,):
            host = host[batch.source_index]
        else:
            raise ValueError(
                f"host_time_s must be a scalar or shape ({batch.n_input},), got {host.shape}"
            )
        ext = self._unwrap(batch.seq, batch.t_us)
        running = np.maximum.accumulate(ext)
        if self._max_ext is not None:
            running = np.maximum(running, self._max_ext)
        prior = np.concatenate([[running[0]], running[:-1]])
        self._n["ooo"] += int(np.count_nonzero(ext < prior))
        self._max_ext = int(running[-1])
        self._n["received"] += p
        arrival = self._arrivals + np.arange(p, dtype=np.int64)
        self._arrivals += p
        self._pending.append(
            _Packets(
                ext=ext,
                arrival=arrival,
                flags=batch.flags,
                t_us=batch.t_us,
                period_ns=batch.period_ns,
                acc_scale=batch.acc_scale_mps2,
                gyr_scale=batch.gyr_scale_dps,
                host_s=host,
                start=batch.sample_start,
                raw=batch.raw,
            )
        )

    def add_packets(self, packets: Sequence[bytes], host_time_s: np.ndarray | float) -> None:
        """Decode ``packets`` (:func:`decode_packets`) and :meth:`add` them."""
        self.add(decode_packets(packets), host_time_s)

    def add_time_sync(self, sensor_t_us: int, host_receive_s: float) -> None:
        """A TIME_SYNC answer as one more clock point (sensor clock, host arrival time)."""
        self._clock_x.append(np.array([sensor_t_us * 1e-6]))
        self._clock_y.append(np.array([float(host_receive_s)]))

    def _unwrap(self, seq: np.ndarray, t_us: np.ndarray) -> np.ndarray:
        """Unwrapped sequence numbers, each against the previous arrival (per packet)."""
        out = np.empty(seq.shape[0], dtype=np.int64)
        ref = self._ref
        first = self._first
        for i, (s, t) in enumerate(zip(seq.tolist(), t_us.tolist(), strict=True)):
            if ref is None:
                e = s
                first = (e, t)
            else:
                ref_e, ref_t = ref
                e = ref_e + (s - ref_e + _SEQ_MOD // 2) % _SEQ_MOD - _SEQ_MOD // 2
                dt = t - ref_t
                if abs(dt) > _LONG_GAP_US and first is not None and ref_e > first[0]:
                    per_packet_us = (ref_t - first[1]) / (ref_e - first[0])
                    if per_packet_us >= _MIN_PACKET_US:
                        predicted = ref_e + dt / per_packet_us
                        wraps = round((predicted - e) / _SEQ_MOD)
                        e += _SEQ_MOD * max(-_MAX_WRAPS, min(_MAX_WRAPS, wraps))
            out[i] = e
            ref = (e, t)
        self._ref = ref
        self._first = first
        return out

    # -- output -----------------------------------------------------------------------------

    def pop_ready(self) -> StreamChunk:
        """Release the samples of packets at least ``hold_packets`` behind the newest."""
        if self._max_ext is None:
            return self._emit(None)
        return self._emit(self._max_ext - self.hold_packets)

    def finish(self) -> StreamChunk:
        """Release everything still held (end of the stream)."""
        return self._emit(None)

    def _in_gaps(self, ext: np.ndarray) -> np.ndarray:
        if not self._gap_lo:
            return np.zeros(ext.shape, dtype=bool)
        lo = np.asarray(self._gap_lo)
        hi = np.asarray(self._gap_hi)
        j = np.searchsorted(lo, ext, side="right") - 1
        return (j >= 0) & (ext <= hi[np.maximum(j, 0)])

    def _emit(self, limit: int | None) -> StreamChunk:
        empty = StreamChunk(np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3)))
        if not self._pending:
            return empty
        pk = _Packets.concat(self._pending)
        self._pending = []
        if self._emitted_max is not None:
            late = pk.ext <= self._emitted_max
            if late.any():
                ext_late = pk.ext[late]
                in_gap = self._in_gaps(ext_late) | (ext_late < self._first_emitted)
                self._n["late"] += int(np.count_nonzero(in_gap))
                self._n["dup"] += int(np.count_nonzero(~in_gap))
                pk = pk.take(np.flatnonzero(~late))
        ready = np.ones(len(pk), dtype=bool) if limit is None else pk.ext <= limit
        if not ready.all():
            self._pending = [pk.take(np.flatnonzero(~ready))]
        if not ready.any():
            return empty
        pk = pk.take(np.flatnonzero(ready))
        order = np.lexsort((pk.arrival, pk.ext))
        ext_sorted = pk.ext[order]
        first = np.ones(order.shape[0], dtype=bool)
        first[1:] = ext_sorted[1:] != ext_sorted[:-1]
        self._n["dup"] += int(np.count_nonzero(~first))
        pk = pk.take(order[first])
        p = len(pk)
        count = pk.count

        # Sample times and values.
        k = np.arange(pk.start[-1]) - np.repeat(pk.start[:-1], count)
        period_s = pk.period_ns * 1e-9
        t = np.repeat(pk.t_us * 1e-6, count) + k * np.repeat(period_s, count)
        acc = pk.raw[:, :3] * np.repeat(pk.acc_scale, count)[:, None]
        gyr = pk.raw[:, 3:] * np.repeat(pk.gyr_scale, count)[:, None]
        before = np.maximum.accumulate(np.concatenate([[self._last_t_s], t]))[:-1]
        keep = t > before
        n_drop = int(np.count_nonzero(~keep))

        # Gaps: with the previous packet (the last one released before, then each other).
        first_t = pk.t_us * 1e-6
        last_t = first_t + (count - 1) * period_s
        next_t = first_t + count * period_s
        if self._emitted_max is not None and self._last is not None:
            prev_ext = np.concatenate([[self._emitted_max], pk.ext[:-1]])
            prev_last = np.concatenate([[self._last[0]], last_t[:-1]])
            prev_next = np.concatenate([[self._last[1]], next_t[:-1]])
            lo = 0
        else:
            prev_ext = np.concatenate([[pk.ext[0] - 1], pk.ext[:-1]])
            prev_last = np.concatenate([[first_t[0] - period_s[0]], last_t[:-1]])
            prev_next = np.concatenate([[first_t[0]], next_t[:-1]])
            lo = 1  # the first packet ever has no predecessor
        missing = pk.ext - prev_ext - 1
        jump = first_t - prev_next > 0.5 * period_s
        overflow = (pk.flags & FLAG_OVERFLOW) != 0
        restart = (pk.flags & FLAG_START) != 0
        is_gap = (missing > 0) | jump | overflow
        is_gap[:lo] = False
        new_gaps: list[Gap] = []
        for i in np.flatnonzero(is_gap).tolist():
            m = int(missing[i])
            span = first_t[i] - prev_last[i]
            if m > 0:
                reason = "lost packets"
                self._gap_lo.append(int(prev_ext[i]) + 1)
                self._gap_hi.append(int(pk.ext[i]) - 1)
            elif restart[i]:
                reason = "restart"
            else:
                reason = "sensor overflow"
            gap = Gap(
                after_t_s=float(prev_last[i]),
                before_t_s=float(first_t[i]),
                first_missing_seq=int(prev_ext[i]) + 1 if m > 0 else -1,
                missing_packets=m,
                missing_samples=max(0, round(span / period_s[i]) - 1),
                reason=reason,
            )
            new_gaps.append(gap)
            self._n["lost"] += m
        self._gaps.extend(new_gaps)

        if self._emitted_max is None:
            self._first_emitted = int(pk.ext[0])
        self._emitted_max = int(pk.ext[-1])
        self._last = (float(last_t[-1]), float(next_t[-1]), float(period_s[-1]))
        if keep.any():
            self._last_t_s = float(t[keep][-1])
        self._n["used"] += p
        self._n["samples"] += int(np.count_nonzero(keep))
        self._n["dropped"] += n_drop
        self._clock_x.append(last_t)
        self._clock_y.append(pk.host_s)
        self._periods.append(period_s)
        chunk = StreamChunk(t[keep], acc[keep], gyr[keep], tuple(new_gaps))
        if self.keep:
            self._chunks.append(chunk)
        return chunk

    @property
    def stats(self) -> LinkStats:
        """Packet accounting so far."""
        n = self._n
        return LinkStats(
            packets_received=n["received"],
            packets_malformed=int(sum(self._malformed.values())),
            packets_used=n["used"],
            packets_duplicate=n["dup"],
            packets_late=n["late"],
            packets_out_of_order=n["ooo"],
            packets_lost=n["lost"],
            samples=n["samples"],
            samples_dropped=n["dropped"],
            gaps=len(self._gaps),
            malformed_by_reason=dict(self._malformed),
        )

    @property
    def gaps(self) -> tuple[Gap, ...]:
        return tuple(self._gaps)

    def clock_map(self) -> ClockMap | None:
        """The sensor -> host clock map from every released packet (and time syncs)."""
        if not self._clock_x:
            return None
        return estimate_clock(np.concatenate(self._clock_x), np.concatenate(self._clock_y))

    def stream(self) -> AssembledStream:
        """Everything released so far (needs ``keep=True``); call :meth:`finish` first."""
        if not self.keep:
            raise RuntimeError("StreamAssembler(keep=False) does not keep the samples")
        chunks = [c for c in self._chunks if len(c)]
        if chunks:
            t = np.concatenate([c.t_s for c in chunks])
            acc = np.concatenate([c.acc_mps2 for c in chunks])
            gyr = np.concatenate([c.gyr_dps for c in chunks])
        else:
            t, acc, gyr = np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3))
        periods = np.concatenate(self._periods) if self._periods else np.zeros(0)
        return AssembledStream(
            t_s=t,
            acc_mps2=acc,
            gyr_dps=gyr,
            gaps=self.gaps,
            stats=self.stats,
            clock=self.clock_map(),
            period_s=float(np.median(periods)) if periods.size else math.nan,
        )


def assemble(
    packets: Sequence[bytes] | DecodedBatch, host_time_s: np.ndarray | float
) -> AssembledStream:
    """Decode (unless already decoded) and assemble a whole stream at once.

    Parameters
    ----------
    packets : sequence of bytes or DecodedBatch
        Notifications in arrival order.
    host_time_s : float or array_like, shape (len(packets),)
        Their host arrival times, s.
    """
    batch = packets if isinstance(packets, DecodedBatch) else decode_packets(packets)
    asm = StreamAssembler(hold_packets=0)
    asm.add(batch, host_time_s)
    asm.finish()
    return asm.stream()


def host_times(streams: Mapping[str, AssembledStream]) -> dict[str, np.ndarray]:
    """Several sensors (e.g. ``{"left": ..., "right": ...}``) on the one host clock, s."""
    return {name: s.host_s() for name, s in streams.items()}
