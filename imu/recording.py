"""The ``ankle-imu-csv/1`` recording format and the :class:`Recording` type.

Format (one sensor per file)::

    # format: ankle-imu-csv/1
    # sample_rate_hz: 400
    # side: left
    # sensor: free text
    t,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z
    0.000000,0.31,9.79,0.52,0.12,-0.40,0.05

* ``# key: value`` lines precede the column row. ``format`` and ``sample_rate_hz``
  (nominal) are required; every other key (``side``, ``sensor``, ``body_mass_kg``,
  ``foot_length_cm``, ``exercise``, ``athlete``, unknown ones) is optional and kept.
* ``t``: seconds on the sensor clock, strictly increasing; gaps from lost packets allowed.
* ``acc_*``: specific force in m/s^2 (about +9.81 along the axis pointing up at rest).
* ``gyr_*``: angular rate in deg/s. Right-handed sensor axes in any orientation.

Frame convention of the project (see ``analysis/orientation.py``): the *foot frame* has
x forward (heel to toe), y to the left, z up, right-handed. Foot pitch is the rotation
about +y, so positive pitch is toe-down / heel-up (plantarflexion), zero when the sole
is level. Inside the code everything is SI except where a name says otherwise
(``gyr_dps``, ``contact_ms``).
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TextIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

FORMAT_NAME = "ankle-imu-csv/1"
COL_T = "t"
ACC_COLS = ("acc_x", "acc_y", "acc_z")
GYR_COLS = ("gyr_x", "gyr_y", "gyr_z")
COLUMNS = (COL_T, *ACC_COLS, *GYR_COLS)
STANDARD_GRAVITY = 9.80665  # m/s^2


class RecordingError(ValueError):
    """A recording that cannot be used; ``str(err)`` is one line naming file, line, problem."""

    def __init__(self, path: str | None, problem: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        where = str(path) if path is not None else "<recording>"
        if line is not None:
            where += f":{line}"
        super().__init__(f"{where}: {problem}")


@dataclass
class Recording:
    """One sensor's samples.

    Attributes
    ----------
    t_s : ndarray, shape (n,)
        Sample times in seconds on the sensor clock, strictly increasing.
    acc_mps2 : ndarray, shape (n, 3)
        Specific force in m/s^2, sensor axes.
    gyr_dps : ndarray, shape (n, 3)
        Angular rate in deg/s, sensor axes.
    fs_hz : float
        Nominal sample rate (header ``sample_rate_hz``).
    meta : dict of str to str
        Every header key except ``format``, in file order (``sample_rate_hz`` included).
    path : str or None
        Where it was read from, for error messages.
    """

    t_s: np.ndarray
    acc_mps2: np.ndarray
    gyr_dps: np.ndarray
    fs_hz: float
    meta: dict[str, str] = field(default_factory=dict)
    path: str | None = None

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1] - self.t_s[0]) if len(self) else 0.0

    def meta_float(self, key: str) -> float | None:
        """A numeric header value (e.g. ``body_mass_kg``), or None when absent."""
        raw = self.meta.get(key)
        if raw is None or raw.strip() == "":
            return None
        try:
            return float(raw)
        except ValueError:
            raise RecordingError(self.path, f"header {key!r} is not a number: {raw!r}") from None

    @property
    def side(self) -> str | None:
        return self.meta.get("side")


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------

#: Below this median |acc| (m/s^2) the accelerations were almost certainly written in g.
G_UNIT_SUSPECT_MPS2 = 3.0

_N_COLS = len(COLUMNS)
_COLUMN_ROW = ",".join(COLUMNS)
_ARROW_BLOCK_BYTES = 8 << 20  # also the largest header arrow's skip_rows can step over

# A plain finite decimal number, with the blanks arrow trims around a field. Only used on the
# error path to pass over good lines quickly; anything else is judged by arrow itself
# (``_arrow_parse_float``), so the scan agrees with the fast reader about what is a number.
_NUM = r"[ \t]*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t]*"
_PLAIN_NUMBER = re.compile(_NUM)
_PLAIN_ROW = re.compile(_NUM + ("," + _NUM) * (_N_COLS - 1))
# The writer's own layout (no blanks, no exponent), checked first because it is cheapest.
_WRITER_NUM = r"-?[0-9]+\.[0-9]+"
_WRITER_ROW = re.compile(_WRITER_NUM + ("," + _WRITER_NUM) * (_N_COLS - 1))


@dataclass
class _Header:
    meta: dict[str, str]
    fs_hz: float
    column_row_line: int  # 1-based; also the number of lines before the data


def _parse_options() -> pacsv.ParseOptions:
    # No quoting: a quoted value is not a number in this format and must be reported.
    return pacsv.ParseOptions(
        delimiter=",", quote_char=False, escape_char=False, ignore_empty_lines=True
    )


def _convert_options(names: tuple[str, ...]) -> pacsv.ConvertOptions:
    # No null markers: an empty field or "NA" is an error, not a missing value.
    return pacsv.ConvertOptions(
        column_types={name: pa.float64() for name in names},
        null_values=[],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )


def _open_text(path: str) -> TextIO:
    # surrogateescape: bad bytes never raise while decoding; they are reported where found.
    return open(path, encoding="utf-8-sig", errors="surrogateescape", newline=None)


def _cannot_read(path: str, exc: BaseException) -> RecordingError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return RecordingError(path, f"cannot read file: {reason}")


def _read_header(path: str, min_rate_hz: float | None) -> _Header:
    """Parse the ``# key: value`` lines and check the column row (plain Python, few lines)."""
    meta: dict[str, str] = {}
    key_line: dict[str, int] = {}
    format_value: str | None = None
    lineno = 0
    try:
        with _open_text(path) as f:
            while True:
                raw = f.readline()
                if raw == "":
                    break
                lineno += 1
                text = raw.rstrip("\n").strip()
                if text == "":
                    continue  # blank lines are allowed in the header
                if any("\udc80" <= ch <= "\udcff" for ch in text):
                    raise RecordingError(path, "line is not valid UTF-8 text", line=lineno)
                if not text.startswith("#"):
                    column_row = text
                    break
                body = text[1:]
                if ":" not in body:
                    raise RecordingError(
                        path, "header line has no ':' (expected '# key: value')", line=lineno
                    )
                key, value = (part.strip() for part in body.split(":", 1))
                if key == "":
                    raise RecordingError(path, "header line has an empty key", line=lineno)
                if key in key_line:
                    raise RecordingError(
                        path,
                        f"header key {key!r} repeated (first on line {key_line[key]})",
                        line=lineno,
                    )
                key_line[key] = lineno
                if key == "format":
                    format_value = value
                else:
                    meta[key] = value
    except OSError as exc:
        raise _cannot_read(path, exc) from exc

    if lineno == 0:
        raise RecordingError(path, "cannot read file: file is empty")
    if raw == "":
        raise RecordingError(path, f"file ends before the column row {_COLUMN_ROW!r}")
    col_line = lineno

    if format_value is None:
        raise RecordingError(
            path, f"missing header line '# format: {FORMAT_NAME}' before the column row", col_line
        )
    if format_value != FORMAT_NAME:
        raise RecordingError(
            path,
            f"unsupported format {format_value!r} (expected {FORMAT_NAME!r})",
            line=key_line["format"],
        )
    if "sample_rate_hz" not in meta:
        raise RecordingError(
            path, "missing header line '# sample_rate_hz: <Hz>' before the column row", col_line
        )
    rate_text = meta["sample_rate_hz"]
    rate_line = key_line["sample_rate_hz"]
    try:
        fs_hz = float(rate_text)
    except ValueError:
        raise RecordingError(
            path, f"sample_rate_hz {rate_text!r} is not a number", line=rate_line
        ) from None
    if not (math.isfinite(fs_hz) and fs_hz > 0):
        raise RecordingError(
            path, f"sample_rate_hz must be a positive finite number, got {rate_text!r}", rate_line
        )
    if min_rate_hz is not None and fs_hz < min_rate_hz:
        raise RecordingError(
            path,
            f"sample_rate_hz {rate_text} is below the {min_rate_hz:g} Hz this analysis needs",
            line=rate_line,
        )

    _check_column_row(path, column_row, col_line)
    return _Header(meta=meta, fs_hz=fs_hz, column_row_line=col_line)


