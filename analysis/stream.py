"""Live (streaming) analysis: the batch detectors fed in chunks, reps announced as they end.

:class:`StreamAnalyzer` keeps one sensor's samples (growing, preallocated arrays; chunks
are copied in with slice assignments, never sample by sample) and re-runs the *batch*
analysis of the exercise (:class:`~analysis.heel_raise.HeelRaiseAnalyzer` with the tempo,
or :class:`~analysis.pogo.PogoAnalyzer`) on a trailing window of the buffer (default 60 s
for heel raises, 4 s for pogo). What a run finds that is complete and newer than what was
already announced is announced: a :class:`LiveEvent` per rep or contact, with its tempo
verdict. :meth:`StreamAnalyzer.finish` runs the batch analysis on everything and returns
what the offline analysis returns (:class:`~analysis.heel_raise.HeelRaiseResult` /
:class:`~analysis.pogo.PogoResult`).

Contract (tested in ``tests/test_live.py``):

* **Final = offline.** ``finish()`` is ``analyze_heel_raises`` / ``analyze_pogo`` on all
  the samples given, so fed the samples of a saved recording as written (``t`` rounded to
  1 us, values to 1e-5: ``ankle record`` does that) it equals the analysis of that file,
  bit for bit.
* **Announcements are provisional; :func:`match_events` checks them.** A run sees only
  its window, and estimates from it what the offline analysis estimates from the whole
  session: the alignment to the foot (lateral axis and its sign, gyro bias) for heel
  raises, the sensor's lever arm from the ball for pogo. A boundary announced early may
  therefore differ from the final one. Heel raises: the count and the tempo verdicts
  equal the final ones, the times within 30 ms. Measured on 24 synthesized sessions
  (498 reps, 200 and 1000 Hz, sets with walking between): median 0.04 ms, 95th
  percentile 1.5 ms, largest 9 ms, and the same error against the true movement as the
  final analysis (end_s SD 11 ms); a session's first rep, shown from one rep's data,
  can move by up to about 25 ms when strides later re-estimate the foot's axis (the
  demo session's right shoe: 23 ms). Shown reps are not re-timed: the final analysis is
  not closer to the truth there. Pogo within 0.4 ms on most sessions, but fits from the
  first few impacts of a round, or from a window of walking, can announce a contact the
  final analysis does not keep.
* **What counts as "complete".** Heel raise: ``end_s`` (the pitch back below 10 % of the
  excursion) at least ``margin_s`` before the newest sample; the rep's ``rest`` (which
  needs the next rep) and its set-level flags (``partial``, ``clean``) are only final in
  ``finish()``. Pogo: the take-off at least ``margin_s`` (there at least 40 ms) before the
  newest sample.
* **Provisional contacts (pogo).** The batch analysis keeps only rounds of three hops in
  a row (``PogoSettings.min_round_contacts``); live runs use the same settings but with
  ``min_round_contacts=1``, so they also see a round's first two contacts. Those are
  announced at once with ``status="provisional"``, then returned again (same ``number``,
  ``resolved_at_s`` set) ``confirmed`` when the round's third is announced, or
  ``retracted`` when no contact follows within a flight (steps, a stumble). They come
  only from a run with the trusted fit (a window run with the reference run's fit, or a
  run that vouches for its own with contacts in a round), and only with a contact time
  within 0.5-1.6 times that of the last confirmed contacts; else they wait for their
  round as before. Until window runs have a fit to use (a session's first round; a
  candidate fit pending; a reference two window runs agreed on, with no reference run's
  fit yet), a contact is shown provisionally from an early fit over the planted
  stretches of the contacts so far (``_early_contacts``) when it held the body up (the
  sensor's mean specific force over it above 1 g, :func:`~analysis.pogo.contact_lift_g`:
  a flight taken for a contact reads about g / 2), the sensor came down into it (its
  vertical velocity, integrated from the standing before the round,
  :func:`~analysis.pogo.landing_speed_mps`: a flight's start after a push from standing
  also reads over 1 g, but rises; past 3 s of the standing, its landing ends a flight:
  the round's last take-off within ``max_flight_s`` before it, and the gap below 1 g)
  and the run's own fit, once it has one that finds contacts, agrees; else it waits too.
  Reference runs then settle those (``_settle_early``): confirmed with the trusted fit's
  times, or retracted; one no reference run reached is confirmed as shown when its
  round, which trusted contacts established, ends, and stays provisional if the stream
  ends first.
  :func:`match_events` reports retracted events apart.

Guards against announcing from a bad fit (details in the methods): heel raise, once a
run with a strong sign cue set the reference axis, runs whose own cue is weak take its
sign (``lateral_hint``); a run whose axis flips the reference's on a weak cue announces
nothing, and a window whose axis disagrees is replaced by a reference run; pogo, a run's
contacts are announced only if its lever arm agrees within ``_ARM_TOL_M`` with one that
two runs agreed on (the second having seen contacts the first did not), and once a
reference run has agreed too, window runs use that reference run's fit instead of
fitting (``lever_arm_m``), which is most of their cost; such a window run whose new
contact is 15 % longer or shorter than the recent ones, or which leaves a landing of the
live round unexplained, is checked by a reference run first (a fit from a session's
first few contacts can be some cm off), unless the window's own fit finds the same
contact (within 5 ms). A reference run analyses the last ``reference_s`` of the buffer
(240 s heel raise, 40 s pogo: all of it in a shorter session), at most every 10 % of
that span, so its cost is a bounded fraction of a core; pogo's come between hops only
when no take-off would wait for them (between rounds, as a rule), or when a window with
landings finds no contact.

When does a run happen? At most every ``update_s`` of sensor time (1 s), and in between
when a cheap test on the new samples says an event may just have ended, so that
announcements follow the movement by about ``margin_s`` plus a chunk while the analysis
costs about 1-3 % of a core per sensor at 1 kHz:

* heel raise: the pitch is extended past the last run by integrating the angular rate
  about the lateral axis that run found (one matrix product per chunk); when a rise of at
  least ``min_rom_deg`` has come back down to 15 % of its excursion a run is due, and
  runs repeat every ``fast_update_s`` until the rep is announced (at most 1.5 s);
* pogo: a landing impact (specific force above ``min_impact_g``) makes runs due at the
  take-off expected from the last contact time, then every ``fast_update_s`` for 300 ms,
  until that contact is announced; after each announcement, the next impact past its
  take-off and a minimum flight is the next landing.

Times are the buffer's own (the ``t_s`` given). Nothing here does I/O or knows about BLE,
the terminal or the CLI.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from analysis.heel_raise import HeelRaiseAnalyzer, HeelRaiseResult, HeelRaiseSettings, Rep
from analysis.pogo import (
    GRAVITY_MPS2,
    Contact,
    PogoAnalyzer,
    PogoResult,
    PogoSettings,
    ball_force_mps2,
    ball_force_reach,
    contact_lift_g,
    landing_speed_mps,
    min_landing_speed_mps,
)
from analysis.prescriptions import TempoPrescription

EXERCISES = ("heel-raise", "pogo")
#: Default trailing window per exercise, s: long enough for the alignment to the foot
#: (still periods, several reps), short enough that a run stays cheap.
DEFAULT_WINDOW_S = {"heel-raise": 60.0, "pogo": 4.0}
#: Span of the reference runs that check a window's fit (the whole buffer up to this), s:
#: bounded, so that one run never holds the stream up for long (pogo's lever-arm fit
#: costs about 1.4 ms per second of data at 1 kHz, heel raises 0.35 ms).
DEFAULT_REFERENCE_S = {"heel-raise": 240.0, "pogo": 40.0}
#: A rep or contact starting this close to the window's start may be cut: not announced
#: from that run (unless the window starts at the first sample).
_LEAD_S = 1.0
#: Pogo: lever arms (sensor from the ball) of two runs this close are the same fit, m.
_ARM_TOL_M = 0.08
#: Pogo: the ball is no farther than this from a shoe-mounted sensor, m: heel to the first
#: metatarsal head is about 72 % of the foot's length, 0.23 m for a 31 cm foot; a sensor
#: on the heel counter adds 2-3 cm behind and 3-8 cm above. A run's fit beyond it (a few
#: impacts can fit a point off the foot, and take flights for contacts) vouches for nothing.
_MAX_ARM_M = 0.28
#: How far a run may move the end of an announced event and it is still the same one, s.
_SEPARATION_S = -0.05
#: A retracted event whose end is this close to a final event's was that event, s.
_SAME_S = 0.05
#: Pogo: a contact not yet in a round is shown (provisionally) only when its contact time
#: is within these ratios of the median of the last _RECENT_N confirmed contacts.
_CONTACT_RATIO = (0.5, 1.6)
_RECENT_N = 10
#: Pogo: a window run with the reference run's fit is checked by a reference run before
#: it is trusted when a contact it would show has a contact time outside these ratios of
#: the recent median, or when it missed a landing of the live round. A fit a few cm off
#: (the first seconds' fits rest on a few contacts) can run a contact on over a short
#: flight (1.3-1.6 times as long, the next contact then lost), end it early (by 20 % and
#: more), or miss it. Hop to hop, 98.5 % of contacts are within 15 % of the median of the
#: 10 before (6694 synthetic contacts of 40 sessions); a check costs one reference run.
_CHECK_RATIO = (0.85, 1.15)
#: ...each once, and at most this often, s (a reference run costs about 1.4 ms per
#: second of data at 1 kHz).
_CHECK_EVERY_S = 0.5
#: Pogo: a candidate lever arm is confirmed by a run that agrees with it only when that
#: run found at least this many contacts the run that proposed it did not see (see
#: StreamAnalyzer._independent).
_NEW_CONTACTS = 2
#: Pogo: a contact found with the early fit of a session's first contacts is shown when
#: the run's own fit (once it has one) finds it too, landing and take-off this close, s.
_EARLY_AGREE_S = 0.005
#: ...and when the sensor's mean specific force over it (``contact_lift_g``) is at least
#: ``PogoSettings.min_contact_lift_g`` (1 g: a contact holds the body up, a flight does
#: not), and when the sensor came down into its landing, falling at least a quarter of g
#: times the shortest flight (``min_flight_s``: half the landing speed after it, 0.2 m/s)
#: by :func:`~analysis.pogo.landing_speed_mps`, integrated from the last still stretch
#: no more than this before it, s. A contact holds the body up, but so does the start of
#: a flight after a push from standing: the ball is caught up to the body's speed (1.8 g
#: over the first 107 ms, held-out seed 106 at 1 kHz), and its "landing", the take-off,
#: comes up, not down. Without a still stretch that near, a landing ends a fall when it
#: ends a flight (the round's last take-off within ``max_flight_s`` before it, and the
#: sensor's mean specific force since below ``min_contact_lift_g``); else the contact
#: waits for its round.
_EARLY_FALL_MAX_S = 3.0


@dataclass(frozen=True)
class LiveEvent:
    """A rep or contact announced during the stream.

    Attributes
    ----------
    kind : {'rep', 'contact'}
    number : int
        1, 2, ... in order of announcement.
    start_s, end_s : float
        Heel raise: ``start_s`` / ``end_s`` of the rep (the movement ended at ``end_s``;
        when that fell in a data gap, the last boundary known). Pogo: landing / take-off.
    announced_at_s : float
        Time of the newest sample when it was announced (buffer time, s).
    times_s : dict of str to float or None
        Every boundary: heel raise ``start_s``, ``top_start_s``, ``top_end_s``,
        ``end_s``; pogo ``landing_s``, ``takeoff_s``.
    up_s, hold_s, down_s : float or None
        Heel raise: movement times (minimum-jerk model, see ``analysis.prescriptions``).
    rom_deg : float or None
    contact_ms, flight_before_ms : float or None
        Pogo: contact time, and the flight that ended at this landing (None for the first
        contact of a round).
    tempo_pass : dict or None
        ``{"up", "hold", "down"}`` -> pass/fail against the prescription (None: no tempo).
    fast_phases : tuple of str
        Phases quicker than the prescription by more than the tolerance.
    status : {'confirmed', 'provisional', 'retracted'}
        Pogo: a contact before its round is established (the first two of a round: the
        batch analysis only keeps rounds of ``min_round_contacts`` in a row) is announced
        at once as ``provisional``, then ``confirmed`` when the round's third contact is
        announced, or ``retracted`` when the round ends short (steps, a stumble). Reps,
        and contacts of an established round, are ``confirmed`` from the start.
    resolved_at_s : float or None
        When a provisional event was confirmed or retracted (buffer time, s). Set only on
        a status change: the event returned again by :meth:`StreamAnalyzer.add` /
        :meth:`~StreamAnalyzer.update` with the same ``number`` and ``announced_at_s``
        (the first showing).
    item : Rep or Contact
        The batch analysis' object from the run that announced it.
    """

    kind: str
    number: int
    start_s: float | None
    end_s: float
    announced_at_s: float
    times_s: dict[str, float | None]
    up_s: float | None = None
    hold_s: float | None = None
    down_s: float | None = None
    rom_deg: float | None = None
    contact_ms: float | None = None
    flight_before_ms: float | None = None
    tempo_pass: dict[str, bool | None] | None = None
    fast_phases: tuple[str, ...] = ()
    status: str = "confirmed"
    resolved_at_s: float | None = None
    item: Any = field(default=None, repr=False, compare=False)

    @property
    def provisional(self) -> bool:
        """Shown before its round was established; may still be retracted."""
        return self.status == "provisional"

    @property
    def retracted(self) -> bool:
        """Shown as provisional, then withdrawn: the final analysis will not have it."""
        return self.status == "retracted"

    @property
    def is_update(self) -> bool:
        """A status change (confirmed or retracted) of an event announced earlier."""
        return self.resolved_at_s is not None

    @property
    def too_fast(self) -> bool:
        """A phase of the rep was quicker than prescribed (beyond the tolerance)."""
        return bool(self.fast_phases)

    @property
    def latency_s(self) -> float:
        """Buffer time from the end of the movement to its first showing (provisional or
        not), s."""
        return self.announced_at_s - self.end_s


@dataclass(frozen=True)
class EventMatch:
    """An announced event and the final analysis' one at the same place.

    ``final`` is None when the final analysis has nothing there; ``max_diff_s`` is the
    largest difference over the boundaries both have (nan without a match).
    """

    event: LiveEvent
    final: Rep | Contact | None
    max_diff_s: float


@dataclass(frozen=True)
class MatchReport:
    """:func:`match_events` of the announced events against the final analysis.

    ``matches``: every event not retracted (confirmed, or still provisional when the
    stream ended), as before provisional contacts; ``missed``: final events none of those
    announced; ``retracted``: events shown as provisional and then withdrawn, each with
    the final event at its place if there is one (withdrawn wrongly: it is also in
    ``missed``).
    """

    matches: tuple[EventMatch, ...]
    missed: tuple[Rep | Contact, ...]  # final events never announced (or retracted)
    retracted: tuple[EventMatch, ...] = ()

    @property
    def wrongly_retracted(self) -> tuple[LiveEvent, ...]:
        """Retracted events the final analysis has after all."""
        return tuple(m.event for m in self.retracted if m.final is not None)

    @property
    def max_diff_s(self) -> float:
        d = [m.max_diff_s for m in self.matches if m.final is not None]
        return max(d) if d else 0.0

    @property
    def unmatched(self) -> tuple[LiveEvent, ...]:
        return tuple(m.event for m in self.matches if m.final is None)

    def agrees(self, tol_s: float = 1e-3) -> bool:
        """Same count, every announced event matched within ``tol_s``."""
        return not self.missed and not self.unmatched and self.max_diff_s <= tol_s


def _times(kind: str, item: Rep | Contact) -> dict[str, float | None]:
    if kind == "rep":
        return {k: getattr(item, k) for k in ("start_s", "top_start_s", "top_end_s", "end_s")}
    return {"landing_s": item.landing_s, "takeoff_s": item.takeoff_s}


def _end_of(kind: str, item: Rep | Contact) -> float | None:
    """When the movement ended: a rep's ``end_s`` (else its last known boundary)."""
    if kind == "contact":
        return item.takeoff_s
    known = [v for v in _times(kind, item).values() if v is not None]
    return max(known) if known else None


