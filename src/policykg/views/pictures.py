"""Pictures laid out for the pages to draw as SVG: a recommendation's trail on a time axis here, and what every
picture shares (boxes, text cut to fit); a concept's neighbourhood in views/neighbourhood.py.

Pure: a layout takes what the views read and returns boxes and points in a view box; the templates
(web/templates/pictures.svg) only draw them. Text is measured with an estimate of a sans-serif face's glyph
width and cut to fit, the full label kept for the mark's <title>. At most CAP items of a kind are drawn; the
rest are counted ("and N more") and listed beside the picture.
"""

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from policykg.views.tracking import UNNAMED_STEP, Moment

CAP = 12  # items of one kind a picture draws at most
GLYPH = 0.55  # an average glyph's width, in ems, of the sans-serif faces browsers fall back to (an upper estimate)
WIDTH = 900  # every picture's view box is this wide
_MARGIN = 12
# XML 1.0 refuses these characters even escaped (§2.2): a label that holds one is drawn without it.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Box:
    """A rectangle of the view box."""

    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        """Its right edge."""
        return self.x + self.width

    @property
    def bottom(self) -> float:
        """Its lower edge."""
        return self.y + self.height

    def overlaps(self, other: "Box") -> bool:
        """Whether the two share more than an edge."""
        return self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom


def clean(text: str) -> str:
    """The text on one line, without the characters XML cannot carry."""
    return " ".join(_NOT_XML.sub("", text).split())


def fit(text: str, width: float, size: float) -> str:
    """The text cut (at a word, if one ends late enough) to fit a width at a font size, marked with "…"."""
    text = clean(text)
    most = max(1, int(width / (size * GLYPH)))
    if len(text) <= most:
        return text
    cut = text[: most - 1]
    space = cut.rfind(" ")
    if space > most // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:·-") + "…"


def wrap(text: str, width: float, size: float, lines: int) -> tuple[str, ...]:
    """The text broken at words into at most that many lines of the width, the last one cut to fit."""
    words, found = clean(text).split(" "), list[str]()
    most = max(1, int(width / (size * GLYPH)))
    while words and len(found) < lines - 1:
        line = words.pop(0)
        while words and len(line) + 1 + len(words[0]) <= most:
            line += " " + words.pop(0)
        if len(line) > most:  # one word longer than the line: cut it, and go on with the next
            line = fit(line, width, size)
        found.append(line)
    if words:
        found.append(fit(" ".join(words), width, size))
    return tuple(found)


def text_width(text: str, size: float) -> float:
    """The width the text takes at a font size, by the estimate the layouts use."""
    return len(text) * size * GLYPH


# A recommendation's trail.


@dataclass(frozen=True)
class Step:
    """A step of a trail as the picture and its list tell it."""

    link: str  # the IRI its mark links to
    kind: str  # one of KINDS: issued, presented, status, entry
    what: str  # "Issued at …", "Status proposed at …", "Entry added"
    note: str  # its own label, or ""
    date: str | None  # an ISO date, or date and time: where the step sits on the axis
    when: str  # the date as people read it
    inferred: bool  # the date is one policykg inferred


def steps_of(moments: Sequence[Moment], recommendation: str, records: set[str]) -> list[Step]:
    """The steps of a recommendation's trail (tracking.trail) as told: being issued links to the event that issued
    it; records are the steps that are status records (the others are presentations)."""
    steps = []
    for m in moments:
        at = f" at {m.place_label}" if m.place_label else ""
        own = "" if m.label == UNNAMED_STEP else m.label
        if m.iri == recommendation:
            steps.append(Step(m.place or m.iri, "issued", f"Issued{at}", "", m.date, m.when, m.inferred))
        elif m.iri in records:
            steps.append(Step(m.iri, "status", f"Status {m.kind}{at}", own, m.date, m.when, m.inferred))
        else:
            steps.append(Step(m.iri, "presented", f"Presented{at}", own, m.date, m.when, m.inferred))
    return steps


def entry_step(entry: str, action: str, time: str, label: str) -> Step:
    """A step for an entry that added to the trail, revised it or was retracted, on the day of the change."""
    return Step(entry, "entry", f"Entry {action}", label, time, time[:10], False)


@dataclass(frozen=True)
class Mark:
    """A step as drawn: its row (the text), its dot on the time axis, its lines of text."""

    step: Step
    box: Box  # the text
    dot: tuple[float, float]
    headline: str
    detail: str

    @property
    def title(self) -> str:
        """The step in full, for the mark's <title>."""
        return clean(f"{self.step.what}. {detail(self.step)}")


@dataclass(frozen=True)
class Tick:
    """A date marked on the axis."""

    x: float
    label: str


@dataclass(frozen=True)
class Trail:
    """A trail's picture: the drawn marks in time order, the axis and its ticks, and what was left out."""

    width: int
    height: int
    steps: tuple[Step, ...]  # every step, in time order (the list beside the picture)
    marks: tuple[Mark, ...]  # the ones drawn (the CAP most recent), in time order
    axis: tuple[float, float, float]  # x from, x to, y
    ticks: tuple[Tick, ...]
    undated_x: float | None  # the column of the steps with no known day, if any
    more: int  # steps not drawn
    more_at: tuple[float, float]  # where "and N more" is written
    legend: tuple[tuple[str, float], ...]  # the kinds of step drawn, each with the x of its dot (on the axis' line)

    @property
    def description(self) -> str:
        """What the picture shows, in words (its <desc>)."""
        if not self.marks:
            return "No step is recorded yet."
        told = "; ".join(f"{m.step.when}: {clean(m.step.what)}" for m in self.marks)
        return f"{len(self.marks)} steps in time order. {told}" + (f"; and {self.more} more." if self.more else ".")


