"""Tests for the ``ankle-imu-csv/1`` reader and writer (:mod:`imu.recording`)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import imu.recording as recording
from imu.recording import (
    COLUMNS,
    FORMAT_NAME,
    Recording,
    RecordingError,
    read_recording,
    write_recording,
)

COLUMN_ROW = ",".join(COLUMNS)
# Three header lines, column row on line 4, first data row on line 5.
HEADER = f"# format: {FORMAT_NAME}\n# sample_rate_hz: 100\n# side: left\n"
COL_LINE = 4
FIRST_DATA_LINE = 5


def data_rows(n: int, t0: float = 0.0) -> list[str]:
    """``n`` valid data rows at 100 Hz, accelerations about 9.81 m/s^2 along z."""
    return [
        f"{t0 + i / 100:.6f},0.10000,-0.20000,9.81000,{i % 7 - 3}.50000,0.25000,-1.00000"
        for i in range(n)
    ]


def write_text(tmp_path: Path, text: str, name: str = "rec.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def valid_text(n: int = 5) -> str:
    return HEADER + COLUMN_ROW + "\n" + "\n".join(data_rows(n)) + "\n"


def with_row(row_index: int, new_row: str, n: int = 5) -> str:
    rows = data_rows(n)
    rows[row_index] = new_row
    return HEADER + COLUMN_ROW + "\n" + "\n".join(rows) + "\n"


def read_error(path: Path, **kwargs: float) -> RecordingError:
    with pytest.raises(RecordingError) as info:
        read_recording(path, **kwargs)
    err = info.value
    assert str(path) in str(err)
    return err


def synthetic_recording(n: int = 400, fs_hz: float = 400.0, seed: int = 1) -> Recording:
    rng = np.random.default_rng(seed)
    t_s = 3.25 + np.arange(n) / fs_hz + rng.uniform(0, 1e-4, n)
    acc = rng.normal(0.0, 2.0, (n, 3))
    acc[:, 1] += 9.81
    gyr = rng.normal(0.0, 120.0, (n, 3))
    meta = {
        "sample_rate_hz": "400",
        "side": "right",
        "sensor": "Acme IMU v2, firmware 1.3",
        "body_mass_kg": "71.5",
        "unknown_key": "kept: even with a colon",
        "empty": "",
    }
    return Recording(t_s=t_s, acc_mps2=acc, gyr_dps=gyr, fs_hz=fs_hz, meta=meta)


# --------------------------------------------------------------------------------------------
# Round trip and valid files
# --------------------------------------------------------------------------------------------


def test_round_trip_preserves_arrays_meta_and_rate(tmp_path: Path) -> None:
    rec = synthetic_recording()
    path = tmp_path / "round.csv"
    write_recording(path, rec)
    back = read_recording(path)

    assert back.fs_hz == 400.0
    assert back.meta == rec.meta
    assert list(back.meta) == list(rec.meta)
    assert back.path == str(path)
    assert back.t_s.shape == (400,) and back.t_s.dtype == np.float64
    assert back.acc_mps2.shape == (400, 3) and back.acc_mps2.dtype == np.float64
    assert back.gyr_dps.shape == (400, 3) and back.gyr_dps.dtype == np.float64
    assert back.acc_mps2.flags.c_contiguous and back.gyr_dps.flags.c_contiguous
    np.testing.assert_allclose(back.t_s, rec.t_s, rtol=0, atol=0.5e-6 + 1e-9)
    np.testing.assert_allclose(back.acc_mps2, rec.acc_mps2, rtol=0, atol=0.5e-5 + 1e-9)
    np.testing.assert_allclose(back.gyr_dps, rec.gyr_dps, rtol=0, atol=0.5e-5 + 1e-9)
    assert not (tmp_path / "round.csv.tmp").exists()

    # Writing what was read gives the same file again.
    again = tmp_path / "again.csv"
    write_recording(again, back)
    assert again.read_bytes() == path.read_bytes()


def test_written_header_layout(tmp_path: Path) -> None:
    rec = synthetic_recording(n=3)
    rec.meta = {"side": "left", "sample_rate_hz": "400.0", "sensor": "x"}
    path = tmp_path / "h.csv"
    write_recording(path, rec, note="calf raises, set 2")
    lines = path.read_text().splitlines()
    assert lines[:6] == [
        f"# format: {FORMAT_NAME}",
        "# sample_rate_hz: 400.0",
        "# side: left",
        "# sensor: x",
        "# note: calf raises, set 2",
        COLUMN_ROW,
    ]
    first = lines[6].split(",")
    assert len(first) == 7
    assert len(first[0].split(".")[1]) == 6
    assert all(len(v.split(".")[1]) == 5 for v in first[1:])
    back = read_recording(path)
    assert back.meta == {
        "sample_rate_hz": "400.0",
        "side": "left",
        "sensor": "x",
        "note": "calf raises, set 2",
    }


def test_note_argument_does_not_override_meta_note(tmp_path: Path) -> None:
    rec = synthetic_recording(n=3)
    rec.meta = {"note": "from meta"}
    path = tmp_path / "n.csv"
    write_recording(path, rec, note="from argument")
    text = path.read_text()
    assert text.count("# note:") == 1
    assert read_recording(path).meta == {"sample_rate_hz": "400", "note": "from meta"}


def test_sample_rate_written_from_fs_when_meta_disagrees(tmp_path: Path) -> None:
    rec = synthetic_recording(n=3, fs_hz=104.5)
    path = tmp_path / "fs.csv"
    write_recording(path, rec)
    back = read_recording(path)
    assert back.fs_hz == 104.5
    assert back.meta["sample_rate_hz"] == "104.5"


def test_negative_and_small_values_are_formatted_exactly(tmp_path: Path) -> None:
    t_s = np.array([0.0, 0.0000014, 1.5])
    acc = np.array([[-0.000004, 0.000006, 9.81], [-1.5, -0.123456, 9.8], [123.456789, 0, -9.81]])
    gyr = np.array([[-0.0, -2000.0, 0.00001], [1e-7, -1e-7, 7.0], [-0.000006, 0.000006, 1.0]])
    path = tmp_path / "fmt.csv"
    write_recording(path, Recording(t_s, acc, gyr, 100.0))
    assert path.read_text().splitlines()[3:] == [
        "0.000000,0.00000,0.00001,9.81000,0.00000,-2000.00000,0.00001",
        "0.000001,-1.50000,-0.12346,9.80000,0.00000,0.00000,7.00000",
        "1.500000,123.45679,0.00000,-9.81000,-0.00001,0.00001,1.00000",
    ]
    back = read_recording(path)
    np.testing.assert_allclose(back.acc_mps2, acc, rtol=0, atol=0.5e-5 + 1e-12)
    np.testing.assert_allclose(back.gyr_dps, gyr, rtol=0, atol=0.5e-5 + 1e-12)


def test_reads_hand_written_file_with_blank_lines_crlf_and_spaces(tmp_path: Path) -> None:
    text = (
        "\r\n"
        f"# format: {FORMAT_NAME}\r\n"
        "\r\n"
        "#sample_rate_hz:200\r\n"
        "# athlete:  Jo Doe  \r\n"
        f"  {COLUMN_ROW}  \r\n"
        "0.000,0.1,0.2,9.8,1,2,3\r\n"
        "\r\n"
        "0.005, -0.1 ,0.2,9.8,-1,-2,-3\r\n"
        "0.010,1e-1,+.5,9.8E0,1.,2,3"
    )
    rec = read_recording(write_text(tmp_path, text))
    assert rec.fs_hz == 200.0
    assert rec.meta == {"sample_rate_hz": "200", "athlete": "Jo Doe"}
    np.testing.assert_array_equal(rec.t_s, [0.0, 0.005, 0.010])
    np.testing.assert_array_equal(rec.acc_mps2[:, 0], [0.1, -0.1, 0.1])
    np.testing.assert_array_equal(rec.acc_mps2[2], [0.1, 0.5, 9.8])
    np.testing.assert_array_equal(rec.gyr_dps[1], [-1.0, -2.0, -3.0])


def test_min_rate_accepts_equal_rate(tmp_path: Path) -> None:
    rec = read_recording(write_text(tmp_path, valid_text()), min_rate_hz=100.0)
    assert len(rec) == 5


# --------------------------------------------------------------------------------------------
# Errors: header, column row, file
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        pytest.param(
            "# format: ankle-imu-csv/2\n# sample_rate_hz: 100\n" + COLUMN_ROW + "\n",
            1,
            "unsupported format 'ankle-imu-csv/2'",
            id="wrong-format",
        ),
        pytest.param(
            "# sample_rate_hz: 100\n# side: left\n" + COLUMN_ROW + "\n" + "\n".join(data_rows(3)),
            3,
            "missing header line '# format: ankle-imu-csv/1'",
            id="no-format",
        ),
        pytest.param(
            f"# format: {FORMAT_NAME}\n\n# side: left\n{COLUMN_ROW}\n" + "\n".join(data_rows(3)),
            4,
            "missing header line '# sample_rate_hz",
            id="no-rate",
        ),
        pytest.param(
            f"# format: {FORMAT_NAME}\n# side: left\n# sample_rate_hz: fast\n{COLUMN_ROW}\n",
            3,
            "sample_rate_hz 'fast' is not a number",
            id="rate-not-number",
        ),
        pytest.param(
            f"# format: {FORMAT_NAME}\n# sample_rate_hz: 0\n{COLUMN_ROW}\n",
            2,
            "positive finite number",
            id="rate-zero",
        ),
        pytest.param(
            f"# format: {FORMAT_NAME}\n# sample_rate_hz: -400\n{COLUMN_ROW}\n",
            2,
            "positive finite number",
            id="rate-negative",
        ),
        pytest.param(
            f"# format: {FORMAT_NAME}\n# sample_rate_hz: inf\n{COLUMN_ROW}\n",
            2,
            "positive finite number",
            id="rate-inf",
        ),
        pytest.param(
            f"# format: {FORMAT_NAME}\n# sample_rate_hz: nan\n{COLUMN_ROW}\n",
            2,
            "positive finite number",
            id="rate-nan",
        ),
        pytest.param(
            f"# format: {FORMAT_NAME}\n\n# sample_rate_hz: 100\n# recorded on the track\n"
            f"{COLUMN_ROW}\n",
            4,
            "header line has no ':'",
            id="header-no-colon",
        ),
        pytest.param(
            f"# format: {FORMAT_NAME}\n# sample_rate_hz: 100\n# : value\n{COLUMN_ROW}\n",
            3,
            "empty key",
            id="header-empty-key",
        ),
        pytest.param(
            f"# format: {FORMAT_NAME}\n# sample_rate_hz: 100\n# side: left\n# side: right\n"
            f"{COLUMN_ROW}\n",
            4,
            "header key 'side' repeated (first on line 3)",
            id="header-duplicate-key",
        ),
        pytest.param(
            HEADER + "t,acc_x,acc_y,acc_z,gyr_x,gyr_y\n" + "\n".join(data_rows(3)),
            COL_LINE,
            "missing column gyr_z",
            id="column-missing",
        ),
        pytest.param(
            HEADER + "t,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyro_z\n" + "\n".join(data_rows(3)),
            COL_LINE,
            "missing column gyr_z; unexpected column 'gyro_z'",
            id="column-renamed",
        ),
        pytest.param(
            HEADER + COLUMN_ROW + ",temp\n",
            COL_LINE,
            "unexpected column 'temp'",
            id="column-extra",
        ),
        pytest.param(
            HEADER + "t,acc_y,acc_x,acc_z,gyr_x,gyr_y,gyr_z\n",
            COL_LINE,
            "columns out of order",
            id="column-order",
        ),
        pytest.param(
            HEADER + "\n".join(data_rows(3)) + "\n",
            COL_LINE,
            "column row missing",
            id="column-row-absent",
        ),
    ],
)
def test_header_and_column_errors(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    path = write_text(tmp_path, text)
    err = read_error(path)
    assert err.line == line
    assert fragment in err.problem
    assert f"{path}:{line}: " in str(err)


def test_rate_below_minimum(tmp_path: Path) -> None:
    text = f"# format: {FORMAT_NAME}\n# side: left\n# sample_rate_hz: 20\n{COLUMN_ROW}\n"
    text += "\n".join(data_rows(5)) + "\n"
    path = write_text(tmp_path, text)
    err = read_error(path, min_rate_hz=50)
    assert err.line == 3
    assert err.problem == "sample_rate_hz 20 is below the 50 Hz this analysis needs"
    assert len(read_recording(path, min_rate_hz=20)) == 5


def test_missing_file(tmp_path: Path) -> None:
    err = read_error(tmp_path / "nope.csv")
    assert err.line is None
    assert err.problem.startswith("cannot read file:")


def test_empty_file(tmp_path: Path) -> None:
    err = read_error(write_text(tmp_path, ""))
    assert err.line is None
    assert err.problem.startswith("cannot read file:")


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    err = read_error(tmp_path)
    assert err.line is None
    assert err.problem.startswith("cannot read file:")


def test_header_without_column_row(tmp_path: Path) -> None:
    err = read_error(write_text(tmp_path, HEADER + "\n"))
    assert "file ends before the column row" in err.problem


# --------------------------------------------------------------------------------------------
# Errors: data rows
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row_index", "row", "fragment"),
    [
        (2, "0.020000,0.1,0.2,9.8,1,2", "expected 7 values, found 6"),
        (0, "0.000000,0.1,0.2,9.8,1,2,3,4", "expected 7 values, found 8"),
        (4, "0.040000,0.1,0.2,9.8,1,abc,3", "value 'abc' in column gyr_y is not a number"),
        (1, "0.010000,0.1,,9.8,1,2,3", "empty value in column acc_y"),
        (3, '0.030000,0.1,0.2,"9.8",1,2,3', "value '\"9.8\"' in column acc_z is not a number"),
        (3, "0.030000,0.1,0.2,9.8,1,2,NA", "value 'NA' in column gyr_z is not a number"),
        (1, "   ", "expected 7 values, found 1"),
        (2, "# a comment", "expected 7 values, found 1"),
        (2, "0.020000,0.1,0.2,9.8,1_0,2,3", "value '1_0' in column gyr_x is not a number"),
    ],
)
def test_malformed_row(tmp_path: Path, row_index: int, row: str, fragment: str) -> None:
    err = read_error(write_text(tmp_path, with_row(row_index, row)))
    assert err.line == FIRST_DATA_LINE + row_index
    assert fragment in err.problem


@pytest.mark.parametrize(
    ("row_index", "row", "fragment"),
    [
        (2, "0.020000,0.1,nan,9.8,1,2,3", "NaN in column acc_y"),
        (4, "0.040000,0.1,0.2,9.8,1,2,-inf", "infinite value in column gyr_z"),
        (0, "inf,0.1,0.2,9.8,1,2,3", "infinite value in column t"),
        (3, "0.030000,1e999,0.2,9.8,1,2,3", "infinite value in column acc_x"),
        (1, "0.010000,0.1,0.2,9.8,NaN,2,3", "NaN in column gyr_x"),
    ],
)
def test_non_finite_values(tmp_path: Path, row_index: int, row: str, fragment: str) -> None:
    err = read_error(write_text(tmp_path, with_row(row_index, row)))
    assert err.line == FIRST_DATA_LINE + row_index
    assert fragment in err.problem


def test_non_finite_value_reported_even_when_a_later_row_is_malformed(tmp_path: Path) -> None:
    rows = data_rows(6)
    rows[1] = "0.010000,0.1,0.2,nan,1,2,3"
    rows[4] = "0.040000,0.1,0.2,9.8,1,2"
    path = write_text(tmp_path, HEADER + COLUMN_ROW + "\n" + "\n".join(rows) + "\n")
    err = read_error(path)
    assert err.line == FIRST_DATA_LINE + 1
    assert "NaN in column acc_z" in err.problem


def test_t_repeats(tmp_path: Path) -> None:
    err = read_error(write_text(tmp_path, with_row(3, data_rows(5)[2])))
    assert err.line == FIRST_DATA_LINE + 3
    assert "t repeats 0.02 s" in err.problem


def test_t_decreases(tmp_path: Path) -> None:
    err = read_error(write_text(tmp_path, with_row(2, "0.005,0.1,0.2,9.8,1,2,3")))
    assert err.line == FIRST_DATA_LINE + 2
    assert "t decreases from 0.01 s to 0.005 s" in err.problem


def test_line_numbers_count_blank_lines_in_data(tmp_path: Path) -> None:
    rows = data_rows(6)
    text = HEADER + COLUMN_ROW + "\n" + "\n".join(rows[:2]) + "\n\n\n" + rows[2] + "\n"
    text += "0.030000,0.1,0.2,9.8,1,2,nan\n" + "\n".join(rows[4:]) + "\n"
    # Lines: 5, 6 rows; 7, 8 blank; 9 row 2; 10 the NaN row.
    err = read_error(write_text(tmp_path, text))
    assert err.line == 10
    bad_t = text.replace("0.030000,0.1,0.2,9.8,1,2,nan", "0.015000,0.1,0.2,9.8,1,2,3")
    err = read_error(write_text(tmp_path, bad_t))
    assert err.line == 10
    assert "t decreases" in err.problem


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (HEADER + COLUMN_ROW, 0),
        (HEADER + COLUMN_ROW + "\n", 0),
        (HEADER + COLUMN_ROW + "\n\n", 0),
        (HEADER + COLUMN_ROW + "\n" + data_rows(1)[0] + "\n", 1),
        (HEADER + COLUMN_ROW + "\n" + data_rows(1)[0], 1),
    ],
)
def test_fewer_than_two_samples(tmp_path: Path, text: str, found: int) -> None:
    err = read_error(write_text(tmp_path, text))
    assert err.line == COL_LINE
    assert err.problem == f"need at least 2 samples, found {found}"


def test_accelerations_in_g(tmp_path: Path) -> None:
    rows = [f"{i / 100:.6f},0.01,0.02,1.0,1,2,3" for i in range(10)]
    path = write_text(tmp_path, HEADER + COLUMN_ROW + "\n" + "\n".join(rows) + "\n")
    err = read_error(path)
    assert err.line == COL_LINE
    assert err.problem == "accelerations look like g, not m/s^2 (median |acc| = 1.00)"


def test_non_utf8_bytes_in_data(tmp_path: Path) -> None:
    path = tmp_path / "bytes.csv"
    rows = data_rows(4)
    raw = (HEADER + COLUMN_ROW + "\n" + "\n".join(rows[:2]) + "\n").encode()
    raw += b"0.020000,0.1,0.2,9.8,1,2,\xff3\n" + (rows[3] + "\n").encode()
    path.write_bytes(raw)
    err = read_error(path)
    assert err.line == FIRST_DATA_LINE + 2
    assert "in column gyr_z is not a number" in err.problem


def test_non_utf8_bytes_in_header(tmp_path: Path) -> None:
    path = tmp_path / "bytes.csv"
    path.write_bytes(HEADER.encode() + b"# sensor: \xff\n" + COLUMN_ROW.encode() + b"\n")
    err = read_error(path)
    assert err.line == 4
    assert "UTF-8" in err.problem


# --------------------------------------------------------------------------------------------
# Property: one corrupted data line is always reported as a RecordingError on that line
# --------------------------------------------------------------------------------------------

# Characters that can never turn a field into a number arrow accepts (no digits, signs,
# points, blanks, exponent or nan/inf letters); "," changes the number of fields instead.
JUNK = st.text(alphabet="xyzXYZqQ#;:?!@/*&%$|'\"_,", min_size=1, max_size=4)


@st.composite
def corrupted_file(draw: st.DrawFn) -> tuple[str, int]:
    n = draw(st.integers(min_value=2, max_value=30))
    rows = data_rows(n)
    bad = draw(st.integers(min_value=0, max_value=n - 1))
    fields = rows[bad].split(",")
    kind = draw(st.sampled_from(["delete", "insert", "nonfinite", "empty", "t_repeat"]))
    if kind == "t_repeat" and bad == 0:
        kind = "delete"
    if kind == "delete":
        del fields[draw(st.integers(min_value=0, max_value=6))]
        line_text = ",".join(fields)
    elif kind == "insert":
        line_text = ",".join(fields)
        pos = draw(st.integers(min_value=0, max_value=len(line_text)))
        line_text = line_text[:pos] + draw(JUNK) + line_text[pos:]
    elif kind == "nonfinite":
        token = draw(st.sampled_from(["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e999"]))
        fields[draw(st.integers(min_value=0, max_value=6))] = token
        line_text = ",".join(fields)
    elif kind == "empty":
        fields[draw(st.integers(min_value=0, max_value=6))] = ""
        line_text = ",".join(fields)
    else:  # t_repeat
        fields[0] = rows[bad - 1].split(",")[0]
        line_text = ",".join(fields)
    rows[bad] = line_text

    # Optional blank lines between data rows, before the corrupted one or after it.
    blank_before = draw(st.lists(st.integers(min_value=0, max_value=n - 1), max_size=3))
    header_blanks = draw(st.integers(min_value=0, max_value=2))
    lines = [f"# format: {FORMAT_NAME}", "", "# sample_rate_hz: 100"]
    lines += [""] * header_blanks + [COLUMN_ROW]
    bad_line = 0
    for i, row in enumerate(rows):
        lines += [""] * blank_before.count(i)
        lines.append(row)
        if i == bad:
            bad_line = len(lines)
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines) + newline, bad_line


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=corrupted_file())
def test_one_corrupted_line_is_reported_on_that_line(tmp_path: Path, case: tuple[str, int]) -> None:
    text, bad_line = case
    path = write_text(tmp_path, text, name="corrupt.csv")
    with pytest.raises(RecordingError) as info:
        read_recording(path)
    assert info.value.line == bad_line, str(info.value)
    assert str(info.value).startswith(f"{path}:{bad_line}: ")


# --------------------------------------------------------------------------------------------
# Writer: refusals and atomicity
# --------------------------------------------------------------------------------------------


def test_write_refuses_non_finite_values(tmp_path: Path) -> None:
    rec = synthetic_recording(n=5)
    rec.gyr_dps[2, 1] = np.nan
    with pytest.raises(ValueError, match="gyr_dps"):
        write_recording(tmp_path / "x.csv", rec)
    assert list(tmp_path.iterdir()) == []


def test_write_refuses_t_not_increasing_after_rounding(tmp_path: Path) -> None:
    rec = synthetic_recording(n=5)
    rec.t_s = np.array([0.0, 0.01, 0.0100000001, 0.03, 0.04])
    with pytest.raises(ValueError, match=r"not strictly increasing.*row 2"):
        write_recording(tmp_path / "x.csv", rec)


def test_write_refuses_bad_shapes(tmp_path: Path) -> None:
    rec = synthetic_recording(n=5)
    rec.acc_mps2 = rec.acc_mps2[:4]
    with pytest.raises(ValueError, match="shapes"):
        write_recording(tmp_path / "x.csv", rec)


@pytest.mark.parametrize(
    "meta",
    [{"side": "left\nright"}, {"bad:key": "x"}, {"format": "other"}, {"side": " left"}],
)
def test_write_refuses_meta_that_cannot_round_trip(tmp_path: Path, meta: dict[str, str]) -> None:
    rec = synthetic_recording(n=5)
    rec.meta = meta
    with pytest.raises(ValueError):
        write_recording(tmp_path / "x.csv", rec)


def test_failed_write_keeps_old_file_and_removes_tmp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "keep.csv"
    write_recording(path, synthetic_recording(n=10))
    before = path.read_bytes()

    def explode(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(recording, "_rows_bytes", explode)
    with pytest.raises(OSError, match="disk full"):
        write_recording(path, synthetic_recording(n=20, seed=2))
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["keep.csv"]


def test_write_accepts_pathlike_and_str(tmp_path: Path) -> None:
    rec = synthetic_recording(n=5)
    write_recording(str(tmp_path / "a.csv"), rec)
    write_recording(tmp_path / "b.csv", rec)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
