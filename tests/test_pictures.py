"""The pictures' layouts (views/pictures.py, views/neighbourhood.py): marks in time order on the axis, no two
boxes overlapping, everything inside the view box, at most CAP of a kind drawn with the rest counted, and text
cut to fit."""

import datetime as dt
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from policykg.views.neighbourhood import Group, Neighbour, Neighbourhood, layout_neighbourhood
from policykg.views.pictures import (
    CAP,
    Box,
    Step,
    Trail,
    clean,
    day_of,
    entry_step,
    fit,
    layout_trail,
    steps_of,
    text_width,
    wrap,
)
from policykg.views.tracking import Moment

REC = "http://localhost:8000/id/recommendation/r"


def step(date: str | None, n: int = 0, kind: str = "status") -> Step:
    return Step(f"http://localhost:8000/id/status/s{n}", kind, f"Status {n}", "", date, date or "date not known", False)


def inside(box: Box, width: float, height: float) -> bool:
    return box.x >= 0 and box.right <= width and box.y >= 0 and box.bottom <= height


def text_box(x: float, y: float, text: str, size: float, anchor: str = "start") -> Box:
    """The box a line of text takes by the layouts' estimate, with its baseline at y."""
    width = text_width(text, size)
    left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    return Box(left, y - size, width, size * 1.25)


def assert_trail_is_sound(trail: Trail) -> None:
    """Rows and dots in time order, no overlap, everything in the view box."""
    boxes = [m.box for m in trail.marks]
    assert all(not a.overlaps(b) for a, b in itertools.combinations(boxes, 2))
    assert all(inside(b, trail.width, trail.height) for b in boxes)
    assert all(0 <= m.dot[0] <= trail.width and 0 <= m.dot[1] <= trail.height for m in trail.marks)
    assert [m.box.y for m in trail.marks] == sorted(m.box.y for m in trail.marks)
    dated = [(day_of(m.step.date), m.dot[0]) for m in trail.marks if day_of(m.step.date)]
    assert dated == sorted(dated)  # later days further right, and in later rows
    assert all(m.dot[0] > m.box.right for m in trail.marks)  # the dots are right of the text
    for m in trail.marks:
        assert text_width(m.headline, 14) <= m.box.width and text_width(m.detail, 12) <= m.box.width
    labels = [text_box(t.x, trail.axis[2] - 8, t.label, 11, "middle") for t in trail.ticks]
    assert all(not a.overlaps(b) for a, b in itertools.combinations(labels, 2))
    assert all(inside(b, trail.width, trail.height) for b in labels)
    assert all(trail.axis[0] <= t.x <= trail.axis[1] for t in trail.ticks)


def assert_neighbourhood_is_sound(picture: Neighbourhood) -> None:
    """No two boxes (nor the "and N more" lines) overlap; all lie in the view box; lines join box edges."""
    boxes = [picture.centre.box, *(n.box for n in picture.nodes)]
    boxes += [text_box(m.x, m.y, f"and {m.count} more", 13, m.anchor) for m in picture.more]
    assert all(not a.overlaps(b) for a, b in itertools.combinations(boxes, 2))
    assert all(inside(b, picture.width, picture.height) for b in boxes)
    for node in picture.nodes:
        assert len(node.lines) <= 2
        assert all(text_width(line, 13) <= node.box.width - 16 for line in node.lines)
    for (x1, y1, x2, y2), node in zip(picture.edges, picture.nodes, strict=True):
        centre, box = picture.centre.box, node.box
        assert centre.x <= x1 <= centre.right and centre.y <= y1 <= centre.bottom
        assert box.x <= x2 <= box.right and box.y <= y2 <= box.bottom


def test_a_trail_draws_its_steps_oldest_first_each_further_right():
    steps = [step("2024-04-09", 1), step("2024-03-20", 2), step("2025-01-15T10:00:00Z", 3, "entry"), step(None, 4)]
    trail = layout_trail(steps)
    assert [m.step.link.rsplit("s", 1)[1] for m in trail.marks] == ["2", "1", "3", "4"]
    assert trail.more == 0 and len(trail.steps) == 4
    assert trail.undated_x is not None and trail.marks[-1].dot[0] == trail.undated_x
    assert_trail_is_sound(trail)


