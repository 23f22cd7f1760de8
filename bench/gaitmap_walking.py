"""Stance-time benchmark on a real walking recording with motion-capture reference events.

Run: ``python bench/gaitmap_walking.py [--data-dir DIR] [--tol-s 0.2]``

Data: ``shared/data/gaitmap_walking/`` (the gaitmap example recording, see its README): one
healthy adult, 2 x 20 m of level walking, 204.8 Hz, one IMU on the lateral side of each shoe,
reference events from motion capture in ``stride_events_sample.csv``.

Reference contacts: the reference stride rows run from mid-stance to mid-stance (``min_vel``
to ``min_vel``); inside a row the foot first leaves the ground (``tc``) and then lands
(``ic``). One foot contact therefore runs from the ``ic`` of one row to the ``tc`` of the
next row of the same foot: ``stance = (tc[next] - ic[this]) / 204.8``.

gaitmap rows: the library's own pipeline (stride segmentation with ``BarthDtw`` and the
original Barth template, then ``RamppEventDetection`` / ``FilteredRamppEventDetection`` /
``HerzerEventDetection``). Its ``min_vel_event_list_`` has the same layout as the reference
(absolute sample indices, rows from ``min_vel`` to ``min_vel``). Its contacts run from
``pre_ic`` to ``tc`` of each row, which is gaitmap's own stance time (``tc - pre_ic``) and,
since gaitmap sets ``pre_ic`` to the previous row's ``ic``, the README rule wherever rows are
contiguous; it also keeps the few contacts whose stride gaitmap dropped. gaitmap gets ``imu_sample.csv``, the file already rotated
into gaitmap's sensor frame (as gaitmap's own examples do), converted to its foot body frame
with ``convert_to_fbf``; the raw ``imu_sample_not_rotated.csv`` would need gaitmap's sensor
alignment first, which is not part of what is measured here.

Extra rows feed gaitmap's event detectors the hand-labelled stride borders instead of
BarthDtw's (what gaitmap's event-detection examples do), to separate segmentation effects
from event-detection effects.

Install: ``pip install -e '.[bench-gaitmap]'``, best in a venv of its own (gaitmap + gaitmap_mad; BarthDtw and the Rampp
detectors live in gaitmap_mad, which is AGPL-3.0, unlike gaitmap's MIT). gaitmap pins
numpy<2.1 and pandas<2.4, and its dependency tpcp 2.x registers a pytest plugin that needs
numpydoc, so in an environment with gaitmap run pytest with ``-p no:tpcp_snapshots``.
Without gaitmap the gaitmap rows are skipped with the import error.

Adding a detector: put a ``Method`` in ``METHODS`` whose ``run(data_dir)`` returns
``({"left": contacts, "right": contacts}, seconds)``, where ``contacts`` is a DataFrame with
one row per foot contact and columns ``ic_s`` (landing) and ``tc_s`` (the following toe-off),
in seconds from the first sample; ``timed_best_of`` does the timing.
"""

from __future__ import annotations

import argparse
import importlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

FS_HZ = 204.8
SIDES = ("left", "right")
ROTATED_FILE = "imu_sample.csv"
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "gaitmap_walking"

Contacts = dict[str, pd.DataFrame]  # side -> DataFrame[ic_s, tc_s, stance_ms]


# --------------------------------------------------------------------------------------------
# Contacts from stride lists
# --------------------------------------------------------------------------------------------


