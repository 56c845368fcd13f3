"""A SPARQL 1.1 Update request read as a change (quads added and removed), so it can be validated first.

Data operations (INSERT DATA, DELETE DATA) and graph operations (CLEAR, DROP, CREATE, COPY, MOVE, ADD
of named graphs) are read exactly. A DELETE/INSERT … WHERE operation (or DELETE WHERE) is evaluated the
way the endpoint answers queries, its WHERE over the union of all graphs unless WITH or USING names
graphs, and its templates filled in from the solutions. Each operation's change is read from the
store as the operations before it left it.
"""

from dataclasses import dataclass
from itertools import pairwise
from urllib.parse import urljoin

import pyoxigraph as ox

from policykg.errors import QueryError
from policykg.rdf.terms import Node, Term, quad_of
from policykg.sparql.syntax import Token, quads_text, tokens, unescape
from policykg.store import Dataset, Solutions, Store
from policykg.validation.incremental import Change

_VARIABLE = "urn:x-policykg:variable:"


@dataclass(frozen=True)
class UpdateRequest:
    """An update request split into its operations, with its BASE and PREFIX declarations."""

    source: str
    declarations: list[list[Token]]  # each BASE <iri> or PREFIX name: <iri>, in the order written
    operations: list[list[Token]]

    def prologue(self, op: list[Token]) -> str:
        """The declarations an operation reads: those written before it, in order (a later one overrides)."""
        before = [d for d in self.declarations if d[0].start < op[0].start]
        return " ".join(self.source[d[0].start : d[-1].end] for d in before)


def read_update(text: str, using: tuple[str, ...] = (), using_named: tuple[str, ...] = ()) -> UpdateRequest:
    """Split an update request into operations (its BASE and PREFIX declarations kept apart)."""
    source = unescape(text)
    found = tokens(source)
    if (using or using_named) and any(t.keyword in ("USING", "WITH") for t in found):
        # SPARQL 1.1 Protocol §2.2.3: the protocol's dataset and the request's own cannot both be given.
        raise QueryError(
            "using-graph-uri and using-named-graph-uri cannot be combined with USING or WITH in the update"
        )
    operations = _operations(found)
    if not operations:
        raise QueryError("the update request has no operation")
    return UpdateRequest(source, _declarations(found), operations)


def change_of(
    store: Store,
    request: UpdateRequest,
    op: list[Token],
    base_iri: str,
    using: tuple[str, ...] = (),
    using_named: tuple[str, ...] = (),
) -> Change:
    """The change one operation makes on the store as it is now: quads really added and removed."""
    keyword = op[0].keyword
    added: list[ox.Quad] = []
    removed: list[ox.Quad] = []
    if keyword in ("INSERT", "DELETE") and len(op) > 1 and op[1].keyword == "DATA":
        quads = _data(request.source, op, request.prologue(op), base_iri)
        (added if keyword == "INSERT" else removed).extend(quads)
    elif keyword in ("CLEAR", "DROP"):
        target = _graph_target(op, _request_base(request.prologue(op), base_iri))
        quads = store.graph_quads(target)
        if target is not None and not quads and op[1].keyword != "SILENT":
            raise QueryError(f"{keyword} GRAPH <{target}>: there is no such graph (add SILENT to ignore that)")
        removed.extend(quads)
    elif keyword in ("COPY", "MOVE", "ADD"):
        source_graph, target_graph = _two_graphs(op, _request_base(request.prologue(op), base_iri))
        copied = _in(store.graph_quads(source_graph), target_graph)
        if keyword != "ADD":
            removed.extend(store.graph_quads(target_graph))
        if keyword == "MOVE":
            removed.extend(store.graph_quads(source_graph))
        added.extend(copied)
    elif keyword == "CREATE":
        pass
    elif _is_modify(op):
        try:
            removed, added = _modify(store, request.source, op, request.prologue(op), base_iri, using, using_named)
        except IndexError:
            raise QueryError(
                "a DELETE/INSERT operation is cut short: it needs its templates and a WHERE clause"
            ) from None
    else:
        raise QueryError(f"the update operation {keyword or op[0].text} is not supported here")
    present = _existing(store, set(added) | set(removed))
    kept = set(added)
    # A quad both removed and added stays (DELETE {T} INSERT {T}, COPY onto a graph sharing quads).
    really_removed = tuple(q for q in dict.fromkeys(removed) if q in present and q not in kept)
    really_added = tuple(q for q in dict.fromkeys(added) if q not in present)
    return Change(added=really_added, removed=really_removed)


def empties_whole_graphs(op: list[Token]) -> bool:
    """True for CLEAR/DROP of DEFAULT, NAMED or ALL: nothing the shapes could find broken, run as sent."""
    rest = [t.keyword for t in op[1:] if t.keyword != "SILENT"]
    return op[0].keyword in ("CLEAR", "DROP") and bool(rest) and rest[0] in ("DEFAULT", "NAMED", "ALL")


def operation_text(request: UpdateRequest, op: list[Token]) -> str:
    """One operation of a request as an update of its own, with the request's declarations."""
    return f"{request.prologue(op)}\n{request.source[op[0].start : op[-1].end]}"


