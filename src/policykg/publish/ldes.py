"""The change stream of the entries: a Linked Data Event Stream (LDES) of versions, in pages by time.

Every accepted entry, every revision and every retraction is one member of the stream <base>ldes, an
immutable version object (LDES specification, "Overview and terminology"). The context information sits
on the `ldes:EventStream` ("Context information"):

- `ldes:timestampPath prov:generatedAtTime` gives the chronological order ("The chronological order of
  the stream"); members are listed in that order, ties broken by the member IRI.
- `ldes:versionOfPath dcterms:isVersionOf` names the logical entry a member is a version of: the first
  entry of its revision chain, the same across revisions ("Versions and transactions").
- Create, update and delete follow the vocabulary's `ldes:versionCreatePath`/`versionCreateObject` (and
  the Update and Delete pairs), with `rdf:type` as path (its default) and the Activity Streams classes
  `as:Create`, `as:Update` and `as:Delete` as objects, as the specification's own examples do. An
  accepted entry's member is the entry IRI itself (an `as:Create`, or an `as:Update` when it revises
  another); a retraction is a tombstone member of its own, <entry IRI>/retraction, typed `as:Delete`,
  timestamped with the entry's `prov:invalidatedAtTime`.
- A member says only what never changes: its types, timestamp, version-of link, `prov:wasAttributedTo`,
  `prov:wasRevisionOf` (for a tombstone: the entry it retracts), `pkg:contentHash`, and `rdfs:seeAlso`
  the entry IRI, which dereferences to the entry's triples (TriG or N-Quads). The entry IRI is also the
  named graph that holds its triples, as the specification's named-graph convention for payloads says.

The stream IRI answers with the stream and its one `tree:view`, the root node <base>ldes/0 (TREE
"Initialization", LDES "Initialization run"). Pages are numbered from 0 and hold `size` members each;
page k links to page k+1 with one `tree:GreaterThanOrEqualToRelation` on `tree:path
prov:generatedAtTime` whose `tree:value` is the first timestamp of page k+1 (LDES "Traversing the search
tree", ordered). Each page repeats the stream's context information, so it reads on its own; the
root node alone carries `tree:view`, since every other node has exactly one node linking to it (TREE
"Definitions").

A page is immutable (LDES "State management"; `ldes:immutable true` on it, and cache headers over HTTP)
once it holds `size` members and some member is strictly later than its last one. Entries are written
one at a time and stamped, to the microsecond and always later than the stamp before, while the writer
holds its lock, so timestamps go up in the order writes become visible: a member later than a page's
last one means no member can still come into that page.
"""

import datetime as dt
from dataclasses import dataclass

import pyoxigraph as ox
import rdflib
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, XSD

from policykg import iris
from policykg.errors import ResourceNotFound
from policykg.iris import registry_iri
from policykg.rdf.input import to_rdflib_term
from policykg.rdf.namespaces import PKG, PREFIXES
from policykg.store import Store, Term

LDES = rdflib.Namespace("https://w3id.org/ldes#")
TREE = rdflib.Namespace("https://w3id.org/tree#")
AS = rdflib.Namespace("https://www.w3.org/ns/activitystreams#")
PAGE_SIZE = 100
POLLING_SECONDS = 60  # entries come in by hand: a minute between synchronisation runs is plenty
STREAM_PATH = iris.LDES
# How a member says it creates, updates or deletes: its rdf:type (LDES vocabulary, versionCreatePath …).
_VERSION_KINDS = (
    (LDES.versionCreatePath, LDES.versionCreateObject, AS.Create),
    (LDES.versionUpdatePath, LDES.versionUpdateObject, AS.Update),
    (LDES.versionDeletePath, LDES.versionDeleteObject, AS.Delete),
)
# The members in the registry: every entry at its generation, every retraction at its invalidation. The Atom
# feeds (publish/feeds.py) read the same members.
MEMBERS = """
    { ?entry a pkg:Entry ; prov:generatedAtTime ?time ; prov:wasAttributedTo ?agent .
      OPTIONAL { ?entry prov:wasRevisionOf ?previous }
      OPTIONAL { ?entry pkg:contentHash ?hash }
      BIND(?entry AS ?member) }
    UNION
    { ?entry a pkg:Entry ; pkg:retractedBy ?agent ; prov:invalidatedAtTime ?time .
      BIND(?entry AS ?previous)
      BIND(true AS ?deleted)
      BIND(IRI(CONCAT(STR(?entry), "/retraction")) AS ?member) }
"""

