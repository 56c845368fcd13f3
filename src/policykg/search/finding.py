"""Searching the index: a query and filters in, ranked hits with highlighted snippets and facet counts out."""

import html
import re
from dataclasses import dataclass, field

import tantivy

from policykg.errors import SearchError
from policykg.rdf.namespaces import PREFIXES
from policykg.search.index import KEYWORD_FIELDS, SearchIndex, make_analyzer
from policykg.store import Store

FACETS = (*KEYWORD_FIELDS, "year")
PAGE_SIZE = 20
MAX_RESULTS = 1000  # how deep paging and the SPARQL service reach: a search narrows, it does not list
FACET_VALUES = 30
_TEXT_FIELDS = ["label", "body"]
_PIECE = re.compile(r'"[^"]*"\*?|\S+')
_PREFIX = re.compile(r"(\w+)\*")


@dataclass(frozen=True)
class Hit:
    """One resource found: its IRI, score, title, types and a snippet as (text, highlighted) pieces."""

    iri: str
    score: float  # the index's relevance score (BM25): higher is better
    title: str
    types: tuple[str, ...]  # the IRIs of its classes
    snippet: tuple[tuple[str, bool], ...]

    @property
    def snippet_html(self) -> str:
        """The snippet as HTML: every piece escaped, the matched words in <mark>."""
        return "".join(f"<mark>{html.escape(t)}</mark>" if marked else html.escape(t) for t, marked in self.snippet)


@dataclass(frozen=True)
class Results:
    """A page of hits, how many there are in all, and the facet values of all of them with their counts."""

    total: int
    hits: tuple[Hit, ...]
    facets: dict[str, tuple[tuple[str, int], ...]]
    labels: dict[str, str] = field(default_factory=dict)  # titles of the facet values and types, where indexed


def find(
    index: SearchIndex,
    store: Store,
    text: str,
    filters: dict[str, str] | None = None,
    offset: int = 0,
    limit: int = PAGE_SIZE,
    facets: bool = True,
) -> Results:
    """Search for text, narrowed by facet values (a concept with its narrower concepts), one page of hits."""
    if offset >= MAX_RESULTS or limit < 1:
        raise SearchError(f"a search shows its first {MAX_RESULTS} hits, a page of 1 to {PAGE_SIZE} at a time")
    query = parse_search(index, text)
    narrowed = _narrowed(index, store, query, filters or {})
    searcher = index.searcher()
    found = searcher.search(narrowed, limit=min(limit, MAX_RESULTS - offset), offset=offset, count=True)
    total: int = found.count  # type: ignore[attr-defined]  # Tantivy's type stubs leave out the count
    if offset and offset >= total:
        raise SearchError(f"there are {total} hits: offset {offset} is past the last")
    snippets = {name: tantivy.SnippetGenerator.create(searcher, query, index.schema, name) for name in _TEXT_FIELDS}
    hits = tuple(_hit(searcher, snippets, score, address) for score, address in found.hits)
    counts = _facet_counts(searcher, narrowed) if facets else {}
    wanted = {value for values in counts.values() for value, _ in values} | {t for hit in hits for t in hit.types}
    return Results(total, hits, counts, titles(index, wanted))


def parse_search(index: SearchIndex, text: str) -> tantivy.Query:
    """The query of a search text: words (all must occur), "phrases", prefixes (word*), AND, OR, NOT, -word."""
    if not text.strip():
        raise SearchError("give words to search for, e.g. q=data space")
    rest, prefixes = [], []
    for piece in _PIECE.findall(text):
        match = _PREFIX.fullmatch(piece)
        if match:
            prefixes.append(_prefix_query(index, match.group(1)))
        else:
            rest.append(piece)
    parts: list[tuple[tantivy.Occur, tantivy.Query]] = [(tantivy.Occur.Must, q) for q in prefixes]
    if rest:
        try:
            parsed = index.index.parse_query(
                " ".join(rest), _TEXT_FIELDS, field_boosts={"label": 2.0}, conjunction_by_default=True
            )
        except ValueError as error:
            raise SearchError(f"the search text cannot be read: {error}") from None
        parts.append((tantivy.Occur.Must, parsed))
    return parts[0][1] if len(parts) == 1 else tantivy.Query.boolean_query(parts)


def narrower_concepts(store: Store, concept: str) -> list[str]:
    """The concept and every concept below it (skos:broader*, from the closure the service keeps: model/closure.py),
    as the concept facet narrows by."""
    rows = store.select(
        f"SELECT DISTINCT ?c WHERE {{ GRAPH ?g {{ ?c <{PREFIXES['skos']}broaderTransitive> <{concept}> }} }}"
    ).values()
    return sorted({concept} | {c for (c,) in rows if c})