def _start_of(kind: str, item: Rep | Contact) -> float | None:
    if kind == "contact":
        return item.landing_s
    known = [v for v in _times(kind, item).values() if v is not None]
    return min(known) if known else None


def match_events(
    events: list[LiveEvent], final: HeelRaiseResult | PogoResult, *, tol_s: float = 0.5
) -> MatchReport:
    """Pair announced events with the final analysis' reps or contacts.

    Each event is paired with the final item whose end is nearest, within ``tol_s``
    (a pairing distance, not the accuracy: see :attr:`MatchReport.max_diff_s`). Retracted
    events are paired apart (with the final items the others left, ends within
    ``_SAME_S``: the same contact, not a neighbour), in :attr:`MatchReport.retracted`;
    they count neither as unmatched nor as announcing a final event.
    """
    kind = "rep" if isinstance(final, HeelRaiseResult) else "contact"
    items = final.reps if kind == "rep" else final.contacts
    ends = np.array([_end_of(kind, it) for it in items], dtype=float)
    used: set[int] = set()

    def pair(evs: list[LiveEvent], taken: set[int], tol_s: float) -> list[EventMatch]:
        out = []
        for ev in evs:
            best = None
            if len(ends):
                d = np.abs(ends - ev.end_s)
                k = int(np.nanargmin(d)) if np.isfinite(d).any() else -1
                if k >= 0 and d[k] <= tol_s and k not in taken:
                    best = k
            if best is None:
                out.append(EventMatch(ev, None, float("nan")))
                continue
            taken.add(best)
            ft = _times(kind, items[best])
            diffs = [
                abs(ev.times_s[key] - v)
                for key, v in ft.items()
                if v is not None and ev.times_s.get(key) is not None
            ]
            out.append(EventMatch(ev, items[best], max(diffs) if diffs else float("nan")))
        return out

    matches = pair([ev for ev in events if not ev.retracted], used, tol_s)
    missed = tuple(it for k, it in enumerate(items) if k not in used)
    retracted = pair([ev for ev in events if ev.retracted], set(used), min(tol_s, _SAME_S))
    return MatchReport(tuple(matches), missed, tuple(retracted))


def _finds(res: PogoResult, c: Contact) -> bool:
    """Pogo: does a run find contact ``c`` too, landing and take-off within
    ``_EARLY_AGREE_S``? (Two fits some cm apart agree on the edges of a contact that is
    there.)"""
    land = np.array([x.landing_s for x in res.contacts])
    take = np.array([x.takeoff_s for x in res.contacts])
    d = np.maximum(np.abs(land - c.landing_s), np.abs(take - c.takeoff_s))
    return bool((d <= _EARLY_AGREE_S).any())


def _within(contact_ms: float | None, ref_ms: float, ratios: tuple[float, float]) -> bool:
    """Pogo: a contact time (ms) within ``ratios`` (low, high) of ``ref_ms``."""
    lo, hi = ratios
    return contact_ms is not None and lo * ref_ms <= contact_ms <= hi * ref_ms