def test_a_trail_of_one_day_puts_its_dot_in_the_middle_of_the_axis():
    trail = layout_trail([step("2024-03-20")])
    (mark,) = trail.marks
    assert mark.dot[0] == (trail.axis[0] + trail.axis[1]) / 2
    assert [t.label for t in trail.ticks] == ["2024-03-20"]
    assert_trail_is_sound(trail)


def test_a_trail_over_years_marks_whole_years_on_its_axis():
    trail = layout_trail([step("2019-10-15", 1), step("2024-03-20", 2)])
    assert [t.label for t in trail.ticks] == ["2020", "2021", "2022", "2023", "2024"]
    assert_trail_is_sound(trail)


def test_a_long_trail_draws_its_most_recent_steps_and_counts_the_rest():
    steps = [step((dt.date(2024, 1, 1) + dt.timedelta(days=9 * n)).isoformat(), n) for n in range(20)]
    trail = layout_trail(list(reversed(steps)))
    assert len(trail.marks) == CAP and trail.more == 20 - CAP and len(trail.steps) == 20
    assert [m.step for m in trail.marks] == steps[-CAP:]
    assert trail.steps == tuple(steps)  # the list beside the picture has them all
    assert trail.more_at[1] < trail.height
    assert_trail_is_sound(trail)


def test_an_empty_trail_is_drawn_with_room_for_its_sentence():
    trail = layout_trail([])
    assert trail.marks == () and trail.ticks == () and trail.more == 0
    assert trail.more_at[1] < trail.height and trail.description == "No step is recorded yet."


def test_the_steps_of_a_trail_link_being_issued_to_its_event_and_tell_records_from_presentations():
    event = "http://localhost:8000/id/event/e"
    moments = [
        Moment(REC, "Rec", "issued", "2024-03-20", None, False, event, "The conference"),
        Moment("http://localhost:8000/id/presentation/p", "A talk", "presented", "2024-04-09", None, True, event, "M"),
        Moment("http://localhost:8000/id/status/s", "status record", "presented", "2024-04-09", None, True, event, "M"),
    ]
    steps = steps_of(moments, REC, {"http://localhost:8000/id/status/s"})
    assert [(s.link, s.kind, s.what, s.note) for s in steps] == [
        (event, "issued", "Issued at The conference", ""),
        ("http://localhost:8000/id/presentation/p", "presented", "Presented at M", "A talk"),
        ("http://localhost:8000/id/status/s", "status", "Status presented at M", ""),
    ]
    entry = entry_step("http://localhost:8000/entries/x", "revised", "2025-01-15T10:00:00Z", "Entry of …")
    assert (entry.kind, entry.what, entry.when) == ("entry", "Entry revised", "2025-01-15")


def test_text_is_cut_at_a_word_to_fit_and_kept_whole_when_it_fits():
    assert fit("artificial intelligence", 400, 14) == "artificial intelligence"
    cut = fit("A political vision for museums and cultural heritage in an AI-driven society", 200, 14)
    assert cut == "A political vision for…" and text_width(cut, 14) <= 200
    assert wrap("A political vision for museums and cultural heritage in an AI-driven society", 240, 13, 2) == (
        "A political vision for museums",
        "and cultural heritage in an…",
    )
    assert wrap("Supercalifragilisticexpialidocious" * 3, 100, 13, 2)[0].endswith("…")


def test_characters_xml_cannot_carry_are_left_out_of_labels():
    assert clean("a\x00b\x1fc\ufffed  e\n f") == "abcd e f"