def _check_column_row(path: str, text: str, line: int) -> None:
    names = [name.strip() for name in text.split(",")]
    if names == list(COLUMNS):
        return
    expected = f"expected {_COLUMN_ROW!r}"
    if len(names) == _N_COLS and all(_PLAIN_NUMBER.fullmatch(n) for n in names):
        raise RecordingError(path, f"column row missing: found data, {expected}", line)
    missing = [c for c in COLUMNS if c not in names]
    unexpected = [n for n in names if n not in COLUMNS]
    parts = []
    if missing:
        parts.append("missing column " + ", ".join(missing))
    if unexpected:
        parts.append("unexpected column " + ", ".join(repr(n) for n in unexpected))
    if not parts:
        repeated = sorted({n for n in names if names.count(n) > 1}, key=COLUMNS.index)
        parts.append(
            "repeated column " + ", ".join(repeated) if repeated else "columns out of order"
        )
    raise RecordingError(path, f"{'; '.join(parts)} ({expected})", line)


def _nonfinite_problem(column: str, value: float) -> str:
    what = "NaN" if math.isnan(value) else "infinite value"
    return f"{what} in column {column} (values must be finite numbers)"


def _arrow_parse_float(token: str) -> float | None:
    """``token`` as arrow's CSV reader would convert it, or None when arrow rejects it."""
    data = b"v\n" + token.encode("utf-8", "surrogateescape") + b"\n"
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(use_threads=False),
            parse_options=_parse_options(),
            convert_options=_convert_options(("v",)),
        )
    except pa.ArrowInvalid:
        return None
    values = table.column(0).to_pylist()
    return values[0] if len(values) == 1 else None