class _Buffer:
    """Growing, preallocated sample arrays (capacity doubles; appends are slice copies)."""

    def __init__(self, capacity: int) -> None:
        capacity = max(1024, int(capacity))
        self.t = np.empty(capacity)
        self.acc = np.empty((capacity, 3))
        self.gyr = np.empty((capacity, 3))
        self.n = 0

    def append(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> None:
        m = t.shape[0]
        need = self.n + m
        if need > self.t.shape[0]:
            cap = max(need, 2 * self.t.shape[0])
            for name in ("t", "acc", "gyr"):
                old = getattr(self, name)
                new = np.empty((cap, *old.shape[1:]))
                new[: self.n] = old[: self.n]
                setattr(self, name, new)
        self.t[self.n : need] = t
        self.acc[self.n : need] = acc
        self.gyr[self.n : need] = gyr
        self.n = need


class StreamAnalyzer:
    """Live analysis of one sensor: feed chunks, get reps/contacts as they complete.

    Parameters
    ----------
    exercise : {'heel-raise', 'pogo'}
    fs_hz : float
        Nominal sample rate (as the recording header's ``sample_rate_hz``).
    tempo : TempoPrescription, optional
        Heel raise: the prescribed tempo (verdicts and ``fast_phases``).
    foot_length_cm, body_mass_kg : float, optional
        As for the offline analysis (heel-rise height; pogo stiffness).
    ten_five : bool
        Pogo: score the 10/5 test in :meth:`finish` (as ``analyze_pogo(ten_five=True)``).
    update_s : float
        Longest sensor time between two runs (default 1 s; triggered runs come between).
    fast_update_s : float
        Spacing of the runs once an event is expected (default 0.03 s).
    window_s : float, optional
        Trailing window each run sees, s (default 60 s heel raise, 4 s pogo). ``inf``:
        always the whole buffer.
    reference_s : float, optional
        Span of the occasional reference runs that check a window's alignment or lever
        arm (default 240 s heel raise, 40 s pogo; ``inf``: the whole buffer).
    margin_s : float
        An event is complete when it ended at least this long before the newest sample.
        Pogo: at least half ``min_flight_s`` (40 ms), the span past a take-off in which
        the batch analysis looks for the ball's rise: with less, a dip of the ball's
        force in mid-contact at the end of a run's data passed for a take-off (a 300 ms
        contact shown as 98 ms, 100 Hz; a take-off 43 ms early, 1 kHz).
    capacity_s : float
        Initial buffer size (it grows as needed).
    heel_raise_settings, pogo_settings : optional
        Detector settings, as for the offline analyzers.

    Attributes
    ----------
    events : list of LiveEvent
        Everything announced, in order of first showing, each in its current status
        (pogo: provisional contacts become confirmed or retracted).
    runs : int
        Batch runs so far; ``analysis_cpu_s`` their CPU time (thread time), s.
    last_result : HeelRaiseResult or PogoResult or None
        The latest run's result (on its window).
    """

    def __init__(
        self,
        exercise: str,
        *,
        fs_hz: float,
        tempo: TempoPrescription | None = None,
        foot_length_cm: float | None = None,
        body_mass_kg: float | None = None,
        ten_five: bool = False,
        update_s: float = 1.0,
        fast_update_s: float = 0.03,
        window_s: float | None = None,
        reference_s: float | None = None,
        margin_s: float = 0.02,
        capacity_s: float = 120.0,
        heel_raise_settings: HeelRaiseSettings | None = None,
        pogo_settings: PogoSettings | None = None,
    ) -> None:
        if exercise not in EXERCISES:
            raise ValueError(f"exercise must be one of {EXERCISES}, got {exercise!r}")
        if not fs_hz > 0:
            raise ValueError(f"fs_hz must be > 0, got {fs_hz}")
        if tempo is not None and exercise != "heel-raise":
            raise ValueError("a tempo applies to heel raises")
        self.exercise = exercise
        self.kind = "rep" if exercise == "heel-raise" else "contact"
        self.fs_hz = float(fs_hz)
        self.tempo = tempo
        self.foot_length_cm = foot_length_cm
        self.body_mass_kg = body_mass_kg
        self.ten_five = bool(ten_five)
        self.update_s = float(update_s)
        self.fast_update_s = float(fast_update_s)
        self.window_s = float(DEFAULT_WINDOW_S[exercise] if window_s is None else window_s)
        ref = DEFAULT_REFERENCE_S[exercise] if reference_s is None else reference_s
        self.reference_s = max(float(ref), self.window_s)
        self._lo_ref = 0
        self.hr_settings = heel_raise_settings or HeelRaiseSettings()
        self.pogo_settings = pogo_settings or PogoSettings()
        self.margin_s = float(margin_s)
        if self.kind == "contact":  # (see margin_s above)
            self.margin_s = max(self.margin_s, 0.5 * self.pogo_settings.min_flight_s)
        # Pogo: live runs keep every contact, also those not (yet) in a round of
        # min_round_contacts; the stream announces those as provisional and confirms or
        # retracts them (finish() keeps the batch analysis' settings).
        self._live_pogo_settings = replace(self.pogo_settings, min_round_contacts=1)
        self._round: list[int] = []  # pogo: indices in events of the current live round
        self._recent_contact_ms: list[float] = []  # pogo: the last confirmed contacts
        self._checked: set[float] = set()  # pogo: landings a reference run has checked
        # Pogo: events shown from an early fit and not yet settled (index in events), with
        # the last reference run's (landing, take-off) of each (None: not found).
        self._early: dict[int, Any] = {}
        self._buf = _Buffer(int(capacity_s * fs_hz))
        self.events: list[LiveEvent] = []
        self.runs = 0
        self.analysis_cpu_s = 0.0
        self.last_result: HeelRaiseResult | PogoResult | None = None
        self._last_run_t = -np.inf
        self._last_end = -np.inf  # end of the newest announced event
        self._due_from = np.inf  # triggered: run when the buffer reaches this time
        self._fast_until = -np.inf  # keep running every fast_update_s until then
        self._block = max(1, int(np.floor(fs_hz / self.hr_settings.analysis_rate_hz)))
        # Heel raise: the pitch extended past the last run (gyro integral).
        self._lateral: np.ndarray | None = None
        self._ref_lateral: np.ndarray | None = None  # from the latest reference run
        self._ref_t = -np.inf
        self._ref_strong = False
        self._ref_arm: np.ndarray | None = None  # pogo: lever arm two runs agreed on
        self._cand_arm: np.ndarray | None = None
        # ...and what the run that proposed the candidate saw: its first sample's time and
        # its contacts' landings (see _independent).
        self._cand_from = -np.inf
        self._cand_seen = np.zeros(0)
        self._cand_fit: tuple[np.ndarray, float, float] | None = None  # a reference run's
        # ...and, for the latest run that saw no contact its proposer did not, whether the
        # early fit finds its contacts too (see _independent).
        self._second_fit: tuple[PogoResult | None, bool] = (None, False)
        # Pogo: the fit (lever arm, planted offset, gyro delay) of the latest trusted
        # reference run, which window runs use instead of fitting; the CPU time of the
        # latest reference run per second of data it analysed; when the next take-off is
        # expected at the earliest (buffer time, s).
        self._fit: tuple[np.ndarray, float, float] | None = None
        self._ref_cost_per_s = 0.0
        self._next_takeoff_s = -np.inf
        self._bias = np.zeros(3)
        self._drift_dps = 0.0  # the pitch's tilt correction rate at the last run's end
        self._theta = 0.0  # pitch at the newest sample, deg (the last run's zero)
        self._rate_dps = 0.0  # pitch rate at the newest samples, deg/s (smoothed)
        self._base = 0.0
        self._peak = 0.0
        self._armed = False
        self._fired = False
        self._fired_s = -np.inf  # when the pitch last came down from a rise (buffer time)
        # Pogo: last landing impact seen by the cheap test.
        self._impact_t = -np.inf
        self._landing_from = -np.inf  # the next impact after this is a landing
        self._contact_s = 0.25
        self._pending_runs: list[float] = []
        # ...and where the ball's departure is looked for (see _watch_ball).
        self._dep_from = np.inf
        self._dep_until = -np.inf
        self._fb_i = 0  # first sample whose ball force was not yet looked at
        self._ball_cands = np.zeros(0)  # the ball's impacts, planted window still to come
        self._ball_landed = np.zeros(0)  # ...and those the ball stood planted after
        self._awaited = -np.inf  # (see _await_unseen_landing)

    # -- buffer -----------------------------------------------------------------------------

    @property
    def n_samples(self) -> int:
        return self._buf.n

    @property
    def t_s(self) -> np.ndarray:
        return self._buf.t[: self._buf.n]

    @property
    def acc_mps2(self) -> np.ndarray:
        return self._buf.acc[: self._buf.n]

    @property
    def gyr_dps(self) -> np.ndarray:
        return self._buf.gyr[: self._buf.n]

    @property
    def t_end_s(self) -> float:
        """Time of the newest sample (-inf before any)."""
        return float(self._buf.t[self._buf.n - 1]) if self._buf.n else -np.inf

    # -- input ------------------------------------------------------------------------------

    def add(
        self, t_s: np.ndarray, acc_mps2: np.ndarray, gyr_dps: np.ndarray, *, update: bool = True
    ) -> list[LiveEvent]:
        """Append a chunk (times strictly after the newest sample) and run if due.

        Returns the events announced by this call (usually none). ``update=False`` only
        appends (cheap); :attr:`due` then says whether :meth:`update` would run (a caller
        may run that elsewhere, e.g. in a worker thread, adding nothing meanwhile).
        """
        t = np.asarray(t_s, dtype=np.float64).reshape(-1)
        if t.shape[0] == 0:
            return []
        acc = np.asarray(acc_mps2, dtype=np.float64).reshape(-1, 3)
        gyr = np.asarray(gyr_dps, dtype=np.float64).reshape(-1, 3)
        if acc.shape[0] != t.shape[0] or gyr.shape[0] != t.shape[0]:
            raise ValueError("t_s, acc_mps2 and gyr_dps must have the same number of samples")
        if t[0] <= self.t_end_s or (t.shape[0] > 1 and not (np.diff(t) > 0).all()):
            raise ValueError("sample times must increase strictly (also across chunks)")
        t_prev = self.t_end_s
        self._buf.append(t, acc, gyr)
        if self.exercise == "heel-raise":
            self._track_pitch(t_prev, t, gyr)
        else:
            self._track_impacts(self._impacts(acc, t))
            self._watch_ball()
            self._await_unseen_landing()
        return self.update() if update else []

    @property
    def due(self) -> bool:
        """A run is due (periodic, or the cheap test expects an event to have ended)."""
        if self._buf.n < 2:
            return False
        now = self.t_end_s
        if now - self._last_run_t >= self.update_s or now >= self._due_from:
            return True
        if self.kind == "contact" and self._reference_due(now):
            return True
        return now <= self._fast_until and now - self._last_run_t >= self.fast_update_s

    def update(self, force: bool = False) -> list[LiveEvent]:
        """Run the batch analysis on the trailing window if due (or ``force``)."""
        if self._buf.n < 2 or not (force or self.due):
            return []
        return self._run(self.t_end_s)

    def finish(self) -> HeelRaiseResult | PogoResult:
        """The batch analysis of every sample given (= the offline analysis of them)."""
        if self._buf.n < 2:
            raise ValueError("fewer than 2 samples")
        return self._analyze(0, self._buf.n, final=True)[0]

    # -- status for a live view -------------------------------------------------------------

    @property
    def phase(self) -> str:
        """Heel raise: ``up``, ``top``, ``down`` or ``bottom`` now (from the gyro-extended
        pitch); pogo: ``-``. Indicative only (the runs decide what a rep is)."""
        if self.exercise != "heel-raise" or self._lateral is None:
            return "-"
        exc = self._peak - self._base
        if self._rate_dps > 4.0:
            return "up"
        if self._rate_dps < -4.0:
            return "down"
        if exc >= self.hr_settings.min_rom_deg and self._theta > self._base + 0.5 * exc:
            return "top"
        return "bottom"

    @property
    def pitch_deg(self) -> float | None:
        """Foot pitch now (heel raise), deg, from the last run's zero; None before a run."""
        return self._theta if self._lateral is not None else None

    # -- internals --------------------------------------------------------------------------

    def _analyze(self, lo: int, hi: int, final: bool = False, fixed: bool = False):
        """The batch analysis of samples ``lo:hi`` as (result, analyzer). Live runs (not
        ``final``) of heel raises take the lateral axis's sign from a reference with a
        strong cue when their data has none; pogo, ``fixed``: with the reference run's
        lever arm (and planted offset, gyro delay) instead of fitting them."""
        b = self._buf
        t, acc, gyr = b.t[lo:hi], b.acc[lo:hi], b.gyr[lo:hi]
        if self.exercise == "heel-raise":
            an = HeelRaiseAnalyzer(self.hr_settings)
            res = an.analyze(
                t,
                acc,
                gyr,
                fs_hz=self.fs_hz,
                foot_length_cm=self.foot_length_cm,
                tempo=self.tempo,
                lateral_hint=self._ref_lateral if self._ref_strong and not final else None,
            )
        else:
            an = PogoAnalyzer(self.pogo_settings if final else self._live_pogo_settings)
            res = an.analyze(
                t,
                acc,
                gyr,
                fs_hz=self.fs_hz,
                body_mass_kg=self.body_mass_kg,
                ten_five=self.ten_five and final,
                **self._fixed_kwargs(fixed),
            )
        return res, an

    def _window_start(self, now: float, span_s: float | None = None) -> int:
        """First sample of the trailing window (``span_s``, default ``window_s``), on the
        whole buffer's block grid."""
        b = self._buf
        span = self.window_s if span_s is None else span_s
        if not np.isfinite(span):
            return 0
        lo = int(np.searchsorted(b.t[: b.n], now - span))
        if lo <= 0:
            return 0
        # Start on a multiple of the analysis block of the grid anchored at the first
        # sample, so that the run's resampling bins are the whole buffer's.
        k = self._block
        if k > 1:
            cand = b.t[lo : min(b.n, lo + 4 * k)]
            grid = np.rint((cand - b.t[0]) * self.fs_hz).astype(np.int64)
            on = np.flatnonzero(grid % k == 0)
            if len(on):
                lo += int(on[0])
        return lo

    def _run(self, now: float) -> list[LiveEvent]:
        lo = self._window_start(now)
        self._lo_ref = self._window_start(now, self.reference_s)
        # Pogo: now and then, when no take-off is due before it would end, a reference
        # run fits the lever arm on the longer span; once one has agreed with the
        # reference (and no other fit is pending against it), window runs use its fit
        # instead of fitting (cheap).
        reference = self.kind == "contact" and self._reference_due(now)
        if reference:
            lo = min(lo, self._lo_ref)
        fixed = self.kind == "contact" and lo > self._lo_ref
        fixed = fixed and self._fit is not None and self._cand_arm is None
        c0 = time.thread_time()
        try:
            res, an = self._analyze(lo, self._buf.n, fixed=fixed)
        except Exception:  # too little or degenerate data for the detectors: try later
            res, an = None, None
        cpu_s = time.thread_time() - c0
        self.analysis_cpu_s += cpu_s
        if reference:
            self._ref_t = now
            self._ref_cost_per_s = cpu_s / max(now - float(self._buf.t[lo]), 1e-3)
        self.runs += 1
        self._last_run_t = now
        self._due_from = np.inf
        if res is None:
            return []
        fresh = self._fresh(res, lo, now)
        # Is this run's fit to be trusted? Reference runs always update the reference; a
        # window is checked when it has something to announce, or (pogo) when landings
        # were seen in it, since a bad fit may also hide contacts.
        landings = self.kind == "contact" and self._impact_t >= now - self.window_s
        # (Heel raise: also a window whose axis flips the reference's, though it has
        # nothing new: its pitch would turn the tracking of the next rep upside down.)
        flipped = self.kind == "rep" and self._ref_lateral is not None
        flipped = flipped and float(res.alignment.lateral @ self._ref_lateral) <= 0
        # (Pogo: a run that is not checked saw no landing, so it cannot have missed the
        # contact that would continue a short round: see _close_short_round.)
        trusted = True
        if fresh or lo <= self._lo_ref or landings or flipped:
            res_run = res
            if self.kind == "rep":
                res, an, lo_checked, trusted = self._check_alignment(res, an, lo, now)
            else:
                res, an, lo_checked, trusted = self._check_lever_arm(res, an, lo, now, fixed)
            if lo_checked != lo or res is not res_run:  # (another run's result)
                lo, fresh = lo_checked, self._fresh(res, lo_checked, now)
            if not trusted:
                fresh = []
        out: list[LiveEvent] = []  # new events and status changes, in order
        early = False
        if self.kind == "contact" and trusted and self._early and lo <= self._lo_ref:
            self._settle_early(res, lo, now, out)
            fresh = self._fresh(res, lo, now)
        elif (
            self.kind == "contact"
            and not trusted
            and (self._fit is None or self._cand_arm is not None)
            and landings
        ):
            # No fit yet (a session's first contacts), or none window runs may use (a
            # candidate pending, often from a reference run over the rest and steps
            # between rounds, and a new round's first impacts too few for a fit of their
            # own: 0.5-1.9 s waits; or a reference two window runs agreed on, which
            # brings no reference run's fit: a window's own fit from a few impacts can
            # then be 3-7 cm short and find nothing, and a reference run over the
            # session's first seconds no better, seed 2 at 400 and 1000 Hz, a round's
            # 4th-11th contacts 0.25-0.6 s late): the early fit's, shown provisionally.
            # The athlete stood before the round, so its checks (lift, landing speed)
            # hold there too.
            fresh = self._early_contacts(res, lo, now)
            early = bool(fresh)
        self.last_result = res
        new: list[LiveEvent] = []
        sizes = self._round_sizes(res, now) if self.kind == "contact" and not early else {}
        for it, prev in fresh:
            ev = self._event(it, prev, now)
            if self.kind == "contact":
                established = sizes.get(it.round_index, 0) >= self.pogo_settings.min_round_contacts
                if not established and not self._plausible(ev):
                    break  # (nor any later one: it would hide this contact for good)
                ev = self._join_round(ev, now, out, established, early)
            self.events.append(ev)
            new.append(ev)
            out.append(ev)
            self._last_end = ev.end_s
        if self.kind == "contact" and trusted:
            self._close_short_round(res, now, out)
        if self.exercise == "heel-raise":
            self._retrack_pitch(an, res, announced=bool(new))
        else:
            if new:
                c = float(new[-1].contact_ms) / 1000.0
                self._contact_s = min(max(c, self.pogo_settings.min_contact_s), 0.45)
            done = any(abs(ev.start_s - self._impact_t) < 0.05 for ev in new)
            if done:
                self._dep_until = -np.inf
            later = [x for x in self._pending_runs if x > now] if not done else []
            self._pending_runs = later
            self._due_from = min(self._due_from, later[0] if later else np.inf)
            if new:
                self._reanchor_impacts(float(new[-1].end_s))
                last = new[-1]
                flight_s = self.pogo_settings.min_flight_s
                if last.flight_before_ms is not None:
                    flight_s = max(flight_s, last.flight_before_ms / 1000.0)
                self._next_takeoff_s = last.end_s + flight_s + self._contact_s
        return out

    # -- pogo: provisional contacts ---------------------------------------------------------

    def _round_sizes(self, res: PogoResult, now: float) -> dict[int, int]:
        """Pogo: complete contacts per round of a run (its round_index: every group)."""
        sizes: dict[int, int] = {}
        for c in res.contacts:
            if c.takeoff_s <= now - self.margin_s:
                sizes[c.round_index] = sizes.get(c.round_index, 0) + 1
        return sizes

    def _plausible(self, ev: LiveEvent) -> bool:
        """Pogo: a contact not yet in a round may be shown (provisionally) when its
        contact time is within ``_CONTACT_RATIO`` of the median of the last confirmed
        contacts (the same athlete's hops). A stale fit can take a round's take-off from
        standing and its flight for a contact (about twice as long): such a one waits for
        the round, as every contact did before, when a run will have fitted afresh."""
        ref = self._recent_ms()
        return ref is None or _within(ev.contact_ms, ref, _CONTACT_RATIO)

    def _recent_ms(self) -> float | None:
        """Pogo: the median contact time of the last confirmed contacts (ms), or None."""
        return float(np.median(self._recent_contact_ms)) if self._recent_contact_ms else None

    def _join_round(
        self,
        ev: LiveEvent,
        now: float,
        out: list[LiveEvent],
        established: bool = False,
        early: bool = False,
    ) -> LiveEvent:
        """Pogo: a new contact's place in the live round, and its status.

        The batch analysis keeps only rounds of ``min_round_contacts`` (3) in a row: a
        contact is in the round of the announced one before it when it landed within
        ``max_flight_s`` of that take-off (as ``_group_rounds`` has it). Until the round
        has that many (or the run that found it has that many in its round:
        ``established``), its contacts are provisional; the contact that completes it
        confirms them (status changes appended to ``out``, before it). A contact past that
        flight ends the round before it (retracted if short). A contact from an ``early``
        fit (:meth:`_early_contacts`) stays provisional, and confirms none, until a run
        with a trusted fit has checked it (:meth:`_settle_early`)."""
        st = self.pogo_settings
        if self._round:
            last = self.events[self._round[-1]]
            if ev.start_s - last.end_s > st.max_flight_s:
                self._end_round(now, out)
        self._round.append(len(self.events))
        if early:
            self._early[len(self.events)] = "unseen"
            return replace(ev, status="provisional")
        if len(self._round) < st.min_round_contacts and not established:
            return replace(ev, status="provisional")
        self._confirm_round(now, out, self._round[:-1])
        self._recent_contact_ms.append(float(ev.contact_ms))
        del self._recent_contact_ms[:-_RECENT_N]
        return ev

    def _confirm_round(self, now: float, out: list[LiveEvent], members: list[int]) -> None:
        """Pogo: the round is established: its provisional ``members`` (indices in
        ``events``) are confirmed (status changes appended to ``out``)."""
        for k in members:
            if self.events[k].provisional and k not in self._early:
                self.events[k] = replace(self.events[k], status="confirmed", resolved_at_s=now)
                out.append(self.events[k])
                self._recent_contact_ms.append(float(self.events[k].contact_ms))
        del self._recent_contact_ms[:-_RECENT_N]

    def _early_contacts(self, res: PogoResult, lo: int, now: float) -> list:
        """Pogo: before any fit is trusted (or while a candidate keeps window runs from
        the reference run's fit), the contacts to show (provisionally) from an early fit
        of the lever arm, as :meth:`_fresh` gives them.

        A run's own fit needs three landing windows, and from two contacts' worth it can
        be tens of cm off (then a take-off found 70 ms early, or a contact run on into the
        next); a session's first contacts would wait for the third and for two runs to
        agree (0.5-1.3 s). :meth:`~analysis.pogo.PogoAnalyzer.early_lever_arm` fits the
        lever arm over the planted stretches of every contact so far instead (one is
        enough), and the contacts found with it are shown when that fit is within a
        shoe's reach of the ball (``_MAX_ARM_M``) and, when the run's own fit (from two
        contacts on) is the same fit (within ``_ARM_TOL_M``), that fit finds the same
        contact, landing and take-off within ``_EARLY_AGREE_S``: two fits some cm apart
        agree on the edges of a contact that is there (they read the same ball,
        planted). An own fit farther off rests on three 60 ms windows against the early
        fit's whole planted stretches, and was the wrong one wherever they disagreed
        (seeds 0-7 at 200-1000 Hz: 10 first contacts held 0.25-0.7 s by it). Both can
        still take a flight for a contact, landing at a take-off burst (synthetic seeds
        4, 24, 29), so each must also have held the body up, whatever the lever arm: the
        sensor's mean specific force over it at least ``min_contact_lift_g``
        (:func:`contact_lift_g`); and have ended a fall: the sensor coming down into the
        landing (:func:`landing_speed_mps`, from the last still stretch within
        ``_EARLY_FALL_MAX_S``), or, with no still stretch that near, the landing ending a
        flight (a take-off shown within ``max_flight_s`` before it, the gap reading below
        ``min_contact_lift_g``: nothing held the body up). An own fit that misses the
        live round's contacts shown in the window (or finds none, where none was shown
        there) is asked nothing: it is not the fit that finds the round's contacts,
        however near its lever arm (seed 2 at 400 Hz: 7-9 cm, 4-7 cm from the early fit,
        and none of the round's contacts found, or one with its take-off 116 ms late)."""
        early = self._early_fit(lo, _MAX_ARM_M)
        if early is None:
            return []
        r, er = early
        b = self._buf
        t, acc, gyr = b.t[lo : b.n], b.acc[lo : b.n], b.gyr[lo : b.n]
        own = np.asarray(res.lever_arm_m, dtype=np.float64)
        # (No fit of its own, fewer than three windows, or not the same fit: no check.
        # Nor from an own fit that does not find the live round's contacts shown in this
        # window (or, with none shown here, finds no contact at all): the lever arm
        # matters only through the contacts it gives, and one that misses those is not
        # the fit that finds the round's contacts, however near its arm (seed 2 at
        # 400 Hz: 7-9 cm, 4-7 cm from the early fit; it found none of the round's
        # contacts, or one of them with its take-off 116 ms late).)
        shown = [self.events[i].item for i in self._round if self.events[i].start_s >= t[0]]
        same_fit = (
            (all(_finds(res, c) for c in shown) if shown else bool(res.contacts))
            and 0.0 < float(np.linalg.norm(own))
            and float(np.linalg.norm(own - r)) <= _ARM_TOL_M
        )
        fresh = self._fresh(er, lo, now)
        if not fresh:
            return []
        landing = np.array([it.landing_s for it, _ in fresh])
        takeoff = np.array([it.takeoff_s for it, _ in fresh])
        # Each contact's lift, and the gap's before it (from the live round's last
        # take-off, or the previous contact's here; see below), in one pass.
        last_s = self.events[self._round[-1]].end_s if self._round else -np.inf
        before_s = np.concatenate([[last_s], takeoff[:-1]])
        k = len(fresh)
        both_g = contact_lift_g(
            t,
            acc,
            gyr,
            np.concatenate([landing, np.maximum(before_s, float(t[0]))]),
            np.concatenate([takeoff, landing]),
        )
        lift_g, gap_g = both_g[:k], both_g[k:]
        # The fall before each landing, from the last still stretch (the athlete stood
        # before the round): up to _EARLY_FALL_MAX_S before it, wherever the window starts.
        a = int(np.searchsorted(b.t[: b.n], landing[0] - _EARLY_FALL_MAX_S - 0.5))
        a = min(a, lo)
        v_mps = landing_speed_mps(
            b.t[a : b.n],
            b.acc[a : b.n],
            b.gyr[a : b.n],
            landing,
            fs_hz=self.fs_hz,
            max_s=_EARLY_FALL_MAX_S,
        )
        # Past the standing's reach (a round's later contacts), a landing ends a fall when
        # it ends a flight: the gap since the take-off before it (the live round's last
        # contact's, or the previous one shown here) within max_flight_s, and read as a
        # flight, not a contact (the sensor's mean specific force over it below
        # min_contact_lift_g: nothing held the body up, so it was off the ground and came
        # down; a push-off from standing has no take-off before it, and a final landing
        # and standing in the gap read 1 g or more).
        st = self.pogo_settings
        min_lift_g = st.min_contact_lift_g
        after_flight = (landing - before_s <= st.max_flight_s) & (gap_g < min_lift_g)
        min_fall_mps = min_landing_speed_mps(st)
        fell = np.where(np.isnan(v_mps), after_flight, v_mps <= -min_fall_mps)
        out = []
        for (it, prev), lift, down in zip(fresh, lift_g, fell, strict=True):
            if not (lift >= min_lift_g and down):
                break  # (nor any later one: it would hide this contact for good)
            if same_fit and not _finds(res, it):
                break  # (nor any later one: it would hide this contact for good)
            out.append((it, prev))
        return out

    def _settle_early(self, res: PogoResult, lo: int, now: float, out: list[LiveEvent]) -> None:
        """Pogo: a reference run with a trusted fit checks the contacts shown from an
        early fit (those its span holds: one before it, past every run's reach, is
        left as shown). It finds one (landing within ``_SAME_S``) or not; when its version
        agrees with the early one (landing and take-off within ``_EARLY_AGREE_S``), or
        with the previous reference run's (two fits on more contacts agreeing), the
        contact takes it: its times (shown when the round confirms it), or retracted when
        not found. Else it waits for the next reference run, with more contacts to fit:
        a trusted fit from the first few contacts can itself run a contact on over its
        flight where the early fit and the final analysis do not. A round the settled
        contacts complete is then confirmed."""
        contacts = res.contacts
        land = np.array([c.landing_s for c in contacts])
        take = np.array([c.takeoff_s for c in contacts])
        for k in sorted(self._early):
            ev = self.events[k]
            if not ev.provisional:
                del self._early[k]
                continue
            if ev.start_s < float(self._buf.t[lo]) + 0.1:  # (the planted window's margin)
                del self._early[k]
                continue
            d = np.abs(land - ev.start_s)
            j = int(np.argmin(d)) if len(d) else -1
            seen = (float(land[j]), float(take[j])) if j >= 0 and d[j] <= _SAME_S else None
            last = self._early[k]
            same_early = (
                seen is not None
                and max(abs(seen[0] - ev.start_s), abs(seen[1] - ev.end_s)) <= _EARLY_AGREE_S
            )
            same_last = last != "unseen" and (
                (seen is None and last is None)
                or (
                    seen is not None
                    and last is not None
                    and max(abs(seen[0] - last[0]), abs(seen[1] - last[1])) <= _EARLY_AGREE_S
                )
            )
            if not (same_early or same_last):
                self._early[k] = seen
                continue
            del self._early[k]
            if seen is None:
                self.events[k] = replace(ev, status="retracted", resolved_at_s=now)
                out.append(self.events[k])
                if k in self._round:
                    self._round.remove(k)
                continue
            # The reference run's version, as first shown (same number, status).
            prev = contacts[j - 1] if j > 0 else None
            settled = self._event(contacts[j], prev, ev.announced_at_s)
            self.events[k] = replace(settled, number=ev.number, status=ev.status)
        kept = [e.end_s for e in self.events if not e.retracted]
        self._last_end = max(kept) if kept else -np.inf
        st = self.pogo_settings
        if len(self._round) >= st.min_round_contacts:
            self._confirm_round(now, out, self._round)

    def _end_round(self, now: float, out: list[LiveEvent]) -> None:
        """Pogo: the live round is over; its contacts still provisional are retracted.
        But in a round that trusted contacts established, a contact shown from an early
        fit that no reference run has checked yet (none may run before the round's end)
        keeps its times, confirmed: it held the body up and two fits agreed on it."""
        established = len(self._round) >= self.pogo_settings.min_round_contacts and any(
            not self.events[k].provisional for k in self._round
        )
        for k in self._round:
            if self.events[k].provisional:
                status = "confirmed" if established and k in self._early else "retracted"
                self.events[k] = replace(self.events[k], status=status, resolved_at_s=now)
                self._early.pop(k, None)
                out.append(self.events[k])
        self._round = []

    def _close_short_round(self, res: PogoResult, now: float, out: list[LiveEvent]) -> None:
        """Pogo: after a trusted run, retract a round still short of
        ``min_round_contacts`` once no contact can continue it any more: a landing within
        ``max_flight_s`` of its last take-off would have taken off within ``max_contact_s``
        (longer is a final landing), complete ``margin_s`` later, and this run, which saw
        the samples, found none (one it found but did not show keeps the round open)."""
        st = self.pogo_settings
        if not self._round or len(self._round) >= st.min_round_contacts:
            return
        last = self.events[self._round[-1]]
        if now - self.margin_s <= last.end_s + st.max_flight_s + st.max_contact_s + 0.05:
            return
        for c in res.contacts:
            if last.end_s + _SAME_S < c.landing_s <= last.end_s + st.max_flight_s:
                return
        self._end_round(now, out)

    def _check_alignment(self, res, an, lo: int, now: float):
        """Heel raise: the run to announce from, and whether to trust it.

        The sign of the foot's lateral axis comes from a cue: strides or the lever arm of
        the pivot (strong), else which excursion from standing is larger (weak: on a step
        the lowered heel may win). A window without the session's first standing or
        strides, or the first seconds of a session, may give only the weak cue, and a run
        that flips the axis turns lowered heels into 'reps'. So:

        * a reference run (the last ``reference_s`` of the buffer) is made now and then
          (every 10 s or 10 % of its span, whichever is longer) and whenever a window's
          axis disagrees with the reference; that run is used instead;
        * the reference axis is the latest run's, except that a run with a weak cue never
          overturns it: once the reference has a strong cue, runs take the sign from it
          where their own cue is weak (``given``), and otherwise a weak run that flips it
          announces nothing (the next runs will);
        * a run with a strong cue that overturns the reference is taken as the new
          reference, and announces only if the reference was weak too.
        """
        ref, ref_strong = self._ref_lateral, self._ref_strong
        lateral = np.asarray(res.alignment.lateral, dtype=np.float64)
        if lo > self._lo_ref:
            span = now - float(self._buf.t[self._lo_ref])
            stale = now - self._ref_t >= max(10.0, 0.1 * span)
            if ref is not None and not stale and float(lateral @ ref) > 0:
                return res, an, lo, True
            if ref is not None and not stale and now - self._ref_t < 2.0:
                return res, an, lo, False  # disagrees with a fresh reference: wait
            whole = self._whole(now)
            if whole is None:
                return res, an, lo, False
            res, an, lo = whole
            lateral = np.asarray(res.alignment.lateral, dtype=np.float64)
        else:
            self._ref_t = now
        strong = res.alignment.sign_method not in ("larger-excursion", "given")
        if ref is None or float(lateral @ ref) > 0:
            self._ref_strong = strong or (ref is not None and ref_strong)
            self._ref_lateral = lateral
            return res, an, lo, True
        if not strong:
            return res, an, lo, False
        self._ref_lateral, self._ref_strong = lateral, True
        return res, an, lo, not ref_strong

    def _fresh(self, res, lo: int, now: float) -> list:
        """(item, previous item) of a run's events that are complete and not announced."""
        w0 = float(self._buf.t[lo])
        lead = 0.0 if lo == 0 else _LEAD_S
        items = res.reps if self.kind == "rep" else res.contacts
        out = []
        last_end = self._last_end
        # Runs see the same rep with slightly different boundaries: a new one starts
        # after the newest announced one ended (reps and contacts never overlap), and a
        # contact a flight after the last take-off (as the batch analysis has it: a run
        # that took a take-off burst for a landing at the window's start would else
        # announce the flights).
        gap_s = self.pogo_settings.min_flight_s if self.kind == "contact" else 0.0
        for k, it in enumerate(items):
            end = _end_of(self.kind, it)
            start = _start_of(self.kind, it)
            if end is None or start is None or start <= last_end + gap_s + _SEPARATION_S:
                continue
            if end > now - self.margin_s or start < w0 + lead:
                continue
            out.append((it, items[k - 1] if k > 0 else None))
            last_end = end
        return out

    def _whole(self, now: float):
        """A reference run: the batch analysis of the last ``reference_s`` of the buffer
        (all of it in a shorter session), as (result, analyzer, first sample), or None."""
        c0 = time.thread_time()
        lo = self._lo_ref
        try:
            return (*self._analyze(lo, self._buf.n), lo)
        except Exception:  # as in _run: a live run never stops the stream
            return None
        finally:
            cpu_s = time.thread_time() - c0
            self._ref_cost_per_s = cpu_s / max(now - float(self._buf.t[lo]), 1e-3)
            self.analysis_cpu_s += cpu_s
            self.runs += 1
            self._ref_t = now

    def _check_lever_arm(self, res, an, lo: int, now: float, fixed: bool = False):
        """Pogo: the run to announce from, and whether to trust it.

        Everything hangs on the lever arm (the sensor's position from the ball), which a
        run fits from the impacts it sees. A few impacts, or a window of walking, can give
        a wrong fit, and with it contacts that are not there or missed ones. So a run's
        contacts are announced only when its fit agrees (within ``_ARM_TOL_M``) with the
        reference, a fit that two runs have agreed on. A window that found no contact or
        disagrees while landings were seen in it is replaced by a reference run (the last
        ``reference_s`` of the buffer), at most every 2 s or 10 % of its span. A reference
        run that agrees makes its fit the one window runs use (they then need not fit); a
        fit that disagrees, and would change what is shown (:meth:`_changes_nothing`),
        is a candidate, and until a run agrees with one or the other,
        window runs fit again. A run agreeing with the candidate confirms it only with
        evidence its proposer did not have (:meth:`_independent`); a window that agrees
        without it, and has contacts to show, has a reference run check it at once (at
        most every ``_CHECK_EVERY_S``). A candidate a reference run proposed brings that
        run's fit with it, for window runs to use once it is confirmed.

        Only runs with contacts in a round (:meth:`_in_rounds`) vouch for a fit: a round's
        first impacts are too few to fit one. A window run with the reference run's fit
        (``fixed``) that finds contacts not yet in a round, and is not replaced by a
        reference run, is trusted: its fit is the reference (its contacts are shown
        provisionally).
        """
        tol = _ARM_TOL_M

        def near(a: np.ndarray, b: np.ndarray | None) -> bool:
            return b is not None and float(np.linalg.norm(a - b)) <= tol

        arm = np.asarray(res.lever_arm_m, dtype=np.float64)
        ref = self._ref_arm
        if float(np.linalg.norm(arm)) > _MAX_ARM_M:
            return res, an, lo, False
        unusual = self._unusual(res, lo, now) if fixed else set()
        if unusual and self._second_opinion(res, lo, now, unusual):
            self._checked |= unusual
            unusual = set()
        if unusual:
            if now - self._ref_t < _CHECK_EVERY_S:  # a run checks it as soon as it may
                self._due_from = min(self._due_from, self._ref_t + _CHECK_EVERY_S)
                return res, an, lo, False
            self._checked |= unusual
            whole = self._whole(now)
            if whole is None:
                return res, an, lo, False
            res, an, lo = whole
            arm = np.asarray(res.lever_arm_m, dtype=np.float64)
            fixed = False
        if self._in_rounds(res) and near(arm, ref):
            self._set_reference(res, an, lo)
            self._cand_arm = None  # confirmed: a fit that disagreed was the odd one
            if not fixed and lo > self._lo_ref and self._fit is not None:
                # A window that fitted its own (a candidate was pending) agrees with the
                # reference on the lever arm, not on the rest of the fit: the planted
                # offset of a few impacts can be 0.3 g off, and the test that the ball
                # stood planted before a burst (within planted_tol_g of 1 g plus the
                # offset) then takes a take-off from standing for a landing (seed 84 at
                # 100 Hz, a third round's push-off shown as a contact, 3.95 m/s^2
                # against 0.85). The contacts are those of the fit it confirmed, which
                # window runs use from now on.
                own = self._extra_run(lo, fixed=True)
                if own is not None:
                    res, an = own
            return res, an, lo, True
        span = now - float(self._buf.t[self._lo_ref])
        landings = self._impact_t >= now - self.window_s
        gap = max(2.0, 0.1 * span)
        if (
            not fixed
            and near(arm, self._cand_arm)
            and not self._independent(res, lo)
            and self._fresh(res, lo, now)
        ):
            # A window that agrees with the candidate on the data it was fitted on has
            # contacts to show: a reference run (the longer span) checks it as soon as
            # it may, rather than the contacts waiting for the next reference run.
            gap = _CHECK_EVERY_S
            if now - self._ref_t < gap:
                self._due_from = min(self._due_from, self._ref_t + gap)
        if lo > self._lo_ref and landings and now - self._ref_t >= gap:
            whole = self._whole(now)
            if whole is not None:
                res, an, lo = whole
                arm = np.asarray(res.lever_arm_m, dtype=np.float64)
                fixed = False
        if fixed and res.contacts:
            return res, an, lo, True
        if not self._in_rounds(res):
            return res, an, lo, False
        if near(arm, ref) or (near(arm, self._cand_arm) and self._independent(res, lo)):
            if not near(arm, ref):
                self._fit = None  # the reference moves: a reference run must agree anew
            self._set_reference(res, an, lo)
            if self._fit is None and self._cand_fit is not None and not near(arm, ref):
                # A reference run proposed it, and this run agrees: that is a reference
                # run's fit two runs agree on, the one window runs use. (Window runs
                # left to fit on their own fit a few contacts each, and pairs of them
                # then move the reference: seed 104 at 100 Hz, its third round.)
                self._ref_arm = self._cand_fit[0]
                self._fit = self._cand_fit
            self._cand_arm = None
            return res, an, lo, True
        if near(arm, self._cand_arm):
            return res, an, lo, False  # (the same evidence again: the candidate waits)
        if self._changes_nothing(res, lo, now):
            return res, an, lo, False
        self._cand_arm = arm
        self._cand_from = float(self._buf.t[lo])
        self._cand_seen = np.array([c.landing_s for c in res.contacts])
        self._cand_fit = self._reference_fit(res, an, lo)
        return res, an, lo, False

    def _changes_nothing(self, res: PogoResult, lo: int, now: float) -> bool:
        """Pogo: a run whose fit disagrees with the reference but finds exactly the
        contacts shown in its span (each landing and take-off within ``_EARLY_AGREE_S``,
        none new, none lost) makes no case against it: the lever arm matters only through
        the contacts it gives. Such a fit is not made a candidate. (A reference run over
        the end of a round and a rest of steps and weight shifts fitted an arm 12 cm off
        from the round's contacts, all as shown; as a candidate it kept window runs from
        the reference fit, and the next round's first two contacts waited for its third,
        0.55-1.1 s: held-out seed 105 at 1 kHz.)"""
        w0 = float(self._buf.t[lo]) + (0.0 if lo == 0 else _LEAD_S)
        end = now - self.margin_s
        mine = [(c.landing_s, c.takeoff_s) for c in self._complete(res, lo, now)]
        shown = [
            (e.start_s, e.end_s)
            for e in self.events
            if not e.retracted and e.start_s >= w0 and e.end_s <= end
        ]
        if len(mine) != len(shown):
            return False
        d = np.abs(np.array(mine, dtype=float) - np.array(shown, dtype=float))
        return bool(len(mine) == 0 or d.max() <= _EARLY_AGREE_S)

    def _independent(self, res: PogoResult, lo: int) -> bool:
        """Pogo: does a run that agrees with the candidate fit confirm it? Only with
        evidence the run that proposed it did not have: at least ``_NEW_CONTACTS``
        contacts it did not see (a reference run sees the round's contacts before a
        window; a later run, the contacts since). Two window runs a few samples apart fit
        the same impacts, and a window's fit can be far off: seed 104 at 100 Hz (ten-five
        hops, 5-6 contacts per 4 s window), consecutive windows fitted and "confirmed"
        (0.05, -0.01, -0.20) m, then (0.18, 0.08, -0.12) m, while its reference runs (8-10
        contacts) fitted (-0.06, -0.01, 0.01) m and the session (0.00, 0.05, 0.07) m; a
        take-off was shown 47 ms early. Fewer do when fewer exist: the confirmed contacts
        in the reference span that the proposer did not see (none in a session's first
        seconds or for a reference run's candidate: then the next run that agrees
        confirms it, as no run can see more yet; one when a window run's candidate is
        checked by a reference run a round's second hop later). A reference run that
        starts before the proposer's first sample found every contact there is in its
        span, however many that is (at a session's start, a provisional contact shown
        from the early fit may be no contact: seed 115 at 100 Hz). But a run that found
        exactly the proposer's contacts, none more and none fewer, fitted the same
        impacts again, whatever its span (the longer one may hold only standing): its
        agreeing is no evidence. Then a fit on other data decides: the early fit of the
        planted stretches must find the run's contacts too (:meth:`_early_fit_finds`).
        (Seeds 115 and 73 at 100 Hz, a session's first round: a window fit of the first
        three contacts, one of them the take-off from standing, or each take-off 50 ms
        early, was "confirmed" 40-50 ms later by a window or a reference run on the same
        three, and contacts shown 107 and 48 ms off; the early fit found the take-offs
        where the final analysis has them. Where it agrees, as on the first rounds of
        seeds 84 and 104, the contacts are shown as soon as before.)"""
        seen = self._cand_seen

        def unseen(landings: np.ndarray, of: np.ndarray = seen) -> int:
            if not len(of):
                return len(landings)
            if not len(landings):
                return 0
            gap = np.abs(landings[:, None] - of[None, :]).min(axis=1)
            return int((gap > _SAME_S).sum())

        mine = np.array([c.landing_s for c in res.contacts])
        if unseen(mine) == 0 and unseen(seen, mine) == 0:
            if self._second_fit[0] is not res:  # (asked twice of a run: fitted once)
                self._second_fit = (res, self._early_fit_finds(res, lo))
            return self._second_fit[1]
        if lo <= self._lo_ref and float(self._buf.t[lo]) < self._cand_from:
            return True

        t_ref = float(self._buf.t[self._lo_ref])
        known = []
        for e in reversed(self.events):  # (in time order: only the span's last few)
            if e.start_s < t_ref:
                break
            if e.status == "confirmed":  # (a provisional one may be no contact)
                known.append(e.start_s)
        need = min(_NEW_CONTACTS, unseen(np.array(known)))
        return unseen(mine) >= need

    def _unusual(self, res: PogoResult, lo: int, now: float) -> set[float]:
        """Pogo: what a window run with the reference run's fit found that a reference
        run should check (landing times, s, to 10 ms; each is checked once): a contact it would
        announce whose contact time is outside ``_CHECK_RATIO`` of the recent confirmed
        ones; the latest landing impact of the live round, a flight after its last
        take-off, when no contact of the run landed there although it would be over."""
        ref = self._recent_ms()
        if ref is None:
            return set()
        st = self.pogo_settings
        out = {
            round(c.landing_s, 2)  # (runs place a landing within a ms or two)
            for c, _ in self._fresh(res, lo, now)
            if not _within(c.contact_ms, ref, _CHECK_RATIO)
        }
        t_imp = self._impact_t
        if self._round and round(t_imp, 2) not in self._checked:
            last = self.events[self._round[-1]].end_s
            in_round = last + st.min_flight_s - _SAME_S < t_imp <= last + st.max_flight_s
            over = now - self.margin_s > t_imp + _CHECK_RATIO[1] * ref / 1000.0 + 0.01
            # A landing there would hold the ball down for a contact's worth of time: a
            # contact of the run landing within that (or on the impact) accounts for it
            # (an impact in the flight before the landing: a 2.2 g hump 45 ms before
            # it, synthetic seed 2 at 1 kHz, held a contact 140 ms for a reference run).
            seen = any(-_SAME_S <= c.landing_s - t_imp < st.min_contact_s for c in res.contacts)
            if in_round and over and not seen:
                out.add(round(t_imp, 2))
        return out - self._checked

    def _second_opinion(self, res: PogoResult, lo: int, now: float, unusual: set[float]) -> bool:
        """Pogo: does the window's own fit find each unusual contact of a run with the
        reference run's fit, landing and take-off within ``_EARLY_AGREE_S``? Then it
        needs no reference run: two fits on different data (the reference run's 40 s,
        the window's 4 s) some cm apart agree on the edges of a contact that is there,
        as for a session's first contacts. A reference run costs 90-130 ms at 1 kHz, the
        window's fit about a tenth of it; the check held each such contact back by that
        much on the host, and live, sharing the cores, over 150 ms: the live bench's
        only late contacts (2 of 251, 224-270 ms), both 15 % longer than the recent ones,
        a hop's ordinary variation. A missed landing (no contact to compare) still goes
        to a reference run."""
        mine = [c for c, _ in self._fresh(res, lo, now) if round(c.landing_s, 2) in unusual]
        if len(mine) != len(unusual):
            return False
        run = self._extra_run(lo, fixed=False)
        if run is None:
            return False
        own = run[0]
        if not 0.0 < float(np.linalg.norm(own.lever_arm_m)) <= _MAX_ARM_M:
            return False
        return all(_finds(own, c) for c in mine)

    def _early_fit_finds(self, res: PogoResult, lo: int) -> bool:
        """Pogo: does the early fit (:meth:`~analysis.pogo.PogoAnalyzer.early_lever_arm`,
        over the whole planted stretches of the contacts in the run's span, not three
        60 ms windows after impacts) find each complete contact of the run, landing and
        take-off within ``_EARLY_AGREE_S``? Two fits on different data that agree on the
        edges of the contacts they are asked to show: the second opinion a run that only
        saw its proposer's contacts again cannot give. (Its reach is not asked: only
        whether the edges hang on the fit.)"""
        mine = self._complete(res, lo, self.t_end_s)
        if not mine:
            return False
        early = self._early_fit(lo)
        if early is None:
            return False
        er = early[1]
        return bool(er.contacts) and all(_finds(er, c) for c in mine)

    def _complete(self, res: PogoResult, lo: int, now: float) -> list[Contact]:
        """Pogo: a run's contacts past its window's lead-in (``_LEAD_S``, where a contact
        may be cut) whose take-off is at least ``margin_s`` before ``now``."""
        w0 = float(self._buf.t[lo]) + (0.0 if lo == 0 else _LEAD_S)
        end = now - self.margin_s
        return [c for c in res.contacts if c.landing_s >= w0 and c.takeoff_s <= end]

    def _early_fit(self, lo: int, max_arm_m: float = np.inf):
        """Pogo: the window from ``lo`` analysed with the early fit of the lever arm
        (:meth:`~analysis.pogo.PogoAnalyzer.early_lever_arm`), as (r, result); None when
        that fit found no planted stretch or lies beyond ``max_arm_m`` (m), or the
        analysis failed."""
        b = self._buf
        t, acc, gyr = b.t[lo : b.n], b.acc[lo : b.n], b.gyr[lo : b.n]
        an = PogoAnalyzer(self._live_pogo_settings)
        c0 = time.thread_time()
        try:
            r, offset = an.early_lever_arm(t, acc, gyr, fs_hz=self.fs_hz)
            if not 0.0 < float(np.linalg.norm(r)) <= max_arm_m:
                return None
            er = an.analyze(
                t,
                acc,
                gyr,
                fs_hz=self.fs_hz,
                body_mass_kg=self.body_mass_kg,
                lever_arm_m=r,
                planted_offset_mps2=offset,
            )
        except Exception:  # as in _run: a live run never stops the stream
            return None
        finally:
            self.analysis_cpu_s += time.thread_time() - c0
            self.runs += 1
        return r, er

    def _extra_run(self, lo: int, fixed: bool):
        """Pogo: the window from ``lo`` analysed once more, with the reference run's fit
        (``fixed``) or fitting its own, as (result, analyzer), or None."""
        c0 = time.thread_time()
        try:
            return self._analyze(lo, self._buf.n, fixed=fixed)
        except Exception:  # as in _run: a live run never stops the stream
            return None
        finally:
            self.analysis_cpu_s += time.thread_time() - c0
            self.runs += 1

    def _in_rounds(self, res: PogoResult) -> bool:
        """Pogo: the run found contacts in a round (``min_round_contacts`` in a row): the
        batch analysis would keep them. Only such runs vouch for their own fit (a round
        start has too few impacts for one); its contacts not yet in a round are announced
        from it, provisionally, once it is trusted."""
        need = self.pogo_settings.min_round_contacts
        if need <= 1:
            return bool(res.contacts)
        counts = np.bincount([c.round_index for c in res.contacts], minlength=1)
        return bool((counts >= need).any())

    def _set_reference(self, res: PogoResult, an: PogoAnalyzer, lo: int) -> None:
        """Pogo: a trusted run's lever arm is the reference; a reference run's fit (on
        more than a window of data) is also the one window runs use."""
        self._ref_arm = np.asarray(res.lever_arm_m, dtype=np.float64)
        fit = self._reference_fit(res, an, lo)
        if fit is not None:
            self._fit = fit

    def _reference_fit(self, res: PogoResult, an: PogoAnalyzer, lo: int):
        """Pogo: a reference run's fit (lever arm, planted offset, gyro delay), or None
        for a run on no more than a window of data."""
        b = self._buf
        if lo <= self._lo_ref and b.t[b.n - 1] - b.t[lo] > self.window_s:
            delay_s = float(res.rate_delay_ms) / 1000.0
            arm = np.asarray(res.lever_arm_m, dtype=np.float64)
            return (arm, float(an.planted_offset_mps2_), delay_s)
        return None

    def _fixed_kwargs(self, fixed: bool) -> dict[str, Any]:
        """Pogo: the analysis' keywords for a run with the reference run's fit."""
        if not fixed or self._fit is None:
            return {}
        arm, offset_mps2, delay_s = self._fit
        return {"lever_arm_m": arm, "planted_offset_mps2": offset_mps2, "rate_delay_s": delay_s}

    def _reference_due(self, now: float) -> bool:
        """Pogo: time for a reference run: a landing since the last one (else there is
        nothing new to fit), no sooner than :meth:`_check_lever_arm` would make one, and
        no take-off due before it would end (its cost taken as twice the last one's per
        second of data, for the other threads it shares the cores with)."""
        span = now - float(self._buf.t[self._lo_ref])
        if self._impact_t <= self._ref_t or now - self._ref_t < max(2.0, 0.1 * span):
            return False
        if now >= self._due_from:
            return False
        next_due = self._due_from
        expected = self._next_takeoff_s + self.margin_s + 0.01  # (before its landing)
        if expected > now:
            next_due = min(next_due, expected)
        return next_due - now >= 2.0 * self._ref_cost_per_s * span

    def _event(self, it: Rep | Contact, prev: Rep | Contact | None, now: float) -> LiveEvent:
        number = len(self.events) + 1
        times = _times(self.kind, it)
        end = float(_end_of(self.kind, it))
        start = _start_of(self.kind, it)
        if self.kind == "contact":
            flight = None
            if isinstance(prev, Contact) and prev.round_index == it.round_index:
                flight = prev.flight_ms
            return LiveEvent(
                kind="contact",
                number=number,
                start_s=start,
                end_s=end,
                announced_at_s=now,
                times_s=times,
                contact_ms=it.contact_ms,
                flight_before_ms=flight,
                item=it,
            )
        verdict = None
        fast: tuple[str, ...] = ()
        if self.tempo is not None:
            tol = self.hr_settings.tolerance
            targets = {"up": self.tempo.up_s, "hold": self.tempo.hold_s, "down": self.tempo.down_s}
            measured = {"up": it.up_s, "hold": it.top_hold_s, "down": it.down_s}
            verdict = {k: tol.passes(measured[k], targets[k]) for k in targets}
            fast = tuple(
                k
                for k in targets
                if measured[k] is not None
                and measured[k] < targets[k] - max(tol.abs_s, tol.rel * targets[k])
            )
        return LiveEvent(
            kind="rep",
            number=number,
            start_s=start,
            end_s=end,
            announced_at_s=now,
            times_s=times,
            up_s=it.up_s,
            hold_s=it.top_hold_s,
            down_s=it.down_s,
            rom_deg=it.rom_deg,
            tempo_pass=verdict,
            fast_phases=fast,
            item=it,
        )

    # -- heel raise: the gyro-extended pitch between runs -----------------------------------

    def _retrack_pitch(self, an: HeelRaiseAnalyzer, res: HeelRaiseResult, announced: bool):
        pitch, sig = an.pitch_deg_, an.signal_
        if pitch is None or sig is None or len(pitch) == 0:
            return
        al = res.alignment
        self._lateral = np.asarray(al.lateral, dtype=np.float64)
        self._bias = np.asarray(al.gyr_bias_dps, dtype=np.float64)
        # The run's pitch is the gyro integral plus the accelerometer's tilt correction
        # (a complementary filter, see :func:`analysis.orientation.pitch_from_axis`), and
        # that correction still moves at the window's end: with a window's gyro bias a few
        # deg/s off (its still samples include a slow lowering), by as much. The extension
        # carries on at the rate the correction had over the run's last 0.5 s (its time
        # constant is 2 s), so that the pitch tracked between runs stays on the run's.
        k, m = int(round(0.5 * sig.fs_hz)), len(pitch)
        self._drift_dps = 0.0
        if m > k and bool(sig.valid[m - k - 1 : m].all()):
            r = (sig.gyr_dps[m - k - 1 : m] - self._bias) @ self._lateral
            gyro_deg = float(np.sum(r[1:] + r[:-1])) * 0.5 / sig.fs_hz
            self._drift_dps = (float(pitch[-1] - pitch[-k - 1]) - gyro_deg) * sig.fs_hz / k
        # The pitch at the newest sample: the run's last grid point, extended by the gyro.
        t_last_grid = float(sig.time_of(len(pitch) - 1))
        b = self._buf
        j = int(np.searchsorted(b.t[: b.n], t_last_grid, side="right"))
        self._theta = float(pitch[-1]) + self._integrate(b.t[j - 1 : b.n], b.gyr[j : b.n])
        # Base and peak of the movement since the newest announced rep (a rep this run
        # found but cannot announce yet, too close to the newest sample, stays pending);
        # once the runs after a fire are over and announced nothing (a step, a stride),
        # since that fire, so that the next rep fires again.
        spent = self._fired and not announced and self.t_end_s > self._fast_until
        start_s = max(self._last_end, self._fired_s) if spent else self._last_end
        i0 = 0
        if np.isfinite(start_s):
            i0 = int(np.ceil((start_s - sig.t0_s) * sig.fs_hz))
        i0 = min(max(i0, len(pitch) - int(10 * sig.fs_hz), 0), len(pitch))
        seg = np.append(pitch[i0:], self._theta)
        k = int(np.argmin(seg))
        self._base = float(seg[k])
        self._peak = float(seg[k:].max())
        self._armed = self._peak - self._base >= self.hr_settings.min_rom_deg
        if announced or not self._armed or spent:
            self._fired = False
            self._fast_until = -np.inf

    def _integrate(self, t_with_prev: np.ndarray, gyr: np.ndarray) -> float:
        """Pitch change over ``gyr`` (samples after ``t_with_prev[0]``), deg."""
        if gyr.shape[0] == 0 or self._lateral is None:
            return 0.0
        rate = (gyr - self._bias) @ self._lateral + self._drift_dps
        dt = np.minimum(np.diff(t_with_prev), 3.0 / self.fs_hz)
        return float(rate @ dt)

    def _track_pitch(self, t_prev: float, t: np.ndarray, gyr: np.ndarray) -> None:
        if self._lateral is None:
            return
        rate = (gyr - self._bias) @ self._lateral + self._drift_dps
        dt = np.diff(t, prepend=t_prev if np.isfinite(t_prev) else t[0])
        dt = np.minimum(dt, 3.0 / self.fs_hz)
        theta = self._theta + np.cumsum(rate * dt)
        n_rate = max(1, int(0.05 * self.fs_hz))
        self._rate_dps = float(rate[-n_rate:].mean())
        min_rom = self.hr_settings.min_rom_deg
        if not self._armed:
            lows = np.minimum.accumulate(np.minimum(theta, self._base))
            rise = theta - lows
            k = int(np.argmax(rise))
            if rise[k] >= min_rom or self._peak - self._base >= min_rom:
                self._armed = True
                self._base = float(lows[k])
                self._peak = max(self._peak, float(theta[k:].max()))
            else:
                self._base = float(lows[-1])
                self._peak = max(float(theta[-1]), self._base)
        else:
            self._peak = max(self._peak, float(theta.max()))
        self._theta = float(theta[-1])
        if self._armed and not self._fired:
            if self._theta <= self._base + 0.15 * (self._peak - self._base):
                self._fired, self._fired_s = True, float(t[-1])
                self._due_from = float(t[-1]) + self.margin_s
                self._fast_until = float(t[-1]) + 1.5

    # -- pogo: landing impacts --------------------------------------------------------------

    def _impacts(self, acc: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Pogo: times of the samples whose specific force (m/s^2, shape (n, 3)) is over
        ``min_impact_g``."""
        thr = self.pogo_settings.min_impact_g * GRAVITY_MPS2
        return t[np.einsum("ij,ij->i", acc, acc) > thr * thr]

    def _track_impacts(self, t_big: np.ndarray) -> None:
        """Pogo: schedule runs after each landing impact, about when its take-off is due.

        An impact (specific force above ``min_impact_g``) more than the expected contact
        plus 0.1 s after the previous one is a landing (the take-off burst that follows a
        landing by one contact time is not; see also :meth:`_reanchor_impacts`); runs are
        due at the landing plus the last contact time plus ``margin_s`` and 10 ms (the
        take-off edge must be in the buffer), then every ``fast_update_s`` for 300 ms or
        until that contact is announced; before any contact was shown, from the landing
        plus ``min_contact_s`` on. An earlier landing's runs still to come are kept
        (an impact taken for a landing may be a slap or a burst in the same contact).
        ``t_big``: the times of impact samples, in order (the sensor's, and once the
        mounting is fitted the ball's too: :meth:`_watch_ball`, which then also makes a
        run due when the ball leaves the ground).
        """
        if not len(t_big):
            return
        quiet = self._contact_s + 0.1
        new = t_big[t_big > self._landing_from]
        if not len(new):
            return
        # The first of these is a landing; later ones within the quiet time are its burst.
        t_land = float(new[0])
        rest = new[new > t_land + quiet]
        if len(rest):
            t_land = float(rest[-1])
        self._impact_t = t_land
        self._landing_from = t_land + quiet
        self._dep_from = t_land + self.pogo_settings.planted_window_s[1]
        self._dep_until = t_land + self.pogo_settings.max_contact_s
        due = t_land + self._contact_s + self.margin_s + 0.01
        # The take-off may come earlier or later than the last contact time says (the
        # impact may precede the landing, contacts vary from hop to hop, and the impact
        # may be a burst or a slap in the contact): runs every fast_update_s for 300 ms.
        # Before any contact was shown there is no last contact time: the runs start
        # where the shortest contact would be over (a first contact of 160 ms waited
        # for the runs after 250 ms, and was shown 150-180 ms after its take-off).
        lead = 0.0 if self.events else self._contact_s - self.pogo_settings.min_contact_s
        first = due - lead
        earlier = [x for x in self._pending_runs if x < first]
        n = int(np.floor((0.3 + lead) / self.fast_update_s)) + 1
        self._pending_runs = earlier + [first + float(d) for d in np.arange(n) * self.fast_update_s]
        self._due_from = min(self._due_from, first)

    def _ball_force(self, i0: int, i1: int) -> tuple[np.ndarray, np.ndarray]:
        """Pogo: times (s) and |specific force| at the ball (m/s^2) of buffer samples
        ``i0:i1``, with the reference fit (lever arm, rate delay), as the batch analysis
        computes it; only those whose reach (:func:`~analysis.pogo.ball_force_reach`) is
        in the buffer."""
        b = self._buf
        arm, _, delay_s = self._fit
        before, after = ball_force_reach(self.fs_hz, delay_s)
        i0, i1 = max(i0, before), min(i1, b.n - after)
        if i1 <= i0:
            return np.zeros(0), np.zeros(0)
        fb = ball_force_mps2(
            b.acc[i0 - before : i1 + after],
            b.gyr[i0 - before : i1 + after],
            fs_hz=self.fs_hz,
            lever_arm_m=arm,
            rate_delay_s=delay_s,
        )
        return b.t[i0:i1], fb

    def _ball_landings(self, upto: int) -> np.ndarray:
        """Pogo: of the ball's impacts still pending, the times of those whose planted
        window (``planted_window_s`` after them) ends before buffer sample ``upto`` and
        where the ball stood planted: mean |f_ball| within ``planted_tol_g`` of 1 g (plus
        the fit's planted offset), as after every landing. A take-off's burst (the ball
        pulled up after the body, over 2 g for 80 ms at 100 Hz) or a hump in a flight
        is followed by the flight (about 0 g) or the landing's impact: taken for a
        landing, the landing after it was missed (synthetic seed 9 at 100 Hz, a contact
        shown 511 ms after its take-off)."""
        cands = self._ball_cands
        if not len(cands):
            return cands
        st = self.pogo_settings
        b = self._buf
        w0, w1 = st.planted_window_s
        ready = cands + w1 <= b.t[upto - 1]
        if not ready.any():
            return np.zeros(0)
        c = cands[ready]
        self._ball_cands = cands[~ready]
        t_all = b.t[: b.n]
        lo, hi = np.searchsorted(t_all, c + w0), np.searchsorted(t_all, c + w1, side="right")
        t, fb = self._ball_force(int(lo.min()), int(hi.max()))
        if not len(t):
            return np.zeros(0)
        k0 = int(np.searchsorted(t_all, t[0]))
        a, z = np.clip(lo - k0, 0, len(t)), np.clip(hi - k0, 0, len(t))
        cum = np.concatenate([[0.0], np.cumsum(fb)])
        mean = (cum[z] - cum[a]) / np.maximum(z - a, 1)
        planted = (z > a) & (
            np.abs(mean - (GRAVITY_MPS2 + self._fit[1])) <= st.planted_tol_g * GRAVITY_MPS2
        )
        landed = c[planted]
        self._ball_landed = np.concatenate(
            [self._ball_landed[self._ball_landed > c[-1] - 2.0], landed]
        )
        return landed

    def _watch_ball(self) -> None:
        """Pogo, once the mounting is fitted: landings and take-offs from the ball's
        specific force, as the batch analysis finds them.

        - Landings: the batch analysis takes impacts of the ball's force as well as the
          sensor's; at 100 Hz with the sensor far from the ball, a landing's samples at
          the sensor can all stay under ``min_impact_g`` where the ball's do not (synthetic
          seed 66, sensor 17.6 cm from the ball: every other landing unseen by the
          sensor's test, which then took the take-off bursts for landings; 10 contacts
          shown 190-240 ms after their take-off). Those the ball stood planted after
          (:meth:`_ball_landings`) go to :meth:`_track_impacts` with the sensor's, once
          the planted window is in (100 ms: the take-off is later).
        - Take-offs: the runs :meth:`_track_impacts` makes due start where the last
          contact time says the take-off is (a contact 45 ms shorter than the one before
          waited for them: shown 104 ms after its take-off where others took 61 ms,
          synthetic seed 0, left shoe, 1 kHz). From the end of a landing's planted window
          to the longest contact, where the ball's force first leaves 1 g by
          ``departure_g`` (the batch analysis' take-off test), a run is due once the
          take-off edge and ``margin_s`` after it are in the buffer. A departure that is
          no take-off (the shoe's ringing) costs one run; the watch goes on after it.

        The newest few samples wait for the next chunk (the rate's derivative filter
        needs samples either side).
        """
        b = self._buf
        if self._fit is None or b.n < 2:
            self._fb_i = b.n
            return
        t_all = b.t[: b.n]
        end = b.n - ball_force_reach(self.fs_hz, self._fit[2])[1]
        watching = self._dep_from <= self._dep_until
        i_dep = int(np.searchsorted(t_all, self._dep_from)) if watching else end
        t, fb = self._ball_force(min(self._fb_i, i_dep) - 1, end)
        if not len(t):
            return
        st = self.pogo_settings
        seen_to = t_all[self._fb_i - 1] if self._fb_i > 0 else -np.inf
        self._fb_i = max(self._fb_i, end)
        big = fb > st.min_impact_g * GRAVITY_MPS2
        onset = big[1:] & ~big[:-1] & (t[1:] > seen_to)
        self._ball_cands = np.concatenate([self._ball_cands, t[1:][onset]])
        self._track_impacts(self._ball_landings(end))
        if self._dep_from > self._dep_until:
            return
        span = (t >= self._dep_from) & (t <= self._dep_until)
        off = np.flatnonzero(
            span & (np.abs(fb - (GRAVITY_MPS2 + self._fit[1])) > st.departure_g * GRAVITY_MPS2)
        )
        if not len(off):
            if t[-1] >= self._dep_from:
                self._dep_from = float(t_all[end]) if end < b.n else np.inf
            return
        due = float(t[off[0]]) + self.margin_s + 2.0 / self.fs_hz
        self._add_runs([due])
        self._dep_from = due

    def _await_unseen_landing(self) -> None:
        """Pogo: runs due where the next contact would be complete when no landing impact
        was seen after the last contact's take-off.

        The batch analysis finds landings also by the ball's force; the cheap test reads
        the sensor's, whose sampled peak can stay under ``min_impact_g`` (100 Hz: a
        landing's samples all under 2 g at the sensor, synthetic seed 39 at 23.16 s).
        Nothing then made a run due, and the contact waited 409 ms for the next landing's
        runs. So once the buffer reaches the take-off the last contact and flight time
        expect (plus ``margin_s``) without a landing impact since, runs come every
        ``fast_update_s`` for 300 ms, once per contact shown (at a round's end they find
        nothing: a few runs).
        """
        due = self._next_takeoff_s + self.margin_s + 0.01
        if self._awaited >= due or self._impact_t >= self._last_end or self.t_end_s < due:
            return
        self._awaited = due
        n = int(np.floor(0.3 / self.fast_update_s)) + 1
        self._add_runs([self.t_end_s + float(d) for d in np.arange(n) * self.fast_update_s])

    def _add_runs(self, times: list[float]) -> None:
        """Pogo: runs also due at these buffer times (s); the pending runs stay in order."""
        self._pending_runs = sorted([*self._pending_runs, *times])
        self._due_from = min(self._due_from, min(times))

    def _reanchor_impacts(self, takeoff_s: float) -> None:
        """Pogo: after a contact is announced, the next impact past its take-off plus the
        minimum flight is a landing (as the batch analysis has it).

        The quiet time of :meth:`_track_impacts` alone can lock onto the take-off bursts
        (when a flight is shorter than the quiet time, the landing that follows a burst
        taken for a landing is skipped, and so on each hop), and runs would then come a
        flight too early. So when the impact taken for the latest landing is not after
        this take-off's burst, the runs it made due are dropped and the samples since the
        burst are scanned again for the landing.
        """
        t_from = takeoff_s + self.pogo_settings.min_flight_s
        if self._impact_t >= t_from:
            return  # a later landing, already seen
        self._pending_runs = []
        self._due_from = np.inf
        self._landing_from = t_from
        b = self._buf
        j = int(np.searchsorted(b.t[: b.n], t_from, side="right"))
        if j < b.n:
            t_big = self._impacts(b.acc[j : b.n], b.t[j : b.n])
            t_big = np.union1d(t_big, self._ball_landed[self._ball_landed > t_from])
            self._track_impacts(t_big)
