"""Full-text search inside SPARQL: SERVICE <https://w3id.org/policykg/search> { ?hit pkg:matches "…" }.

The group is evaluated here, before the query reaches the store: the search runs over the index and the
group is replaced by a VALUES block of its hits, which then joins with the rest of the query on any backend.
Nothing goes out: the IRI names this service's own index, not an endpoint. The form follows those of
Jena's text:query and GraphDB's Lucene connector (a pattern whose subject is bound to the hits); the
options are further triples of the group:

    SERVICE <https://w3id.org/policykg/search> {
        ?hit pkg:matches "data space" ;   # the search text, as /search?q= takes it (required)
             pkg:score ?score ;           # BM25 score (optional)
             pkg:snippet ?snippet ;       # the best passage, with <mark> around the matched words (optional)
             pkg:limit 20 .               # how many hits at most (default 100, at most 1000)
    }
"""

from dataclasses import dataclass

from policykg.errors import QueryError, SearchError
from policykg.rdf.namespaces import PREFIXES
from policykg.search.finding import MAX_RESULTS, find
from policykg.search.index import SearchIndex
from policykg.sparql.syntax import Token, tokens, unescape
from policykg.store import Store

SEARCH_SERVICE = "https://w3id.org/policykg/search"
DEFAULT_LIMIT = 100
_OPTIONS = ("matches", "score", "snippet", "limit")
_XSD = PREFIXES["xsd"]


@dataclass
class _Group:
    """What one search group asks for."""

    hit: str = ""
    text: str | None = None
    score: str | None = None
    snippet: str | None = None
    limit: int = DEFAULT_LIMIT


def mentions_search(text: str) -> bool:
    """True if a query may call the search service (a cheap look before the tokens are read)."""
    if SEARCH_SERVICE in text:
        return True
    return ("\\u" in text or "\\U" in text) and SEARCH_SERVICE in unescape(text)  # the IRI in codepoint escapes


def evaluate_search(text: str, index: SearchIndex, store: Store) -> str:
    """The query with each search group replaced by a VALUES block of its hits (the text as it was if none)."""
    if not mentions_search(text):
        return text
    source = unescape(text)
    found = tokens(source)
    prefixes = {"pkg:": PREFIXES["pkg"]} | _prefixes(found)
    pieces, at, i = [], 0, 0
    while i < len(found):
        end = _service_end(found, i)
        if end is None:
            i += 1
            continue
        open_at = next(j for j in range(i, end) if found[j].text == "{")
        group = _read_group(found[open_at + 1 : end], prefixes)
        pieces += [source[at : found[i].start], _values(group, index, store)]
        at, i = found[end].end, end + 1
    return "".join(pieces) + source[at:]


def _service_end(found: list[Token], i: int) -> int | None:
    """The index of the closing brace of a search group that starts at token i (None: no search group there)."""
    if found[i].keyword != "SERVICE":
        return None
    j = i + 1
    if j < len(found) and found[j].keyword == "SILENT":
        j += 1
    if j + 1 >= len(found) or found[j].text != f"<{SEARCH_SERVICE}>" or found[j + 1].text != "{":
        return None
    depth = 0
    for k in range(j + 1, len(found)):
        depth += {"{": 1, "}": -1}.get(found[k].text, 0)
        if depth == 0:
            return k
    raise QueryError("the search service's group is not closed with '}'")


def _prefixes(found: list[Token]) -> dict[str, str]:
    """The query's PREFIX declarations, prefix (with its colon) to namespace."""
    declared = {}
    for i, token in enumerate(found[:-2]):
        if token.keyword == "PREFIX" and found[i + 2].kind == "iri":
            declared[found[i + 1].text] = found[i + 2].text[1:-1]
    return declared


def _read_group(inner: list[Token], prefixes: dict[str, str]) -> _Group:
    """The subject and options of a group: one subject variable, then predicate-object pairs."""
    if not inner or inner[0].kind != "var":
        raise QueryError("the search service's group starts with the variable the hits bind, e.g. ?hit pkg:matches")
    group, i = _Group(hit=inner[0].text[1:]), 1
    while i < len(inner):
        if inner[i].text in (";", "."):
            i += 1
            continue
        if i + 1 >= len(inner):
            raise QueryError("the search service's group ends in the middle of a triple")
        option, value = _option(inner[i], prefixes), inner[i + 1]
        i += 2
        if i < len(inner) and inner[i].kind == "langtag":
            i += 1
        if option == "matches" and value.kind == "string":
            group.text = _string(value.text)
        elif option in ("score", "snippet") and value.kind == "var":
            setattr(group, option, value.text[1:])
        elif option == "limit" and value.kind == "number" and value.text.isdigit():
            group.limit = min(int(value.text), MAX_RESULTS)
        else:
            raise QueryError(f"pkg:{option} takes {'a string' if option == 'matches' else 'a variable or a number'}")
    if group.text is None:
        raise QueryError('the search service needs the text to search for: ?hit pkg:matches "…"')
    return group


def _option(token: Token, prefixes: dict[str, str]) -> str:
    if token.kind == "iri":
        iri = token.text[1:-1]
    else:
        prefix, _, local = token.text.partition(":")
        iri = prefixes.get(prefix + ":", "") + local if _ else token.text
    name = iri.removeprefix(PREFIXES["pkg"])
    if name not in _OPTIONS or not iri.startswith(PREFIXES["pkg"]):
        raise QueryError(f"the search service knows pkg:{', pkg:'.join(_OPTIONS)}; not {token.text}")
    return name


def _string(text: str) -> str:
    quote = 3 if text[:3] in ('"""', "'''") else 1
    body = text[quote:-quote]
    escapes = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
    out, i = [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            out.append(escapes.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def _values(group: _Group, index: SearchIndex, store: Store) -> str:
    """The VALUES block of a group's hits."""
    assert group.text is not None
    try:
        hits = find(index, store, group.text, limit=max(group.limit, 1), facets=False).hits if group.limit else ()
    except SearchError as error:
        raise QueryError(f"the search service cannot run this search: {error}") from None
    names = [group.hit, *(name for name in (group.score, group.snippet) if name)]
    rows = []
    for hit in hits:
        row = [f"<{hit.iri}>"]
        if group.score:
            row.append(f'"{hit.score!r}"^^<{_XSD}double>')
        if group.snippet:
            row.append(_literal(hit.snippet_html))
        rows.append(f"({' '.join(row)})")
    return f"VALUES ({' '.join('?' + n for n in names)}) {{ {' '.join(rows)} }}"


def _literal(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'