def _row_problem(text: str) -> str | None:
    """What is wrong with one data line (without its newline), or None if it is fine."""
    if _PLAIN_ROW.fullmatch(text):
        if "e" not in text and "E" not in text:
            return None  # plain decimals cannot overflow to inf
    fields = text.split(",")
    if len(fields) != _N_COLS:
        return f"expected {_N_COLS} values, found {len(fields)}"
    for column, field_text in zip(COLUMNS, fields, strict=True):
        token = field_text.strip(" \t")
        if token == "":
            return f"empty value in column {column}"
        value = float(token) if _PLAIN_NUMBER.fullmatch(token) else _arrow_parse_float(token)
        if value is None:
            return f"value {field_text.strip()!r} in column {column} is not a number"
        if not math.isfinite(value):
            return _nonfinite_problem(column, value)
    return None


def _locate_bad_row(path: str, header: _Header, arrow_message: str) -> RecordingError:
    """Slow scan, only after arrow failed: the first bad data line and what is wrong with it."""
    n_rows = 0
    try:
        with _open_text(path) as f:
            for lineno, raw in enumerate(f, start=1):
                if lineno <= header.column_row_line or raw == "\n":
                    continue  # arrow skips the header rows and ignores empty lines
                text = raw[:-1] if raw.endswith("\n") else raw
                if _WRITER_ROW.fullmatch(text):
                    n_rows += 1
                    continue
                problem = _row_problem(text)
                if problem is not None:
                    return RecordingError(path, problem, line=lineno)
                n_rows += 1
    except OSError as exc:
        return _cannot_read(path, exc)
    if n_rows < 2:
        return _too_few(path, n_rows, header.column_row_line)
    return RecordingError(path, f"cannot parse data: {arrow_message}")  # pragma: no cover


def _line_of_row(path: str, header: _Header, row: int) -> int:
    """File line (1-based) of data row ``row`` (0-based), counting the empty lines arrow skips."""
    seen = -1
    with _open_text(path) as f:
        for lineno, raw in enumerate(f, start=1):
            if lineno <= header.column_row_line or raw == "\n":
                continue
            seen += 1
            if seen == row:
                return lineno
    raise AssertionError("row beyond the end of the file")  # pragma: no cover