def titles(index: SearchIndex, iris: set[str]) -> dict[str, str]:
    """The title the index holds for each of these IRIs (those it has a document of)."""
    if not iris:
        return {}
    searcher = index.searcher()
    query = tantivy.Query.term_set_query(index.schema, "iri", sorted(iris))
    found = searcher.search(query, limit=len(iris), count=False)
    named: dict[str, str] = {}
    for _, address in found.hits:
        document = searcher.doc(address)
        labels = document.get_all("label")
        if labels:
            named[str(document.get_first("iri"))] = str(labels[0])
    return named


def _prefix_query(index: SearchIndex, word: str) -> tantivy.Query:
    """Words starting with the given letters, in any text field (the letters folded as the index folds them)."""
    tokens = [token for token in make_analyzer(stem=False).analyze(word) if token.isalnum()]
    if len(tokens) != 1:
        raise SearchError(f"'{word}*': a prefix is letters and digits, e.g. digit*")
    # The index holds English stems ("interoperable" as "interoper"): a word starts with the prefix when its
    # stem does, or when its stem is the prefix less a short ending a stemmer takes off.
    prefix = tokens[0]
    shorter = [re.escape(prefix[:end]) for end in range(max(3, len(prefix) - 3), len(prefix))]
    pattern = "|".join([re.escape(prefix) + ".*", *shorter])
    return tantivy.Query.boolean_query(
        [(tantivy.Occur.Should, tantivy.Query.regex_query(index.schema, name, pattern)) for name in _TEXT_FIELDS]
    )


def _narrowed(index: SearchIndex, store: Store, query: tantivy.Query, filters: dict[str, str]) -> tantivy.Query:
    """The query with each filter as a further condition."""
    parts = [(tantivy.Occur.Must, query)]
    for name, value in sorted(filters.items()):
        if name not in FACETS:
            raise SearchError(f"unknown filter {name!r}: narrow by {', '.join(FACETS)}")
        if name == "year":
            if not value.isdigit():
                raise SearchError(f"year {value!r}: give a year such as 2024")
            parts.append((tantivy.Occur.Must, _unscored(tantivy.Query.term_query(index.schema, "year", int(value)))))
            continue
        if not re.fullmatch(r"[a-zA-Z][a-zA-Z0-9+.-]*:[^\s<>\"{}|^`\\]*", value):
            raise SearchError(f"{name} {value!r}: give the IRI of a resource")
        values = narrower_concepts(store, value) if name == "concept" else [value]
        parts.append((tantivy.Occur.Must, _unscored(tantivy.Query.term_set_query(index.schema, name, values))))
    return parts[0][1] if len(parts) == 1 else tantivy.Query.boolean_query(parts)


def _unscored(query: tantivy.Query) -> tantivy.Query:
    """A filter: it narrows the hits and leaves their scores as the words gave them."""
    return tantivy.Query.const_score_query(query, 0.0)


def _hit(
    searcher: tantivy.Searcher, snippets: dict[str, tantivy.SnippetGenerator], score: float, address: tantivy.DocAddress
) -> Hit:
    document = searcher.doc(address)
    iri = str(document.get_first("iri"))
    labels = document.get_all("label")
    return Hit(
        iri=iri,
        score=float(score),
        title=str(labels[0]) if labels else iri,
        types=tuple(str(t) for t in document.get_all("type")),
        snippet=_snippet(snippets, document),
    )


def _snippet(snippets: dict[str, tantivy.SnippetGenerator], document: tantivy.Document) -> tuple[tuple[str, bool], ...]:
    """The passage of the longer text with the most matched words (else of the names) in pieces."""
    fallback: tuple[tuple[str, bool], ...] = ()
    for name in ("body", "label"):
        snippet = snippets[name].snippet_from_doc(document)
        fragment = snippet.fragment()
        if not fragment:
            continue
        data, pieces, at = fragment.encode("utf-8"), [], 0
        for span in snippet.highlighted():  # byte offsets into the fragment
            pieces += [(data[at : span.start].decode("utf-8"), False), (data[span.start : span.end].decode(), True)]
            at = span.end
        pieces.append((data[at:].decode("utf-8"), False))
        found = tuple((text, marked) for text, marked in pieces if text)
        if snippet.highlighted():
            return found
        fallback = fallback or found
    if fallback:
        return fallback
    body = document.get_all("body")
    return ((str(body[0])[:150], False),) if body else ()


def _facet_counts(searcher: tantivy.Searcher, query: tantivy.Query) -> dict[str, tuple[tuple[str, int], ...]]:
    """How many hits have each value of each facet (the most frequent first)."""
    spec = {name: {"terms": {"field": name, "size": FACET_VALUES}} for name in FACETS}
    answer = searcher.aggregate(query, spec)
    counts: dict[str, tuple[tuple[str, int], ...]] = {}
    for name in FACETS:
        buckets = answer.get(name, {}).get("buckets", [])
        counts[name] = tuple((str(b["key"]), int(b["doc_count"])) for b in buckets)
    return counts