def _existing(store: Store, quads: set[ox.Quad]) -> set[ox.Quad]:
    """The quads (of named graphs, without blank nodes) that the store holds now."""
    addressable = [
        q
        for q in quads
        if isinstance(q.graph_name, ox.NamedNode)
        and not any(isinstance(t, ox.BlankNode) for t in (q.subject, q.object))
    ]
    found: set[ox.Quad] = set()
    for start in range(0, len(addressable), 300):
        batch = addressable[start : start + 300]
        values = " ".join(f"({q.subject} {q.predicate} {q.object} {q.graph_name})" for q in batch)
        rows = store.select(
            f"SELECT ?s ?p ?o ?g WHERE {{ VALUES (?s ?p ?o ?g) {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}"
        ).rows
        found |= {quad_of(s, p, o, g) for s, p, o, g in rows}
    return found


def change_as_update(change: Change) -> str:
    """One atomic update that writes a change: its deletions, then its insertions."""
    parts = []
    if change.removed:
        parts.append("DELETE DATA { " + quads_text(change.removed) + " }")
    if change.added:
        parts.append("INSERT DATA { " + quads_text(change.added) + " }")
    return " ;\n".join(parts)


def _declarations(found: list[Token]) -> list[list[Token]]:
    """The BASE and PREFIX declarations of the request, wherever they stand, each as its tokens."""
    kept: list[list[Token]] = []
    for index, token in enumerate(found):
        if token.keyword == "BASE":
            kept.append(found[index : index + 2])
        elif token.keyword == "PREFIX":
            kept.append(found[index : index + 3])
    return kept


def _operations(found: list[Token]) -> list[list[Token]]:
    """The operations of a request: token runs split at top-level ';', declarations left out."""
    operations: list[list[Token]] = [[]]
    depth, skip = 0, 0
    for token in found:
        if skip:
            skip -= 1
            continue
        if depth == 0 and token.keyword in ("BASE", "PREFIX"):
            skip = 1 if token.keyword == "BASE" else 2
            continue
        if token.kind == "punct" and token.text in "{":
            depth += 1
        elif token.kind == "punct" and token.text in "}":
            depth -= 1
        if depth == 0 and token.kind == "punct" and token.text == ";":
            operations.append([])
            continue
        operations[-1].append(token)
    return [op for op in operations if op]


def _is_modify(op: list[Token]) -> bool:
    keywords = [t.keyword for t in op[:2]]
    return keywords[0] == "WITH" or (keywords[0] in ("INSERT", "DELETE") and keywords[1:] != ["DATA"])


def _block(source: str, op: list[Token], start: int) -> tuple[str, int]:
    """The text inside the braces that open at op[start], and the index after the closing brace."""
    depth = 0
    for index in range(start, len(op)):
        if op[index].kind == "punct" and op[index].text == "{":
            depth += 1
        elif op[index].kind == "punct" and op[index].text == "}":
            depth -= 1
            if depth == 0:
                return source[op[start].end : op[index].start], index + 1
    raise QueryError("an update has a block that is never closed")


def _data(source: str, op: list[Token], prologue: str, base_iri: str) -> list[ox.Quad]:
    body, _ = _block(source, op, 2)
    return _parse_quads(body, prologue, base_iri)


def _as_trig(body: str) -> str:
    """Quad data in TriG: SPARQL lets triples end without '.' before a GRAPH block or the end; TriG does not."""
    pieces, last, depth, previous = [], 0, 0, None
    for token in tokens(body):
        if token.kind == "punct" and token.text == "{":
            depth += 1
        elif token.kind == "punct" and token.text == "}":
            depth -= 1
        elif depth == 0 and token.keyword == "GRAPH" and previous not in (None, ".", "}"):
            pieces += [body[last : token.start], " . "]
            last = token.start
        previous = token.text
    pieces.append(body[last:])
    if depth == 0 and previous not in (None, ".", "}"):
        pieces.append(" .")
    return "".join(pieces)


def _parse_quads(body: str, prologue: str, base_iri: str) -> list[ox.Quad]:
    body = _as_trig(body)
    try:
        return list(ox.parse(f"{prologue}\n{body}".encode(), format=ox.RdfFormat.TRIG, base_iri=base_iri))
    except SyntaxError as error:
        raise QueryError(f"the data of the update is not valid: {str(error).splitlines()[0]}") from None


def _request_base(prologue: str, base_iri: str) -> str:
    """The base IRI that the request's own BASE declarations set (each resolved against the one before)."""
    found = tokens(prologue)
    for keyword, value in pairwise(found):
        if keyword.keyword == "BASE" and value.kind == "iri":
            base_iri = urljoin(base_iri, value.text[1:-1])
    return base_iri


def _graph_target(op: list[Token], base_iri: str) -> str | None:
    """The graph a CLEAR or DROP names; None for DEFAULT, NAMED and ALL, which the shapes cannot see broken."""
    rest = [t for t in op[1:] if t.keyword != "SILENT"]
    if rest and rest[0].keyword == "GRAPH" and len(rest) > 1 and rest[1].kind == "iri":
        return urljoin(base_iri, rest[1].text[1:-1])
    raise QueryError("CLEAR and DROP take GRAPH <iri>, DEFAULT, NAMED or ALL")