def _too_few(path: str, n: int, line: int) -> RecordingError:
    return RecordingError(path, f"need at least 2 samples, found {n}", line=line)


def _column_into(out: np.ndarray, chunked: pa.ChunkedArray) -> None:
    """Copy a float64 chunked arrow column into the 1-D (possibly strided) view ``out``."""
    start = 0
    for chunk in chunked.chunks:
        stop = start + len(chunk)
        out[start:stop] = chunk.to_numpy(zero_copy_only=True)
        start = stop


def read_recording(path: str | os.PathLike[str], *, min_rate_hz: float | None = None) -> Recording:
    """Read and validate an ``ankle-imu-csv/1`` file.

    The header is parsed in Python, the data with pyarrow's multithreaded CSV reader. Only when
    arrow rejects the data is the file scanned line by line to report the first bad line.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file.
    min_rate_hz : float, optional
        Reject recordings whose header ``sample_rate_hz`` (Hz) is below this value.

    Returns
    -------
    Recording
        ``t_s`` float64 (n,) in s, ``acc_mps2`` float64 (n, 3) in m/s^2 and ``gyr_dps``
        float64 (n, 3) in deg/s (both C-contiguous), ``fs_hz`` from the header, ``meta`` with
        every header key except ``format`` in file order, ``path`` as given.

    Raises
    ------
    RecordingError
        When the file cannot be read, or the header, column row or any sample is invalid:
        malformed row, non-number, NaN or inf, ``t`` not strictly increasing, fewer than
        2 samples, accelerations apparently in g (median |acc| < 3 m/s^2), or a sample rate
        below ``min_rate_hz``. ``err.line`` is the 1-based line in the file (None only
        when the file itself cannot be read).
    """
    path_str = os.fspath(path)
    header = _read_header(path_str, min_rate_hz)

    try:
        with pa.OSFile(path_str, "rb") as source:  # a stream: no decompression by extension
            table = pacsv.read_csv(
                source,
                read_options=pacsv.ReadOptions(
                    column_names=list(COLUMNS),
                    skip_rows=header.column_row_line,
                    block_size=_ARROW_BLOCK_BYTES,
                    use_threads=True,
                ),
                parse_options=_parse_options(),
                convert_options=_convert_options(COLUMNS),
            )
    except pa.ArrowInvalid as exc:
        raise _locate_bad_row(path_str, header, str(exc)) from None
    except (OSError, pa.ArrowException) as exc:
        raise _cannot_read(path_str, exc) from exc

    n = table.num_rows
    t_s = np.empty(n, dtype=np.float64)
    acc_mps2 = np.empty((n, 3), dtype=np.float64)
    gyr_dps = np.empty((n, 3), dtype=np.float64)
    _column_into(t_s, table.column(COL_T))
    for k, (acc_col, gyr_col) in enumerate(zip(ACC_COLS, GYR_COLS, strict=True)):
        _column_into(acc_mps2[:, k], table.column(acc_col))
        _column_into(gyr_dps[:, k], table.column(gyr_col))
    del table

    # Non-finite values: report the earliest row, and the first column within that row.
    views = [(COL_T, t_s)]
    views += [(c, acc_mps2[:, k]) for k, c in enumerate(ACC_COLS)]
    views += [(c, gyr_dps[:, k]) for k, c in enumerate(GYR_COLS)]
    first_bad: tuple[int, int] | None = None
    for j, (_, values) in enumerate(views):
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size and (first_bad is None or bad[0] < first_bad[0]):
            first_bad = (int(bad[0]), j)
    if first_bad is not None:
        row, j = first_bad
        column, values = views[j]
        problem = _nonfinite_problem(column, float(values[row]))
        raise RecordingError(path_str, problem, line=_line_of_row(path_str, header, row))

    if n < 2:
        raise _too_few(path_str, n, header.column_row_line)

    steps = np.diff(t_s)
    not_up = np.flatnonzero(~(steps > 0))
    if not_up.size:
        row = int(not_up[0]) + 1
        prev, cur = t_s[row - 1], t_s[row]
        problem = (
            f"t repeats {cur:.9g} s (t must be strictly increasing)"
            if cur == prev
            else f"t decreases from {prev:.9g} s to {cur:.9g} s (t must be strictly increasing)"
        )
        raise RecordingError(path_str, problem, line=_line_of_row(path_str, header, row))

    median_norm = float(np.median(np.sqrt(np.einsum("ij,ij->i", acc_mps2, acc_mps2))))
    if median_norm < G_UNIT_SUSPECT_MPS2:
        raise RecordingError(
            path_str,
            f"accelerations look like g, not m/s^2 (median |acc| = {median_norm:.2f})",
            line=header.column_row_line,
        )

    return Recording(
        t_s=t_s,
        acc_mps2=acc_mps2,
        gyr_dps=gyr_dps,
        fs_hz=header.fs_hz,
        meta=header.meta,
        path=path_str,
    )


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

