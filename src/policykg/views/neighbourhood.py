"""A concept's neighbourhood laid out for the pages to draw as SVG: the concept in the middle, broader concepts
above and narrower ones below (rows of three), the recommendations that concern or propose it on the left, the
instruments and concepts linked to it on the right, a line from the concept to each.

Pure, as views/pictures.py, whose boxes and text fitting it uses.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from policykg.views.pictures import CAP, WIDTH, Box, clean, fit, wrap

_MARGIN = 12


@dataclass(frozen=True)
class Neighbour:
    """A thing next to a concept: its IRI, its label, and how it is linked ("broader", "funds it" …)."""

    iri: str
    label: str
    note: str  # how it is linked to the concept, for people


@dataclass(frozen=True)
class Group:
    """The neighbours of one kind, as listed (the first ones, in order), and how many there are in all."""

    name: str  # broader, narrower, recommendations, instruments
    title: str  # for people: "Broader concepts" …
    items: tuple[Neighbour, ...]
    total: int
    query: str = ""  # a SPARQL query that lists every one


@dataclass(frozen=True)
class Node:
    """A thing drawn as a box: its lines of label, its note, and the group it belongs to."""

    item: Neighbour
    group: str
    box: Box
    lines: tuple[str, ...]  # the label, wrapped to the box's width
    note: str


@dataclass(frozen=True)
class More:
    """ "and N more" under a group's boxes."""

    group: str
    count: int
    x: float
    y: float
    anchor: str  # start, middle or end


@dataclass(frozen=True)
class Neighbourhood:
    """A concept's picture: the concept in the middle, its neighbours around it, lines from it to each."""

    width: int  # of the whole picture, in SVG user units (as height)
    height: int
    centre: Node
    groups: tuple[Group, ...]
    nodes: tuple[Node, ...]
    edges: tuple[tuple[float, float, float, float], ...]  # x1 y1 x2 y2
    more: tuple[More, ...]
    cap: int  # items of a group drawn at most

    @property
    def alone(self) -> bool:
        """Whether nothing is linked to the concept."""
        return not self.nodes

    @property
    def note_at(self) -> tuple[float, float]:
        """Where "nothing is linked to it" is written, when nothing is."""
        return (WIDTH / 2, self.centre.box.bottom + 24)

    @property
    def description(self) -> str:
        """What the picture shows, in words (its <desc>)."""
        told = [f"{clean(self.centre.item.label)} in the middle."]
        for group in self.groups:
            drawn = [clean(node.item.label) for node in self.nodes if node.group == group.name]
            if drawn:
                rest = group.total - len(drawn)
                told.append(f"{group.title}: {'; '.join(drawn)}" + (f"; and {rest} more." if rest else "."))
        return " ".join(told) if self.nodes else told[0] + " Nothing is linked to it yet."


_NODE_H, _CENTRE_H, _GAP = 62, 70, 12
_SIDE_W, _GRID_W = 262.0, 270.0
_LABEL_SIZE, _NOTE_SIZE, _CENTRE_SIZE = 13, 11, 15
_MORE_H = 22


def layout_neighbourhood(concept: Neighbour, groups: Sequence[Group], cap: int = CAP) -> Neighbourhood:
    """Lay a concept's neighbourhood out: broader above and narrower below (rows of three), recommendations
    on the left and instruments on the right, each drawn group cut at cap."""
    by = {g.name: g for g in groups}
    empty = Group("", "", (), 0)
    nodes: list[Node] = []
    more: list[More] = []
    y = float(_MARGIN)
    broader = by.get("broader", empty)
    y = _grid(broader, y, cap, nodes, more)
    if broader.items:
        y += 24  # room for the lines down to the concept
    left, right = by.get("recommendations", empty), by.get("instruments", empty)
    rows = max(min(len(left.items), cap), min(len(right.items), cap))
    sides = rows * (_NODE_H + _GAP) - (_GAP if rows else 0)
    sides += _MORE_H if (left.total > min(len(left.items), cap) or right.total > min(len(right.items), cap)) else 0
    band = max(float(sides), float(_CENTRE_H))
    centre_box = Box((WIDTH - _GRID_W) / 2, y + (band - _CENTRE_H) / 2, _GRID_W, _CENTRE_H)
    centre = Node(
        concept, "centre", centre_box, wrap(concept.label, _GRID_W - 20, _CENTRE_SIZE, 2), fit(concept.note, 250, 12)
    )
    _column(left, _MARGIN, y, cap, "start", nodes, more)  # "and N more" at the outer edges, clear of the lines
    _column(right, WIDTH - _MARGIN - _SIDE_W, y, cap, "end", nodes, more)
    y += band + 24
    y = _grid(by.get("narrower", empty), y, cap, nodes, more)
    order = [g.name for g in groups]
    nodes.sort(key=lambda node: order.index(node.group))  # in the document (and the keyboard's path) as listed
    edges = tuple(_edge(centre_box, node) for node in nodes)
    if not nodes:
        y += 12  # room for "nothing is linked to it"
    return Neighbourhood(WIDTH, int(y + _MARGIN), centre, tuple(groups), tuple(nodes), edges, tuple(more), cap)


def _node(item: Neighbour, group: str, box: Box) -> Node:
    return Node(item, group, box, wrap(item.label, box.width - 16, _LABEL_SIZE, 2), fit(item.note, box.width - 16, 11))


def _grid(group: Group, y: float, cap: int, nodes: list[Node], more: list[More]) -> float:
    """Rows of up to three boxes across, centred; returns the y below them."""
    drawn = group.items[:cap]
    for start in range(0, len(drawn), 3):
        row = drawn[start : start + 3]
        across = len(row) * _GRID_W + (len(row) - 1) * 2 * _GAP
        x = (WIDTH - across) / 2
        for n, item in enumerate(row):
            nodes.append(_node(item, group.name, Box(x + n * (_GRID_W + 2 * _GAP), y, _GRID_W, _NODE_H)))
        y += _NODE_H + _GAP
    if group.total > len(drawn):
        more.append(More(group.name, group.total - len(drawn), WIDTH / 2, y + 12, "middle"))
        y += _MORE_H
    return y


def _column(group: Group, x: float, y: float, cap: int, anchor: str, nodes: list[Node], more: list[More]) -> None:
    """Boxes one under the other from y, with "and N more" under them."""
    drawn = group.items[:cap]
    for n, item in enumerate(drawn):
        nodes.append(_node(item, group.name, Box(x, y + n * (_NODE_H + _GAP), _SIDE_W, _NODE_H)))
    if group.total > len(drawn):
        edge = x + _SIDE_W if anchor == "end" else x
        more.append(More(group.name, group.total - len(drawn), edge, y + len(drawn) * (_NODE_H + _GAP) + 8, anchor))


def _edge(centre: Box, node: Node) -> tuple[float, float, float, float]:
    """The line from the concept's box to a neighbour's, from the side its kind stands on (a long column beside
    the concept reaches above and below it; its lines still leave from the concept's side)."""
    box = node.box
    middle = centre.y + centre.height / 2
    if node.group == "recommendations":  # the column on the left
        return (centre.x, middle, box.right, box.y + box.height / 2)
    if node.group == "instruments":  # the column on the right
        return (centre.right, middle, box.x, box.y + box.height / 2)
    if node.group == "broader":  # above
        return (centre.x + centre.width / 2, centre.y, box.x + box.width / 2, box.bottom)
    return (centre.x + centre.width / 2, centre.bottom, box.x + box.width / 2, box.y)