def contacts_from_min_vel_strides(
    strides: pd.DataFrame, fs_hz: float = FS_HZ, use_pre_ic: bool = False
) -> pd.DataFrame:
    """Foot contacts from a min_vel-to-min_vel stride list (sample indices).

    Default (the README rule): contact k runs from ``ic`` of row k to ``tc`` of row k + 1,
    formed only when row k + 1 starts where row k ends, so a dropped stride can never pair
    one contact's landing with a later contact's toe-off.

    ``use_pre_ic=True``: contact k runs from ``pre_ic`` to ``tc`` of row k, which is how
    gaitmap's own ``TemporalParameterCalculation`` gets stance time (stride_time - swing_time
    = tc - pre_ic). gaitmap sets ``pre_ic`` of a row to the ``ic`` of the previous row, so for
    contiguous rows both rules give the same contacts; this one also keeps the contact whose
    landing fell in a stride that gaitmap then dropped (at the turns).
    """
    s = strides.sort_values("start")
    tc = s["tc"].to_numpy(float)
    if use_pre_ic:
        ic_s, tc_s = s["pre_ic"].to_numpy(float) / fs_hz, tc / fs_hz
    else:
        start, end, ic = (s[c].to_numpy(float) for c in ("start", "end", "ic"))
        contiguous = start[1:] == end[:-1]
        ic_s, tc_s = ic[:-1][contiguous] / fs_hz, tc[1:][contiguous] / fs_hz
    return pd.DataFrame({"ic_s": ic_s, "tc_s": tc_s, "stance_ms": (tc_s - ic_s) * 1000.0})


def with_stance(contacts: pd.DataFrame) -> pd.DataFrame:
    """Sorted copy of a contact table with ``stance_ms`` (re)computed from ``ic_s``/``tc_s``."""
    c = contacts.sort_values("ic_s").reset_index(drop=True)[["ic_s", "tc_s"]].astype(float)
    c["stance_ms"] = (c["tc_s"] - c["ic_s"]) * 1000.0
    return c


def load_reference(data_dir: Path | str = DEFAULT_DATA_DIR) -> Contacts:
    """Reference contacts per side: ``ic_s``, ``tc_s`` (toe-off) and ``stance_ms``.

    From ``stride_events_sample.csv`` by the README rule
    ``stance = (tc of the NEXT stride of the same foot - ic of this stride) / 204.8``.
    """
    ev = pd.read_csv(Path(data_dir) / "stride_events_sample.csv")
    return {side: contacts_from_min_vel_strides(ev[ev["foot"] == side]) for side in SIDES}


def load_stride_borders(data_dir: Path | str = DEFAULT_DATA_DIR) -> dict[str, pd.DataFrame]:
    """Hand-labelled stride borders as gaitmap stride lists, keyed by gaitmap sensor name."""
    sb = pd.read_csv(Path(data_dir) / "stride_borders_sample.csv")
    return {
        f"{side}_sensor": sb.loc[sb["foot"] == side, ["s_id", "start", "end"]].set_index("s_id")
        for side in SIDES
    }


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------


def timed_best_of(fn: Callable[[], object], n: int = 3) -> tuple[object, float]:
    """Run ``fn`` n times; return the last result and the fastest wall time (perf_counter)."""
    best, out = float("inf"), None
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


# --------------------------------------------------------------------------------------------
# gaitmap
# --------------------------------------------------------------------------------------------

GAITMAP_EVENT_DETECTORS = {
    "rampp": "RamppEventDetection",
    "filtered_rampp": "FilteredRamppEventDetection",
    "herzer": "HerzerEventDetection",
}


def load_gaitmap_body_frame(data_dir: Path | str = DEFAULT_DATA_DIR) -> pd.DataFrame:
    """``imu_sample.csv`` (gaitmap sensor frame) converted to gaitmap's foot body frame."""
    from gaitmap.utils.coordinate_conversion import convert_to_fbf

    data = pd.read_csv(Path(data_dir) / ROTATED_FILE, header=[0, 1], index_col=0)
    return convert_to_fbf(data, left_like="left_", right_like="right_")