T_DECIMALS = 6
VALUE_DECIMALS = 5
_WRITE_CHUNK_ROWS = 1 << 18
_MAX_EXACT = 2.0**53  # scaled values must stay exact integers in float64


def _check_header_text(what: str, text: object) -> str:
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a str, got {type(text).__name__}")
    if "\n" in text or "\r" in text:
        raise ValueError(f"{what} must be one line: {text!r}")
    if text != text.strip():
        raise ValueError(f"{what} has surrounding whitespace that a reader drops: {text!r}")
    return text


def _header_text(rec: Recording, note: str | None) -> str:
    fs_hz = float(rec.fs_hz)
    if not (math.isfinite(fs_hz) and fs_hz > 0):
        raise ValueError(f"fs_hz must be a positive finite number, got {rec.fs_hz!r}")
    rate_text = rec.meta.get("sample_rate_hz")
    try:
        keep_text = rate_text is not None and float(rate_text) == fs_hz
    except ValueError:
        keep_text = False
    if not keep_text:
        rate_text = str(int(fs_hz)) if fs_hz.is_integer() and fs_hz < 1e15 else repr(fs_hz)
    lines = [f"# format: {FORMAT_NAME}", f"# sample_rate_hz: {rate_text}"]
    for key, value in rec.meta.items():
        if key == "sample_rate_hz":
            continue
        _check_header_text("meta key", key)
        if key == "" or ":" in key or key == "format":
            raise ValueError(f"meta key {key!r} cannot be written as a header key")
        lines.append(f"# {key}: {_check_header_text(f'meta[{key!r}]', value)}")
    if note is not None and "note" not in rec.meta:
        lines.append(f"# note: {_check_header_text('note', note)}")
    lines.append(_COLUMN_ROW)
    return "\n".join(lines) + "\n"


def _check_writable(name: str, values: np.ndarray, decimals: int) -> None:
    if not np.isfinite(values).all():
        raise ValueError(f"cannot write column {name}: it holds NaN or inf")
    if values.size and float(np.abs(values).max()) * 10.0**decimals >= _MAX_EXACT:
        raise ValueError(f"cannot write column {name}: values too large for {decimals} decimals")


def _fixed_point_text(values: np.ndarray, decimals: int) -> pa.Array:
    """Fixed-point strings with ``decimals`` decimals (e.g. ``-0.31000``), shape (n,)."""
    scaled = np.rint(values * 10.0**decimals).astype(np.int64)
    # |scaled| as digits, zero-padded to at least decimals + 1, then the point inserted.
    text = pc.cast(pa.array(np.abs(scaled)), pa.string())
    text = pc.ascii_lpad(text, decimals + 1, "0")
    text = pc.binary_replace_slice(text, -decimals, -decimals, ".")
    negative = scaled < 0  # a value that rounds to 0 is written unsigned
    if negative.any():
        text = pc.if_else(pa.array(negative), pc.binary_replace_slice(text, 0, 0, "-"), text)
    return text