KINDS = ("issued", "presented", "status", "entry")
_ROW = 48
_TEXT_X, _TEXT_WIDTH = _MARGIN, 420
_AXIS_FROM, _AXIS_TO, _UNDATED_X = 480.0, float(WIDTH - 40), float(WIDTH - 30)
_TOP = 44  # the axis and its ticks' labels are above the first row
_TICK_SIZE, _HEAD_SIZE, _DETAIL_SIZE = 11, 14, 12


def day_of(date: str | None) -> dt.date | None:
    """The day an ISO date (or date and time) names; None for no date or one that is not a day."""
    try:
        return dt.date.fromisoformat((date or "")[:10])
    except ValueError:
        return None


def in_time_order(steps: Sequence[Step]) -> list[Step]:
    """The steps oldest first (by the day, then the time when given); those with no known day last."""
    indexed = list(enumerate(steps))
    return [s for _, s in sorted(indexed, key=lambda i: (day_of(i[1].date) is None, i[1].date or "", i[0]))]


def layout_trail(steps: Sequence[Step], cap: int = CAP) -> Trail:
    """Lay the trail out: one row per drawn step in time order, each with a dot on a shared time axis."""
    ordered = in_time_order(steps)
    # The cap most recent: from the newest dated step back, then the undated ones (kept last in the rows).
    dated = [s for s in ordered if day_of(s.date)]
    undated = [s for s in ordered if not day_of(s.date)]
    drawn = dated[max(0, len(dated) - cap) :] + undated[: max(0, cap - len(dated))]
    days = [d for s in drawn if (d := day_of(s.date))]
    axis_to = _AXIS_TO - 60 if len(days) < len(drawn) else _AXIS_TO
    scale = _Scale(min(days), max(days), _AXIS_FROM, axis_to) if days else None
    marks = []
    for row, step in enumerate(drawn):
        top = _TOP + row * _ROW
        day = day_of(step.date)
        x = scale.x(day) if scale and day else _UNDATED_X - 10
        headline = fit(step.what, _TEXT_WIDTH, _HEAD_SIZE)
        second = fit(detail(step), _TEXT_WIDTH, _DETAIL_SIZE)
        marks.append(Mark(step, Box(_TEXT_X, top, _TEXT_WIDTH, _ROW - 8), (x, top + 14), headline, second))
    bottom = _TOP + len(drawn) * _ROW
    more = len(ordered) - len(drawn)
    return Trail(
        width=WIDTH,
        height=int(bottom + (28 if more or not drawn else 4)),
        steps=tuple(ordered),
        marks=tuple(marks),
        axis=(_AXIS_FROM, axis_to, _TOP - 12),
        ticks=tuple(scale.ticks()) if scale else (),
        undated_x=_UNDATED_X - 10 if len(days) < len(drawn) else None,
        more=more,
        more_at=(_TEXT_X, bottom + 14),
        legend=_legend([m.step.kind for m in marks]),
    )


def _legend(kinds: list[str]) -> tuple[tuple[str, float], ...]:
    """The kinds drawn, in the order of KINDS, each placed after the one before it."""
    found, x = [], float(_TEXT_X + 6)
    for kind in (k for k in KINDS if k in kinds):
        found.append((kind, x))
        x += 12 + text_width(kind, _TICK_SIZE) + 16
    return tuple(found)


def detail(step: Step) -> str:
    """What a step's second line says: its date, whether that was inferred, its own label."""
    parts = [step.when, *(["date inferred"] if step.inferred else []), *([step.note] if step.note else [])]
    return " · ".join(parts)


class _Scale:
    """Days to x along the axis, with a margin on each side so that no dot sits on an end."""

    def __init__(self, first: dt.date, last: dt.date, x_from: float, x_to: float) -> None:
        pad = dt.timedelta(days=max(1, (last - first).days // 20))
        self.low, self.high = first - pad, last + pad
        self.x_from, self.x_to = x_from, x_to

    def x(self, day: dt.date) -> float:
        """Where the day is on the axis."""
        share = (day - self.low).days / (self.high - self.low).days
        return round(self.x_from + share * (self.x_to - self.x_from), 1)

    def ticks(self) -> list[Tick]:
        """Dates to mark: whole years, months, weeks or days, the largest unit that gives two or more,
        thinned so that no two labels touch."""
        for unit in (_years, _months, _weeks, _days):
            days = unit(self.low, self.high)
            if len(days) >= 2:
                break
        label = 4 if unit is _years else 7 if unit is _months else 10
        room = text_width("0" * label, _TICK_SIZE) + 16
        most = max(1, int((self.x_to - self.x_from) / room))
        step = math.ceil(len(days) / most)
        return [Tick(self.x(day), day.isoformat()[:label]) for day in days[::step]]


def _years(low: dt.date, high: dt.date) -> list[dt.date]:
    return [dt.date(year, 1, 1) for year in range(low.year + 1, high.year + 1)]


def _months(low: dt.date, high: dt.date) -> list[dt.date]:
    found, day = [], dt.date(low.year, low.month, 1)
    while day <= high:
        if day > low:
            found.append(day)
        day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return found


def _weeks(low: dt.date, high: dt.date) -> list[dt.date]:
    return [day for day in _days(low, high) if day.day in (1, 8, 15, 22)]


def _days(low: dt.date, high: dt.date) -> list[dt.date]:
    return [low + dt.timedelta(days=n) for n in range(1, (high - low).days)]