def run_gaitmap(
    data_dir: Path | str = DEFAULT_DATA_DIR,
    method: str = "rampp",
    segmentation: str = "barth_dtw",
    repeats: int = 3,
) -> tuple[Contacts, float]:
    """Run gaitmap's stride segmentation + event detection; contacts per side and seconds.

    ``method``: a key of ``GAITMAP_EVENT_DETECTORS``. ``segmentation``: ``"barth_dtw"``
    (BarthDtw with BarthOriginalTemplate, timed) or ``"labelled"`` (the hand-labelled stride
    borders, not timed as segmentation). Time: segmentation + event detection only, the
    fastest of ``repeats`` runs (the first run also pays numba's JIT compilation).
    """
    import gaitmap.event_detection as ged
    from gaitmap.stride_segmentation import BarthDtw, BarthOriginalTemplate

    detector_cls = getattr(ged, GAITMAP_EVENT_DETECTORS[method])
    bf = load_gaitmap_body_frame(data_dir)
    labelled = load_stride_borders(data_dir) if segmentation == "labelled" else None
    if segmentation not in ("barth_dtw", "labelled"):
        raise ValueError(f"unknown segmentation {segmentation!r}")

    def pipeline():
        if labelled is None:
            dtw = BarthDtw(template=BarthOriginalTemplate())
            stride_list = dtw.segment(data=bf, sampling_rate_hz=FS_HZ).stride_list_
        else:
            stride_list = labelled
        ed = detector_cls().detect(data=bf, stride_list=stride_list, sampling_rate_hz=FS_HZ)
        return ed.min_vel_event_list_

    events, seconds = timed_best_of(pipeline, repeats)
    contacts = {
        side: contacts_from_min_vel_strides(events[f"{side}_sensor"], use_pre_ic=True)
        for side in SIDES
    }
    return contacts, seconds


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------

ERROR_KINDS = ("stance", "ic", "tc")


def match_contacts(det: pd.DataFrame, ref: pd.DataFrame, tol_s: float = 0.2) -> pd.DataFrame:
    """Pair each reference contact with the detected contact whose ``ic_s`` is nearest.

    Pairs farther apart than ``tol_s`` are dropped; a detected contact is used at most once
    (the nearer reference wins). Returns one row per pair with errors in ms
    (detected minus reference) for stance time, IC and TC.
    """
    det, ref = with_stance(det), with_stance(ref)
    empty = pd.DataFrame(columns=["ref_idx", "det_idx", *[f"{k}_err_ms" for k in ERROR_KINDS]])
    if len(det) == 0 or len(ref) == 0:
        return empty
    d_ic, r_ic = det["ic_s"].to_numpy(), ref["ic_s"].to_numpy()
    right = np.clip(np.searchsorted(d_ic, r_ic), 1, len(d_ic) - 1) if len(d_ic) > 1 else None
    if right is None:
        nearest = np.zeros(len(r_ic), dtype=int)
    else:
        left = right - 1
        nearest = np.where(np.abs(d_ic[left] - r_ic) <= np.abs(d_ic[right] - r_ic), left, right)
    dist = np.abs(d_ic[nearest] - r_ic)
    pairs = pd.DataFrame({"ref_idx": np.arange(len(r_ic)), "det_idx": nearest, "dist": dist})
    pairs = pairs[pairs["dist"] <= tol_s].sort_values("dist").drop_duplicates("det_idx")
    pairs = pairs.sort_values("ref_idx")
    r, d = ref.iloc[pairs["ref_idx"]], det.iloc[pairs["det_idx"]]
    out = pairs[["ref_idx", "det_idx"]].reset_index(drop=True)
    out["stance_err_ms"] = d["stance_ms"].to_numpy() - r["stance_ms"].to_numpy()
    out["ic_err_ms"] = (d["ic_s"].to_numpy() - r["ic_s"].to_numpy()) * 1000.0
    out["tc_err_ms"] = (d["tc_s"].to_numpy() - r["tc_s"].to_numpy()) * 1000.0
    return out


def _stats(err_ms: np.ndarray) -> dict[str, float]:
    e = np.asarray(err_ms, dtype=float)
    if len(e) == 0:
        return {"bias": np.nan, "sd": np.nan, "mae": np.nan}
    return {
        "bias": float(e.mean()),
        "sd": float(e.std(ddof=1)) if len(e) > 1 else np.nan,
        "mae": float(np.abs(e).mean()),
    }