def _two_graphs(op: list[Token], base_iri: str) -> tuple[str, str]:
    graphs = [urljoin(base_iri, t.text[1:-1]) for t in op if t.kind == "iri"]
    words = [t.keyword for t in op if t.keyword in ("DEFAULT",)]
    if len(graphs) != 2 or words:
        raise QueryError("ADD, COPY and MOVE are supported between two named graphs (GRAPH <a> TO GRAPH <b>)")
    return graphs[0], graphs[1]


def _in(quads: list[ox.Quad], graph: str) -> list[ox.Quad]:
    name = ox.NamedNode(graph)
    return [ox.Quad(q.subject, q.predicate, q.object, name) for q in quads]


def _modify(
    store: Store,
    source: str,
    op: list[Token],
    prologue: str,
    base_iri: str,
    using: tuple[str, ...],
    using_named: tuple[str, ...],
) -> tuple[list[ox.Quad], list[ox.Quad]]:
    """The quads a DELETE/INSERT … WHERE (or DELETE WHERE) removes and adds, from its solutions."""
    index, with_graph = 0, None
    request_base = _request_base(prologue, base_iri)  # for WITH and USING; the templates and WHERE read BASE themselves
    if op[0].keyword == "WITH":
        with_graph, index = _iri(op[1], request_base, "WITH"), 2
    delete_template = insert_template = where = None
    if op[index].keyword == "DELETE" and op[index + 1].keyword == "WHERE":
        where, _ = _block(source, op, index + 2)
        delete_template = where
    else:
        if op[index].keyword == "DELETE":
            delete_template, index = _block(source, op, index + 1)
        if index < len(op) and op[index].keyword == "INSERT":
            insert_template, index = _block(source, op, index + 1)
        default_graphs, named_graphs = list(using), list(using_named)
        while index < len(op) and op[index].keyword == "USING":
            if op[index + 1].keyword == "NAMED":
                named_graphs.append(_iri(op[index + 2], request_base, "USING NAMED"))
                index += 3
            else:
                default_graphs.append(_iri(op[index + 1], request_base, "USING"))
                index += 2
        using, using_named = tuple(default_graphs), tuple(named_graphs)
        if index >= len(op) or op[index].keyword != "WHERE":
            raise QueryError("a DELETE/INSERT operation needs a WHERE clause")
        where, _ = _block(source, op, index + 1)
    dataset = Dataset(using or ((with_graph,) if with_graph else ()), using_named)
    solutions = store.select(f"{prologue}\nSELECT * WHERE {{ {where} }}", base_iri=base_iri, dataset=dataset)
    removed = _fill(delete_template, solutions, prologue, base_iri, with_graph, fresh_blank_nodes=False)
    added = _fill(insert_template, solutions, prologue, base_iri, with_graph, fresh_blank_nodes=True)
    return removed, added


def _iri(token: Token, base_iri: str, clause: str) -> str:
    if token.kind != "iri":
        raise QueryError(f"{clause} takes a full IRI in angle brackets here, not {token.text!r}")
    return urljoin(base_iri, token.text[1:-1])


def _fill(
    template: str | None,
    solutions: Solutions,
    prologue: str,
    base_iri: str,
    with_graph: str | None,
    fresh_blank_nodes: bool,
) -> list[ox.Quad]:
    """Instantiate a template once per solution; a quad with an unbound variable is left out."""
    if template is None:
        return []
    marked = _mark_variables(template)
    pattern = _parse_quads(marked, prologue, base_iri)
    graph = ox.NamedNode(with_graph) if with_graph else ox.DefaultGraph()
    names = solutions.variables
    quads: list[ox.Quad] = []
    for number, row in enumerate(solutions.rows):
        binding = dict(zip(names, row, strict=True))
        for quad in pattern:
            terms = [
                _bind(t, binding, number if fresh_blank_nodes else None)
                for t in (quad.subject, quad.predicate, quad.object, quad.graph_name)
            ]
            if any(t is None for t in terms):
                continue
            s, p, o, g = terms
            if isinstance(s, ox.Literal) or not isinstance(p, ox.NamedNode):
                continue
            quads.append(quad_of(s, p, o, graph if isinstance(g, ox.DefaultGraph) else g))
    return quads


def _mark_variables(template: str) -> str:
    pieces, last = [], 0
    for token in tokens(template):
        if token.kind == "var":
            pieces += [template[last : token.start], f"<{_VARIABLE}{token.text[1:]}>"]
            last = token.end
    pieces.append(template[last:])
    return "".join(pieces)


def _bind(term: Node, binding: dict[str, Term | None], blank_suffix: int | None) -> Node | None:
    if isinstance(term, ox.NamedNode) and term.value.startswith(_VARIABLE):
        return binding.get(term.value[len(_VARIABLE) :])
    if isinstance(term, ox.BlankNode) and blank_suffix is not None:
        return ox.BlankNode(f"{term.value}x{blank_suffix}")
    return term
