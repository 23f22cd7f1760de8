"""The ``ankle`` command as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_recordings" / "heel_raise_left.csv"


def ankle(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, cwd=REPO
    )


def test_json_contract_on_bundled_sample():
    out = ankle("analyze", str(SAMPLE), "--exercise", "heel-raise", "--tempo", "2-1-3-0", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    truth = json.loads(Path(str(SAMPLE) + ".truth.json").read_text())
    assert doc["exercise"] == "heel-raise" and doc["sample_rate_hz"] == 400.0
    assert len(doc["reps"]) == len(truth["reps"])
    for rep in doc["reps"]:
        for key in (
            "start_s",
            "top_start_s",
            "top_end_s",
            "end_s",
            "concentric_s",
            "hold_s",
            "eccentric_s",
            "rom_deg",
            "clean",
        ):
            assert key in rep
        if rep["start_s"] is not None and rep["top_start_s"] is not None:
            assert rep["concentric_s"] == pytest.approx(
                rep["top_start_s"] - rep["start_s"], abs=2e-3
            )
    assert [s["reps"] for s in doc["sets"]] == [s["reps"] for s in truth["sets"]]
    assert set(doc["sets"][0]) >= {"start_s", "end_s", "reps"}


def test_table_report_names_sets_and_reps():
    out = ankle("analyze", str(SAMPLE), "--exercise", "heel-raise")
    assert out.returncode == 0, out.stderr
    assert "16 reps in 2 set(s)" in out.stdout
    assert "Set 2:" in out.stdout


@pytest.mark.parametrize(
    "content,needle",
    [
        (
            "# format: ankle-imu-csv/1\n# sample_rate_hz: 20\nt,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n"
            "0,0,0,9.8,0,0,0\n0.05,0,0,9.8,0,0,0\n",
            "below the 50 Hz",
        ),
        (
            "# format: ankle-imu-csv/1\n# sample_rate_hz: 100\nt,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n"
            "0,0,0,1.0,0,0,0\n0.01,0,0,1.0,0,0,0\n",
            "look like g",
        ),
        (
            "# format: ankle-imu-csv/1\n# sample_rate_hz: 100\nt,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n"
            "0,0,0,9.8,0,0,0\n0.01,0,0,9.8,0,0\n",
            "expected 7",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, content, needle):
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    out = ankle("analyze", str(bad), "--exercise", "heel-raise")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and needle in lines[0], out.stderr


def test_bad_tempo_is_one_line_exit_2():
    out = ankle("analyze", str(SAMPLE), "--exercise", "heel-raise", "--tempo", "2-1-x-0")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "--tempo" in out.stderr