def match_and_score(detected: Contacts, reference: Contacts, tol_s: float = 0.2) -> pd.DataFrame:
    """Score detected contacts against the reference, per side and overall.

    One row per side plus ``"all"``: ``n_ref``, ``n_det`` (detected contacts whose IC lies
    within the reference's span +- tol: the reference has no contact before its first or
    after its last IC, so detections there are neither hits nor false), ``n_matched``
    (``n_det - n_matched`` are extra contacts), and for each of
    stance time, IC and TC the bias (mean detected minus reference), SD and MAE in ms,
    as columns ``stance_bias_ms``, ``stance_sd_ms``, ``stance_mae_ms``, ``ic_bias_ms``, ...
    """
    rows, all_pairs = {}, []
    n_ref_all = n_det_all = 0
    for side in SIDES:
        ref = reference.get(side, pd.DataFrame(columns=["ic_s", "tc_s"]))
        det = detected.get(side, pd.DataFrame(columns=["ic_s", "tc_s"]))
        pairs = match_contacts(det, ref, tol_s)
        all_pairs.append(pairs)
        n_det = _n_in_span(det, ref, tol_s)
        n_ref_all += len(ref)
        n_det_all += n_det
        rows[side] = _score_row(pairs, len(ref), n_det)
    rows["all"] = _score_row(pd.concat(all_pairs, ignore_index=True), n_ref_all, n_det_all)
    return pd.DataFrame.from_dict(rows, orient="index")


def _n_in_span(det: pd.DataFrame, ref: pd.DataFrame, tol_s: float) -> int:
    """Detected contacts whose IC lies within the reference's span (+- tol)."""
    if len(ref) == 0:
        return 0
    ic = det["ic_s"].to_numpy(float)
    lo, hi = ref["ic_s"].min() - tol_s, ref["ic_s"].max() + tol_s
    return int(np.count_nonzero((ic >= lo) & (ic <= hi)))


def _score_row(pairs: pd.DataFrame, n_ref: int, n_det: int) -> dict[str, float]:
    row: dict[str, float] = {"n_ref": n_ref, "n_det": n_det, "n_matched": len(pairs)}
    for kind in ERROR_KINDS:
        for stat, value in _stats(pairs[f"{kind}_err_ms"].to_numpy(float)).items():
            row[f"{kind}_{stat}_ms"] = value
    return row


# --------------------------------------------------------------------------------------------
# Methods and report
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Method:
    """A row of the table: ``run(data_dir) -> (contacts per side, seconds)``."""

    name: str
    run: Callable[[Path], tuple[Contacts, float]]
    input_desc: str
    needs: tuple[str, ...] = ()  # modules the row imports, so a missing one skips the row


_GAITMAP_INPUT = (
    f"{ROTATED_FILE} (already rotated into gaitmap's sensor frame; no alignment step), "
    "converted to gaitmap's foot body frame with convert_to_fbf"
)


def _gaitmap_method(name: str, detector: str, segmentation: str) -> Method:
    seg_desc = (
        "BarthDtw + BarthOriginalTemplate segmentation"
        if segmentation == "barth_dtw"
        else "hand-labelled stride borders (stride_borders_sample.csv) instead of segmentation"
    )
    return Method(
        name=name,
        run=lambda d: run_gaitmap(d, detector, segmentation),
        input_desc=f"{_GAITMAP_INPUT}; {seg_desc}; {GAITMAP_EVENT_DETECTORS[detector]}",
        needs=("gaitmap_mad", "gaitmap.event_detection", "gaitmap.stride_segmentation"),
    )


RAW_FILE = "imu_sample_not_rotated.csv"


