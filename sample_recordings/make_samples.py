"""Regenerate the bundled sample recordings (all SYNTHETIC, with truth files).

Run from the repository root: ``python sample_recordings/make_samples.py``.
"""

import json
from pathlib import Path

from imu.recording import write_recording
from imu.synth.gait import StridesSetup, two_sensor_session
from imu.synth.hops import PogoSetup, pogo_session
from imu.synth.scenarios import HeelRaiseSetup, Tempo, heel_raise_session

HERE = Path(__file__).parent

SAMPLES = {
    # Two sets of 8 straight-knee raises on flat ground, 2-1-3-0 attempted, one partial
    # rep and one dropped rep in the second set, walking between the sets.
    "heel_raise_left.csv": dict(
        seed=7,
        fs_hz=400.0,
        mounting="laces",
        packet_loss=0.002,
        setup=HeelRaiseSetup(
            n_sets=2,
            reps_per_set=(8, 8),
            tempo=Tempo(2.0, 1.0, 3.0, 0.5),
            rom_deg=32.0,
            fatigue_rom=0.12,
            fatigue_down=0.25,
            partial_reps=(6,),
            dropped_reps=(7,),
            rest_between_sets_s=25.0,
        ),
    ),
    # Bent-knee raises on a step (heel below step level at the bottom), 100 Hz, sensor
    # on the heel counter, a faster tempo than prescribed 2-1-3-0.
    "heel_raise_step_right.csv": dict(
        seed=11,
        fs_hz=100.0,
        mounting="heel",
        side="right",
        setup=HeelRaiseSetup(
            n_sets=1,
            reps_per_set=(12,),
            tempo=Tempo(1.2, 0.3, 1.5, 0.3),
            on_step=True,
            bent_knee=True,
            rom_deg=20.0,
            walk_between_sets=False,
        ),
    ),
}

POGO_SAMPLES = {
    # Two 15 s rounds of double-leg pogo jumps at 400 Hz, sensor on the laces, 25 s of
    # rest between them, a little fatigue (contacts lengthen through each round).
    "pogo_rounds_left.csv": dict(
        seed=5,
        fs_hz=400.0,
        mounting="laces",
        packet_loss=0.002,
        setup=PogoSetup(
            kind="pogo",
            n_rounds=2,
            round_s=15.0,
            contact_ms=175.0,
            flight_ms=320.0,
            fatigue=0.08,
            rest_between_rounds_s=25.0,
            walk_between_rounds=False,
        ),
    ),
}

# Three 15 s stride reps at 6 m/s with a 25 s walk back after each, a sensor on each shoe
# (laces) at 200 Hz, each on its own clock (started 0.5-5 s apart, drifting); the right
# foot's contacts 4 % longer than the left's.
STRIDES = dict(
    seed=8,
    exercise="strides",
    fs_hz=200.0,
    mounting="laces",
    packet_loss=0.002,
    setup=StridesSetup(
        n_reps=3, rep_s=15.0, speed_mps=6.0, strike="midfoot", asymmetry=0.04, walk_back_s=25.0
    ),
)

if __name__ == "__main__":
    left, right, truth = two_sensor_session(**STRIDES)
    for side, rec in (("left", left), ("right", right)):
        write_recording(HERE / f"strides_{side}.csv", rec)
        print(f"strides_{side}.csv", len(rec), "samples")
    (HERE / "strides.truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    jobs = [(heel_raise_session, n, kw) for n, kw in SAMPLES.items()]
    jobs += [(pogo_session, n, kw) for n, kw in POGO_SAMPLES.items()]
    for make, name, kw in jobs:
        rec, truth = make(**kw)
        write_recording(HERE / name, rec)
        (HERE / (name + ".truth.json")).write_text(json.dumps(truth, indent=1) + "\n")
        print(name, len(rec), "samples")
