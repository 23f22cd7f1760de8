"""Sensor side of ankle-motion: where samples come from.

Recordings (``ankle-imu-csv/1``), the motion synthesizer, and later the BLE client.
Data flows one way: bytes or files -> samples -> foot motion -> events -> measures.
"""