def test_a_neighbourhood_puts_broader_above_narrower_below_and_the_others_beside():
    concept = Neighbour("http://x/c", "the concept", "concept")
    groups = [
        Group("broader", "Broader", (Neighbour("http://x/b", "broad", "broader"),), 1),
        Group("narrower", "Narrower", (Neighbour("http://x/n", "narrow", "narrower"),), 1),
        Group("recommendations", "Recs", (Neighbour("http://x/r", "rec", "concerns it"),), 1),
        Group("instruments", "Instruments", (Neighbour("http://x/i", "tool", "funds it"),), 1),
    ]
    picture = layout_neighbourhood(concept, groups)
    where = {n.item.iri: n.box for n in picture.nodes}
    centre = picture.centre.box
    assert where["http://x/b"].bottom < centre.y and where["http://x/n"].y > centre.bottom
    assert where["http://x/r"].right < centre.x and where["http://x/i"].x > centre.right
    lines = {node.item.iri: edge for node, edge in zip(picture.nodes, picture.edges, strict=True)}
    assert lines["http://x/r"][0] == centre.x and lines["http://x/i"][0] == centre.right  # from the concept's sides
    assert lines["http://x/b"][1] == centre.y and lines["http://x/n"][1] == centre.bottom
    assert picture.more == () and not picture.alone
    assert_neighbourhood_is_sound(picture)


def test_a_concept_with_nothing_around_it_is_drawn_alone_with_room_for_its_sentence():
    picture = layout_neighbourhood(Neighbour("http://x/c", "lonely", "concept"), [])
    assert picture.alone and picture.nodes == () and picture.edges == ()
    assert picture.centre.box.bottom < picture.note_at[1] < picture.height
    assert picture.description == "lonely in the middle. Nothing is linked to it yet."
    assert_neighbourhood_is_sound(picture)


def test_a_crowded_neighbourhood_draws_cap_of_each_kind_and_counts_the_rest():
    def group(name: str, n: int) -> Group:
        items = tuple(Neighbour(f"http://x/{name}/{i}", f"{name} {i} " + "long words " * 8, name) for i in range(n))
        return Group(name, name, items[:200], n)

    groups = [group("broader", 13), group("narrower", 40), group("recommendations", 9781), group("instruments", 12)]
    picture = layout_neighbourhood(Neighbour("http://x/c", "popular " * 20, "concept"), groups)
    drawn = {name: sum(n.group == name for n in picture.nodes) for name in ("broader", "narrower", "recommendations")}
    assert drawn == {"broader": CAP, "narrower": CAP, "recommendations": CAP}
    assert {(m.group, m.count) for m in picture.more} == {("broader", 1), ("narrower", 28), ("recommendations", 9769)}
    assert_neighbourhood_is_sound(picture)


_days = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31))
_labels = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=150)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), _days.map(dt.date.isoformat)), _labels), max_size=30))
def test_any_trail_is_laid_out_in_time_order_without_overlaps_inside_its_view_box(drawn):
    steps = [
        Step(f"http://x/{n}", "status", what, what, date, date or "?", False) for n, (date, what) in enumerate(drawn)
    ]
    trail = layout_trail(steps)
    assert len(trail.marks) == min(CAP, len(steps)) and trail.more == len(steps) - len(trail.marks)
    assert_trail_is_sound(trail)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["broader", "narrower", "recommendations", "instruments"]), _labels)), _labels
)
def test_any_neighbourhood_is_laid_out_without_overlaps_inside_its_view_box(neighbours, name):
    groups = [
        Group(
            kind,
            kind,
            tuple(Neighbour(f"http://x/{n}", label, kind) for n, (k, label) in enumerate(neighbours) if k == kind),
            0,
        )
        for kind in ("broader", "narrower", "recommendations", "instruments")
    ]
    groups = [Group(g.name, g.title, g.items, len(g.items) + 3) for g in groups]  # some more than listed
    picture = layout_neighbourhood(Neighbour("http://x/c", name, "concept"), groups)
    assert len(picture.nodes) == sum(min(CAP, len(g.items)) for g in groups)
    assert_neighbourhood_is_sound(picture)