def _rows_bytes(t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> pa.Buffer:
    """CSV rows, each ending in a newline, for t_s (m,), acc (m, 3), gyr (m, 3)."""
    texts = [_fixed_point_text(t_s, T_DECIMALS)]
    texts += [_fixed_point_text(acc[:, k], VALUE_DECIMALS) for k in range(3)]
    texts += [_fixed_point_text(gyr[:, k], VALUE_DECIMALS) for k in range(3)]
    texts[-1] = pc.binary_replace_slice(texts[-1], 1 << 30, 1 << 30, "\n")  # append
    rows = pc.binary_join_element_wise(*texts, ",").cast(pa.large_string())
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)
    first, last = offsets[rows.offset], offsets[rows.offset + len(rows)]
    return rows.buffers()[2][first:last]


def write_recording(
    path: str | os.PathLike[str], rec: Recording, *, note: str | None = None
) -> None:
    """Write ``rec`` as an ``ankle-imu-csv/1`` file, atomically.

    The header is ``format``, ``sample_rate_hz`` (from ``rec.fs_hz``; the text of
    ``rec.meta["sample_rate_hz"]`` is kept when it has the same value), the other ``meta``
    keys in order, then ``note`` if given and ``meta`` has no ``note``. ``t`` is written with
    6 decimals (µs), accelerations and angular rates with 5 decimals. The file is written to
    ``path + ".tmp"``, synced, then renamed over ``path``, so ``path`` never holds a partial
    file.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file.
    rec : Recording
        ``t_s`` (n,) in s, strictly increasing at 6 decimals; ``acc_mps2`` (n, 3) in m/s^2;
        ``gyr_dps`` (n, 3) in deg/s; all finite.
    note : str, optional
        One line of free text for a ``# note:`` header line.

    Raises
    ------
    ValueError
        Inconsistent shapes, non-finite or huge values, ``t`` not strictly increasing once
        rounded to 6 decimals, or meta keys/values that cannot be written as header lines.
    TypeError
        A meta key or value that is not a str.
    OSError
        When the file cannot be written (the temporary file is removed).
    """
    t_s = np.asarray(rec.t_s, dtype=np.float64)
    acc = np.asarray(rec.acc_mps2, dtype=np.float64)
    gyr = np.asarray(rec.gyr_dps, dtype=np.float64)
    n = t_s.shape[0] if t_s.ndim == 1 else -1
    if n < 0 or acc.shape != (n, 3) or gyr.shape != (n, 3):
        raise ValueError(
            f"shapes must be t_s (n,), acc_mps2 (n, 3), gyr_dps (n, 3); got {t_s.shape}, "
            f"{acc.shape}, {gyr.shape}"
        )
    header = _header_text(rec, note)
    _check_writable(COL_T, t_s, T_DECIMALS)
    _check_writable("acc_mps2", acc, VALUE_DECIMALS)
    _check_writable("gyr_dps", gyr, VALUE_DECIMALS)
    not_up = np.flatnonzero(np.diff(np.rint(t_s * 10.0**T_DECIMALS)) <= 0)
    if not_up.size:
        row = int(not_up[0]) + 1
        raise ValueError(f"t_s is not strictly increasing at {T_DECIMALS} decimals (row {row})")

    final = os.fspath(path)
    tmp = final + ".tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(header.encode("utf-8"))
            # Chunks are formatted on a few threads (arrow and numpy release the GIL) and
            # written in order; at most workers + 1 formatted chunks are held at a time.
            workers = max(1, min(4, os.cpu_count() or 1))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                pending: deque[Future[pa.Buffer]] = deque()
                for lo in range(0, n, _WRITE_CHUNK_ROWS):
                    hi = lo + _WRITE_CHUNK_ROWS
                    pending.append(pool.submit(_rows_bytes, t_s[lo:hi], acc[lo:hi], gyr[lo:hi]))
                    if len(pending) > workers:
                        f.write(pending.popleft().result())
                while pending:
                    f.write(pending.popleft().result())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