def run_ours(data_dir: Path | str = DEFAULT_DATA_DIR, repeats: int = 3) -> tuple[Contacts, float]:
    """ankle-motion's detector on the raw file (sensor axes as mounted, no alignment given),
    both feet; time of the analysis after loading, best of ``repeats``."""
    from analysis.gait import analyze_gait

    raw = pd.read_csv(Path(data_dir) / RAW_FILE, header=[0, 1], index_col=0)
    feet = {}
    for side in SIDES:
        d = raw[f"{side}_sensor"]
        acc = d[["acc_x", "acc_y", "acc_z"]].to_numpy(float)
        gyr = d[["gyr_x", "gyr_y", "gyr_z"]].to_numpy(float)
        feet[side] = (np.arange(len(acc)) / FS_HZ, acc, gyr)

    def pipeline():
        return {s: analyze_gait(t, a, g, fs_hz=FS_HZ) for s, (t, a, g) in feet.items()}

    results, seconds = timed_best_of(pipeline, repeats)
    contacts = {
        side: pd.DataFrame(
            {
                "ic_s": [st.initial_contact_s for st in res.steps],
                "tc_s": [st.toe_off_s for st in res.steps],
            }
        )
        for side, res in results.items()
    }
    return contacts, seconds


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            name="ankle-motion",
            run=run_ours,
            input_desc=f"{RAW_FILE} (raw sensor axes; the foot's axes are found from the data)",
        ),
        _gaitmap_method("gaitmap BarthDtw+Rampp", "rampp", "barth_dtw"),
        _gaitmap_method("gaitmap BarthDtw+FilteredRampp", "filtered_rampp", "barth_dtw"),
        _gaitmap_method("gaitmap BarthDtw+Herzer", "herzer", "barth_dtw"),
        _gaitmap_method("gaitmap labelled+Rampp", "rampp", "labelled"),
        _gaitmap_method("gaitmap labelled+Herzer", "herzer", "labelled"),
    )
}


def _missing(modules: tuple[str, ...]) -> str | None:
    """None if all modules import, else the first error (one line)."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            return f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
    return None


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    ap.add_argument("--tol-s", type=float, default=0.2, help="IC matching tolerance, s")
    a = ap.parse_args(argv)

    reference = load_reference(a.data_dir)
    ref_stance = np.concatenate([r["stance_ms"].to_numpy() for r in reference.values()])
    print(f"Data: {a.data_dir}  ({FS_HZ} Hz)")
    print(
        f"Reference (mocap, stride_events_sample.csv): {len(ref_stance)} contacts "
        f"({', '.join(f'{s} {len(reference[s])}' for s in SIDES)}), "
        f"median stance {np.median(ref_stance):.0f} ms; IC match tolerance {a.tol_s * 1000:.0f} ms"
    )
    try:
        import gaitmap

        print(f"gaitmap {gaitmap.__version__}")
    except ImportError:
        pass

    print(
        "\nErrors are detected minus reference, ms: bias +- SD (MAE). "
        "Time: segmentation + event detection, both feet, best of 3, after loading."
    )
    hdr = (
        f"{'method':<31} {'matched':>9} {'extra':>5} {'stance':>20} {'IC':>20} {'TC':>20}"
        f" {'time s':>7}"
    )
    print(hdr)
    print("-" * len(hdr))
    inputs, skipped, times = [], False, {}
    for m in METHODS.values():
        if (why := _missing(m.needs)) is not None:
            print(f"{m.name:<31} skipped: {why}")
            skipped = True
            continue
        detected, seconds = m.run(a.data_dir)
        s = match_and_score(detected, reference, a.tol_s).loc["all"]
        cells = " ".join(
            f"{s[f'{k}_bias_ms']:+6.1f}+-{s[f'{k}_sd_ms']:5.1f} ({s[f'{k}_mae_ms']:4.1f})"
            for k in ERROR_KINDS
        )
        extra = int(s["n_det"] - s["n_matched"])
        print(
            f"{m.name:<31} {int(s['n_matched']):>4}/{int(s['n_ref']):<4} {extra:>5} {cells}"
            f" {seconds:7.3f}"
        )
        inputs.append((m.name, m.input_desc))
        times[m.name] = seconds
    ours = times.get("ankle-motion")
    dtw = times.get("gaitmap BarthDtw+Rampp")
    if ours and dtw:
        print(
            f"\nSpeed: gaitmap BarthDtw+Rampp {dtw:.3f} s / ankle-motion {ours:.4f} s = "
            f"{dtw / ours:.0f}x (target >= 50x)"
        )
    if skipped:
        print("(install the bench extra for the gaitmap rows: pip install -e '.[bench]')")
    if inputs:
        print("\nInput and frame per method:")
        for name, desc in inputs:
            print(f"  {name}: {desc}")
    print(
        "Contacts: reference = IC of one stride row to TC of the next row of the same foot "
        "(README rule); gaitmap = pre_ic to TC of each min_vel row (gaitmap's own stance time, "
        "the same pairing wherever rows are contiguous)."
    )


if __name__ == "__main__":
    main()