Row = tuple[Term | None, ...]


@dataclass(frozen=True)
class Page:
    """A document of the stream: its triples, whether it can still change, and when it last did."""

    graph: rdflib.Graph
    immutable: bool
    last_modified: dt.datetime | None  # None: the document names no member


def stream_iri(base_iri: str) -> str:
    """The IRI of the event stream."""
    return base_iri + STREAM_PATH


def page_iri(base_iri: str, number: int) -> str:
    """The IRI of a page of the stream; page 0 is the root node."""
    return f"{base_iri}{STREAM_PATH}/{number}"


def stream_root(base_iri: str) -> Page:
    """What the stream IRI answers: the stream's context information and its one view, the root node."""
    graph = _described_stream(base_iri)
    graph.add((rdflib.URIRef(stream_iri(base_iri)), TREE.view, rdflib.URIRef(page_iri(base_iri, 0))))
    return Page(graph, immutable=False, last_modified=None)


def page(store: Store, base_iri: str, number: int, size: int = PAGE_SIZE) -> Page:
    """Page `number` of the stream: members number*size … number*size+size-1 in time order, and the link on.

    Raises ResourceNotFound for a page past the end; page 0 exists even while the stream is empty.
    """
    registry = f"<{registry_iri(base_iri)}>"
    # Read the latest timestamp first: a later one seen now means every member up to it is already visible
    # to the page query that follows, which may see a newer state of the store but never an older one.
    latest, count = store.select(
        f"SELECT (MAX(?time) AS ?latest) (COUNT(*) AS ?count) WHERE {{ GRAPH {registry} {{ {MEMBERS} }} }}",
        prefixes=PREFIXES,
    ).rows[0]
    rows = store.select(
        f"SELECT ?member ?time ?entry ?agent ?previous ?hash ?deleted WHERE {{ GRAPH {registry} "
        f"{{ {MEMBERS} }} }} ORDER BY ?time ?member LIMIT {size + 1} OFFSET {number * size}",
        prefixes=PREFIXES,
    ).rows
    if number > 0 and not rows:
        pages = max(1, -(-int(count.value if count else 0) // size))
        raise ResourceNotFound(
            f"the change stream has {pages} page(s) of {size} members, numbered 0 to "
            f"{pages - 1}: there is no page {number}"
        )
    members, following = rows[:size], rows[size:]
    immutable = len(members) == size and latest is not None and _instant(latest) > _instant(members[-1][1])
    graph = _described_stream(base_iri)
    node = rdflib.URIRef(page_iri(base_iri, number))
    graph.add((node, RDF.type, TREE.Node))
    if number == 0:
        graph.add((rdflib.URIRef(stream_iri(base_iri)), TREE.view, node))
    if immutable:
        graph.add((node, LDES.immutable, rdflib.Literal(True)))
    origins = _origins(store, registry, [row[2] for row in members])
    for row in members:
        _describe_member(graph, rdflib.URIRef(stream_iri(base_iri)), row, origins)
    if following:
        _link(graph, node, rdflib.URIRef(page_iri(base_iri, number + 1)), _timestamp(following[0][1]))
    # The page last changed when its newest member came in, or the first one of the next page (its link).
    times = [_instant(row[1]) for row in members + following]
    return Page(graph, immutable, max(times) if times else None)


def _described_stream(base_iri: str) -> rdflib.Graph:
    """The event stream's context information, which every document of the stream carries."""
    graph = rdflib.Graph()
    stream = rdflib.URIRef(stream_iri(base_iri))
    graph.add((stream, RDF.type, LDES.EventStream))
    graph.add(
        (
            stream,
            DCTERMS.title,
            rdflib.Literal("Changes to the policykg graph: entries, revisions and retractions", lang="en"),
        )
    )
    graph.add((stream, LDES.timestampPath, PROV.generatedAtTime))
    graph.add((stream, LDES.versionOfPath, DCTERMS.isVersionOf))
    for path, kind, value in _VERSION_KINDS:
        graph.add((stream, path, RDF.type))
        graph.add((stream, kind, value))
    graph.add((stream, LDES.pollingInterval, rdflib.Literal(POLLING_SECONDS, datatype=XSD.integer)))
    return graph


def _describe_member(graph: rdflib.Graph, stream: rdflib.URIRef, row: Row, origins: dict[str, str]) -> None:
    """Add a member and what never changes about it."""
    member, _, entry, agent, previous, content_hash, deleted = (None if t is None else to_rdflib_term(t) for t in row)
    assert member is not None and entry is not None and agent is not None  # bound in both parts of MEMBERS
    graph.add((stream, TREE.member, member))
    if deleted is not None:
        graph.add((member, RDF.type, AS.Delete))
    else:
        graph.add((member, RDF.type, PKG.Entry))
        graph.add((member, RDF.type, AS.Create if previous is None else AS.Update))
    graph.add((member, PROV.generatedAtTime, _timestamp(row[1])))
    graph.add((member, DCTERMS.isVersionOf, rdflib.URIRef(origins[str(entry)])))
    graph.add((member, PROV.wasAttributedTo, agent))
    if previous is not None:
        graph.add((member, PROV.wasRevisionOf, previous))
    if content_hash is not None:
        graph.add((member, PKG.contentHash, content_hash))
    graph.add((member, RDFS.seeAlso, entry))


def _origins(store: Store, registry: str, entries: list[Term | None]) -> dict[str, str]:
    """The first entry of each entry's revision chain: the logical entry its versions share."""
    if not entries:
        return {}
    values = " ".join(sorted({str(entry) for entry in entries}))
    rows = store.select(
        f"SELECT ?entry ?origin WHERE {{ VALUES ?entry {{ {values} }} GRAPH {registry} {{ "
        f"?entry prov:wasRevisionOf* ?origin FILTER NOT EXISTS {{ ?origin prov:wasRevisionOf ?older }} "
        f"}} }}",
        prefixes=PREFIXES,
    ).values()
    return {str(entry): str(origin) for entry, origin in rows}


def _link(graph: rdflib.Graph, node: rdflib.URIRef, following: rdflib.URIRef, first_time: rdflib.Literal) -> None:
    """Link a page to the next one: every member from there on is at or after the next page's first time."""
    relation = rdflib.URIRef(str(node) + "#next")
    graph.add((node, TREE.relation, relation))
    graph.add((relation, RDF.type, TREE.GreaterThanOrEqualToRelation))
    graph.add((relation, TREE.node, following))
    graph.add((relation, TREE.path, PROV.generatedAtTime))
    graph.add((relation, TREE.value, first_time))


def _timestamp(term: Term | None) -> rdflib.Literal:
    """An xsd:dateTime of the registry as it is written there (rdflib would rewrite "Z" as "+00:00")."""
    assert isinstance(term, ox.Literal)
    return rdflib.Literal(term.value, datatype=XSD.dateTime, normalize=False)


def _instant(term: Term | None) -> dt.datetime:
    """The time an xsd:dateTime term of the registry stands for."""
    assert isinstance(term, ox.Literal)
    return dt.datetime.fromisoformat(term.value)
