"""Forms read from the SHACL shapes: the fields a person fills in to describe a thing of a class.

Nothing here is written per class. For a class, every node shape that targets it or a class above it gives
its property shapes; each property shape with a plain predicate path becomes a field (shapes with the same
path are merged, the most specific first). As in shacl-form and DASH's editors: the label and help come from
`sh:name` and `sh:description`, the input kind from `sh:datatype` / `sh:nodeKind` / `sh:class` / `sh:in`
(`dash:singleLine false` asks for a text area), required and repeatable from `sh:minCount` / `sh:maxCount`,
and the layout from `sh:group` and `sh:order`.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace

import rdflib
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD

DASH = rdflib.Namespace("http://datashapes.org/dash#")
_KINDS = {
    XSD.date: "date",
    XSD.dateTime: "datetime",
    XSD.integer: "integer",
    XSD.decimal: "decimal",
    XSD.boolean: "boolean",
    XSD.gMonthDay: "monthday",
    XSD.gYear: "year",
    XSD.string: "text",
    RDF.langString: "langtext",
}
_UNORDERED = 1000.0  # fields and groups without sh:order come after the ordered ones
OTHER_GROUP = "urn:x-policykg:other-fields"


@dataclass(frozen=True)
class Field:
    """One input of a form: which predicate it fills, how it is entered, how many values it takes."""

    key: str  # the name of the input in the form: unique within the form
    path: str
    name: str
    description: str
    # text, longtext, langtext, date, datetime, monthday, year, integer, decimal, boolean, iri, resource, choice
    kind: str
    datatype: str | None
    classes: tuple[str, ...]  # for a resource: the classes its value may have (any one of them)
    choices: tuple[str, ...]  # for a choice: the allowed values (sh:in)
    min_count: int
    max_count: int | None
    group: str
    order: float
    shapes: tuple[str, ...]  # the property shapes merged into the field (results of these belong to it)

    @property
    def required(self) -> bool:
        """Whether the field needs a value."""
        return self.min_count > 0

    @property
    def repeatable(self) -> bool:
        """Whether the field takes more than one value."""
        return self.max_count is None or self.max_count > 1


@dataclass(frozen=True)
class Group:
    """Fields shown together under a heading (sh:PropertyGroup)."""

    iri: str
    label: str
    order: float  # sh:order: groups are shown by it, lowest first
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Form:
    """The form for describing a thing of one class."""

    target: str
    label: str
    groups: tuple[Group, ...]

    @property
    def fields(self) -> tuple[Field, ...]:
        """Every field, in the order shown."""
        return tuple(f for g in self.groups for f in g.fields)

    def field_for(self, path: str | None, shape: str | None = None) -> Field | None:
        """The field a validation result about this path (or from this property shape) belongs to."""
        for field in self.fields:
            if (shape is not None and shape in field.shapes) or (path is not None and field.path == path):
                return field
        return None


@dataclass(frozen=True)
class Catalogue:
    """The forms of the classes people may add, by the class's local name, and the model's class hierarchy."""

    forms: dict[str, Form]
    below: dict[str, frozenset[str]]  # a class -> itself and every class under it

    def kinds_of(self, classes: Iterable[str]) -> frozenset[str]:
        """The classes given and every class under them (what a picker of those classes offers)."""
        return frozenset(c for cls in classes for c in self.below.get(cls, frozenset({cls})))


def read_catalogue(shapes: rdflib.Graph, ontology: rdflib.Graph, targets: Iterable[str]) -> Catalogue:
    """The forms of the target classes, read once, and the hierarchy their pickers need."""
    forms = {_local(t): read_form(shapes, ontology, t) for t in targets}
    mentioned = {c for form in forms.values() for f in form.fields for c in f.classes} | set(forms)
    below = {
        c: frozenset(str(x) for x in ontology.transitive_subjects(RDFS.subClassOf, rdflib.URIRef(c)))
        for c in {*mentioned, *(form.target for form in forms.values())}
    }
    return Catalogue(forms, below)


def read_form(shapes: rdflib.Graph, ontology: rdflib.Graph, target: str) -> Form:
    """The form for the class target, from the shapes that apply to it (through the ontology's hierarchy)."""
    cls = rdflib.URIRef(target)
    # The class itself first, then the classes above it: the most specific shape's words win.
    lineage = [cls, *(c for c in ontology.transitive_objects(cls, RDFS.subClassOf) if c != cls)]
    merged: dict[str, Field] = {}
    for level in lineage:
        for node in sorted(set(shapes.subjects(SH.targetClass, level)), key=str):
            if _deactivated(shapes, node):
                continue
            for prop in sorted(set(shapes.objects(node, SH.property)), key=str):
                field = _field(shapes, prop)
                if field is not None:
                    merged[field.path] = _merge(merged[field.path], field) if field.path in merged else field
    return Form(target, _label(ontology, cls), _grouped(shapes, _keyed(merged.values())))


def _field(shapes: rdflib.Graph, prop: rdflib.term.Node) -> Field | None:
    """The field one property shape describes; None for a path that is not a single predicate."""
    path = shapes.value(prop, SH.path)
    if not isinstance(path, rdflib.URIRef) or _deactivated(shapes, prop):
        return None
    datatype = shapes.value(prop, SH.datatype)
    classes = _classes(shapes, prop)
    choices = _list(shapes, shapes.value(prop, SH["in"]))
    if choices:
        kind = "choice"
    elif classes:
        kind = "resource"
    elif datatype is not None:
        kind = _KINDS.get(rdflib.URIRef(str(datatype)), "text")
        if kind == "text" and shapes.value(prop, DASH.singleLine) == rdflib.Literal(False):
            kind = "longtext"
    elif shapes.value(prop, SH.nodeKind) == SH.IRI:
        kind = "iri"
    else:
        kind = "langtext"  # a literal of any kind: text in a language is what people write
    maximum = shapes.value(prop, SH.maxCount)
    group = shapes.value(prop, SH.group)
    order = shapes.value(prop, SH.order)
    return Field(
        key="",
        path=str(path),
        name=str(shapes.value(prop, SH.name) or _local(str(path))),
        description=str(shapes.value(prop, SH.description) or ""),
        kind=kind,
        datatype=str(datatype) if datatype is not None else None,
        classes=classes,
        choices=tuple(str(c) for c in choices),
        min_count=int(_number(shapes.value(prop, SH.minCount), 0)),
        max_count=int(_number(maximum, 0)) if maximum is not None else None,
        group=str(group) if group is not None else OTHER_GROUP,
        order=float(_number(order, _UNORDERED)),
        shapes=(str(prop),),
    )


def _merge(first: Field, later: Field) -> Field:
    """Two shapes on one path: every constraint holds, so the tighter counts; the first one's words stay."""
    maxima = [m for m in (first.max_count, later.max_count) if m is not None]
    specific = first if first.kind != "langtext" or later.kind == "langtext" else later
    return replace(
        first,
        name=first.name if first.name != _local(first.path) else later.name,
        description=first.description or later.description,
        kind=specific.kind,
        datatype=first.datatype or later.datatype,
        classes=first.classes or later.classes,
        choices=first.choices or later.choices,
        min_count=max(first.min_count, later.min_count),
        max_count=min(maxima) if maxima else None,
        group=first.group if first.group != OTHER_GROUP else later.group,
        order=min(first.order, later.order),
        shapes=first.shapes + later.shapes,
    )


def _keyed(fields: Iterable[Field]) -> list[Field]:
    """Give each field its input name: the path's local name, made unique."""
    named: list[Field] = []
    taken: set[str] = set()
    for field in sorted(fields, key=lambda f: (f.order, f.name, f.path)):
        key, n = _local(field.path), 2
        while key in taken:
            key, n = f"{_local(field.path)}-{n}", n + 1
        taken.add(key)
        named.append(replace(field, key=key))
    return named


def _grouped(shapes: rdflib.Graph, fields: list[Field]) -> tuple[Group, ...]:
    """The fields under their groups, groups and fields each in their sh:order."""
    groups: dict[str, list[Field]] = {}
    for field in fields:
        groups.setdefault(field.group, []).append(field)
    made = []
    for iri, members in groups.items():
        node = rdflib.URIRef(iri)
        order = shapes.value(node, SH.order)
        label = shapes.value(node, RDFS.label) or ("More" if iri == OTHER_GROUP else _local(iri))
        made.append(Group(iri, str(label), float(_number(order, _UNORDERED)), tuple(members)))
    return tuple(sorted(made, key=lambda g: (g.order, g.label)))


def _classes(shapes: rdflib.Graph, prop: rdflib.term.Node) -> tuple[str, ...]:
    """The classes a value may have: sh:class, or the sh:class of each alternative of sh:or."""
    direct = [str(c) for c in shapes.objects(prop, SH["class"])]
    alternatives = [
        str(c) for member in _list(shapes, shapes.value(prop, SH["or"])) for c in shapes.objects(member, SH["class"])
    ]
    return tuple(dict.fromkeys(direct + alternatives))


def _number(node: rdflib.term.Node | None, default: float) -> float:
    """A numeric literal's value (sh:order, sh:minCount …), else the default."""
    value = node.toPython() if isinstance(node, rdflib.Literal) else None
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def _list(graph: rdflib.Graph, head: rdflib.term.Node | None) -> list[rdflib.term.Node]:
    return list(Collection(graph, head)) if head is not None else []


def _deactivated(shapes: rdflib.Graph, shape: rdflib.term.Node) -> bool:
    return shapes.value(shape, SH.deactivated) == rdflib.Literal(True)


def _label(graph: rdflib.Graph, node: rdflib.URIRef) -> str:
    labels = list(graph.objects(node, RDFS.label))
    english = [str(label) for label in labels if getattr(label, "language", None) in ("en", None)]
    return english[0] if english else _local(str(node))


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1] or iri
