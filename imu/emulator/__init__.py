"""Emulated ankle-motion sensors on Google's bumble stack (optional extra ``emulate``).

* :mod:`imu.emulator.peripheral`: :class:`VirtualSensor` (the protocol of
  ``firmware_notes/protocol.md`` on a bumble device), :class:`EmulatorServer` and
  :func:`serve` (sensors served over TCP on 127.0.0.1 to other processes).
* :mod:`imu.emulator.backend`: a bleak backend over a bumble host, so that unchanged
  ``BleakScanner`` / ``BleakClient`` calls (``backend=``) reach the virtual sensors, in
  process or through ``ANKLE_BLE_EMULATOR=tcp:127.0.0.1:PORT``.

Real hardware needs none of this: :mod:`imu.ble` uses bleak's default backend.
"""

from __future__ import annotations

try:
    import bumble  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "the sensor emulator needs bumble: pip install 'ankle-motion[emulate]'"
    ) from exc

from imu.emulator.backend import (
    ENV_VAR,
    BumbleClient,
    BumbleScanner,
    close_hosts,
    emulator_backend,
    set_default_target,
)
from imu.emulator.peripheral import (
    EmulatorServer,
    Faults,
    SensorStats,
    VirtualSensor,
    VirtualTimeEventLoop,
    advertising_data,
    run_in_virtual_time,
    serve,
    synthesized_recording,
)

__all__ = [
    "ENV_VAR",
    "BumbleClient",
    "BumbleScanner",
    "EmulatorServer",
    "Faults",
    "SensorStats",
    "VirtualSensor",
    "VirtualTimeEventLoop",
    "advertising_data",
    "close_hosts",
    "run_in_virtual_time",
    "emulator_backend",
    "serve",
    "set_default_target",
    "synthesized_recording",
]
