"""Virtuoso's updates as text within its compiler's limits: operations split out, DATA blocks batched.

Virtuoso commits the operations of one request one by one and overflows on large DATA blocks (see
virtuoso.py), so a change is written as requests each holding one operation of bounded size.
"""

from collections.abc import Iterator

import pyoxigraph as ox

from policykg.errors import (
    DefaultGraphWrite,
    StoreError,
)
from policykg.sparql.syntax import Token, tokens, unescape

BIG_DATA = "DEFINE sql:big-data-const 1\n"  # DATA blocks compiled as one constant, not as SQL per triple
_BLOCK = 2_000  # triples per GRAPH block (the parser overflows near 5,000)
_REQUEST = 20_000  # triples per INSERT DATA request
TEMPLATE = 500  # quads in a DELETE … INSERT … WHERE {} (its generated SQL is too long past about 1,000)


def split(text: str) -> tuple[str, str | None, str, list[list[Token]]]:
    """A request's unescaped text, its BASE IRI, its PREFIX declarations, and the tokens of each operation."""
    source = unescape(text)
    base: str | None = None
    declarations: list[str] = []
    operations: list[list[Token]] = [[]]
    depth = pending = 0
    declaring = ""
    for token in tokens(source):
        if pending:
            pending -= 1
            if declaring == "BASE":
                base = token.text
            else:
                declarations.append(token.text)
        elif depth == 0 and token.keyword in ("BASE", "PREFIX"):
            declaring, pending = token.keyword, 1 if token.keyword == "BASE" else 2
            declarations += ["PREFIX"] if declaring == "PREFIX" else []
        elif depth == 0 and token.kind == "punct" and token.text == ";":
            operations.append([])
        else:
            if token.kind == "punct" and token.text in "{}":
                depth += 1 if token.text == "{" else -1
            operations[-1].append(token)
    return source, base, " ".join(declarations), [op for op in operations if op]


def prologue(base: str | None, declarations: str) -> str:
    """Declarations as Virtuoso reads them: one BASE, first (a request's own, else policykg's), then the prefixes;
    on one line, so that the line numbers of Virtuoso's messages are those of the request."""
    return (f"BASE {base} " if base else "") + declarations + " "


def kind(op: list[Token]) -> str:
    words = [t.keyword or "" for t in op[:2]]
    return " ".join(words) if words[1:] == ["DATA"] else words[0]


def block(source: str, op: list[Token]) -> str:
    """The text inside the outer braces of a DATA operation, ending so that another block may follow."""
    if len(op) < 4 or op[2].text != "{":
        return ""
    inner = source[op[2].end : op[-1].start].strip()
    return inner if not inner or inner.endswith((".", "}")) else inner + " ."


def data_request(prologue: str, deletes: list[str], inserts: list[str]) -> str:
    """DELETE DATA and INSERT DATA blocks as one operation where Virtuoso can take them so, else in order.

    Both together, or blank nodes (which INSERT DATA refuses), make one DELETE … INSERT … WHERE {}: a
    single operation is a single transaction. Past TEMPLATE triples Virtuoso cannot compile that, and
    the DATA operations go in order in one request.
    """
    deleted, inserted = " ".join(deletes), " ".join(inserts)
    small = _statements(deleted) + _statements(inserted) <= TEMPLATE
    blank = _has_blank_labels(inserted)
    if (deletes and inserts and small) or blank:
        if not small:
            raise StoreError(f"Virtuoso takes blank nodes in updates of at most {TEMPLATE} triples: name them")
        templates = [f"{verb} {{ {block} }}" for verb, block in (("DELETE", deleted), ("INSERT", inserted)) if block]
        return prologue + " ".join(templates) + " WHERE {}"
    parts = [f"{verb} DATA {{ {block} }}" for verb, block in (("DELETE", deleted), ("INSERT", inserted)) if block]
    return BIG_DATA + prologue + " ;\n".join(parts)


def _statements(block: str) -> int:
    """About how many triples a block holds: one per '.', ';' or ',' between terms."""
    return sum(1 for t in tokens(block) if t.kind == "punct" and t.text in ".;,")


def _has_blank_labels(block: str) -> bool:
    return any(t.text.startswith("_:") or (t.kind == "punct" and t.text in "[(") for t in tokens(block))


def insert_requests(graphs: dict[str, list[ox.Triple]]) -> Iterator[str]:
    """INSERT DATA requests of up to _REQUEST triples, in GRAPH blocks of up to _BLOCK."""
    blocks: list[str] = []
    size = 0
    for graph, triples in graphs.items():
        for start in range(0, len(triples), _BLOCK):
            part = triples[start : start + _BLOCK]
            if blocks and size + len(part) > _REQUEST:
                yield BIG_DATA + "INSERT DATA { " + " ".join(blocks) + " }"
                blocks, size = [], 0
            blocks.append(f"GRAPH <{graph}> {{ {triples_text(part)} }}")
            size += len(part)
    if blocks:
        yield BIG_DATA + "INSERT DATA { " + " ".join(blocks) + " }"


def triples_text(triples: list[ox.Triple]) -> str:
    return " ".join(f"{t.subject} {t.predicate} {t.object} ." for t in triples)


def has_blank_nodes(triples: list[ox.Triple]) -> bool:
    return any(isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode) for t in triples)


def named(graph: str | None) -> str:
    if graph is None:
        raise DefaultGraphWrite(
            "Virtuoso keeps no default graph of its own: policykg keeps every triple in a named graph"
        )
    return graph
