"""Audits of a running service against its store: the entries sent to it, its change stream, its dump.

Each audit returns the problems it found (an empty list: all agree), so that a test asserts the list is
empty and a benchmark prints it. Shared by tests/test_crash.py, benchmarks/crash_loop.py and
benchmarks/load_mix.py.
"""

import hashlib
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import httpx
import pyoxigraph as ox

from policykg.config import Settings
from policykg.model.files import load_model
from policykg.store import EmbeddedStore

PKG = "https://w3id.org/policykg/ontology#"
PROV = "http://www.w3.org/ns/prov#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
TREE = "https://w3id.org/tree#"
SRJ = "application/sparql-results+json"
# What the registry records about every entry it accepts (policykg.writing.entries: Entries._change and submit).
RECORD = (
    RDF_TYPE,
    "http://www.w3.org/2000/01/rdf-schema#label",
    PROV + "wasAttributedTo",
    PROV + "generatedAtTime",
    PKG + "validatedAgainst",
    PKG + "contentHash",
)
MAX_PAGES = 100_000  # a bound on the walk through the change stream


@dataclass
class Submission:
    """An entry sent to the service: its triples (N-Triples), whether it is valid, and the entry it became."""

    triples: frozenset[str]
    valid: bool = True
    entry: str | None = None  # named by a 201, or found in the store after an answer that never came


@dataclass
class EntryAudit:
    """The entries found in the store (entry IRI → its triples) and what disagrees with the submissions."""

    entries: dict[str, frozenset[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def submission(turtle: str, base_iri: str, valid: bool = True) -> Submission:
    """The submission of an entry written in Turtle: its triples as the service reads them."""
    quads = ox.parse(turtle.encode("utf-8"), format=ox.RdfFormat.TURTLE, base_iri=base_iri)
    return Submission(frozenset(str(ox.Triple(q.subject, q.predicate, q.object)) for q in quads), valid)


def meeting_entry(base_iri: str, number: int, participants: int = 3) -> str:
    """A valid entry over the seed alone: meeting `number` of the seed's series, with its participations.

    The number must be new in the series (the seed has meeting 11): a number already taken is a violation.
    """
    meeting = f"<{base_iri}id/event/entry-meeting-{number}>"
    lines = [
        f"""@prefix pkg: <{PKG}> . @prefix schema: <https://schema.org/> . @prefix cv: <http://data.europa.eu/m8g/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
{meeting} a pkg:ExpertGroupMeeting ; rdfs:label "Meeting {number}"@en ; schema:startDate "2025-01-01"^^xsd:date ;
    pkg:partOfSeries <{base_iri}id/series/cultural-heritage-expert-group-meetings> ; pkg:seriesNumber {number} ."""
    ]
    for index in range(participants):
        participation = f"<{base_iri}id/participation/entry-meeting-{number}-{index}>"
        lines.append(f"""{meeting} cv:hasParticipation {participation} .
{participation} a pkg:Participation ; cv:hasParticipant <{base_iri}id/person/julia-pagel> ;
    cv:role pkg:roleAttendee ; pkg:onBehalfOf <{base_iri}id/org/nemo> .""")
    return "\n".join(lines)


def select(url: str, query: str) -> list[tuple[ox.NamedNode | ox.BlankNode | ox.Literal | None, ...]]:
    """The rows of a SELECT query sent to the service at url, as terms."""
    response = httpx.get(url + "/sparql", params={"query": query}, headers={"Accept": SRJ}, timeout=300)
    response.raise_for_status()
    solutions = ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON)
    names = [variable.value for variable in solutions.variables]
    return [tuple(solution[name] for name in names) for solution in solutions]


def audit_entries(
    url: str, base_iri: str, submissions: list[Submission], earlier: frozenset[str] = frozenset()
) -> EntryAudit:
    """Check every entry in the store against what was sent, and every acknowledged submission against the store.

    Each entry must have its whole record and its data (or neither), hold exactly the triples of one valid
    submission, and be the only one that does; each submission acknowledged with a 201 must be there, under
    the entry the 201 named. Entries in `earlier` were there before the submissions: only their records count.
    """
    audit = EntryAudit(entries=stored_entries(url, base_iri))
    records = entry_records(url, base_iri)
    for entry in sorted(records.keys() - audit.entries.keys() - earlier):
        audit.problems.append(f"the record of <{entry}> has no data (no graph)")
    for entry in sorted(audit.entries.keys() - records.keys()):
        audit.problems.append(f"the graph <{entry}> has no record in the registry")
    for entry, predicates in sorted(records.items()):
        missing = [p.rsplit("#", 1)[-1].rsplit("/", 1)[-1] for p in RECORD if p not in predicates]
        if missing:
            audit.problems.append(f"the record of <{entry}> lacks {', '.join(missing)}")
    sent = {s.triples: s for s in submissions}
    matched: Counter[frozenset[str]] = Counter()
    for entry, triples in sorted(audit.entries.items()):
        if entry in earlier:
            continue
        found = sent.get(triples)
        if found is None:
            audit.problems.append(f"<{entry}> holds {len(triples)} triples that no submission sent as such (partial?)")
        elif not found.valid:
            audit.problems.append(f"<{entry}> holds an invalid submission")
        elif found.entry not in (None, entry):
            audit.problems.append(f"<{entry}> holds the submission acknowledged as <{found.entry}>")
        matched[triples] += 1
    audit.problems += [f"a submission is stored {count} times" for count in matched.values() if count > 1]
    for lost in (s for s in submissions if s.entry is not None and s.triples not in matched):
        audit.problems.append(f"<{lost.entry}>, acknowledged, is not in the store")
    return audit


def settle(submissions: list[Submission], audit: EntryAudit) -> int:
    """Name the entries of submissions whose answer never came but that the store holds; return how many."""
    by_content = {triples: entry for entry, triples in audit.entries.items()}
    settled = 0
    for pending in (s for s in submissions if s.entry is None and s.triples in by_content):
        pending.entry = by_content[pending.triples]
        settled += 1
    return settled


def stored_entries(url: str, base_iri: str) -> dict[str, frozenset[str]]:
    """Every entry graph in the store (a graph named under <base>entries/) and its triples."""
    rows = select(
        url, f'SELECT ?g ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{base_iri}entries/")) }}'
    )
    graphs: dict[str, set[str]] = defaultdict(set)
    for graph, subject, predicate, value in rows:
        graphs[graph.value].add(str(ox.Triple(subject, predicate, value)))  # type: ignore[arg-type, union-attr]
    return {graph: frozenset(triples) for graph, triples in graphs.items()}


def entry_records(url: str, base_iri: str) -> dict[str, set[str]]:
    """Every entry the registry records, with the predicates its record has."""
    rows = select(url, f"SELECT ?e ?p WHERE {{ GRAPH <{base_iri}graph/entries> {{ ?e a <{PKG}Entry> ; ?p ?o }} }}")
    records: dict[str, set[str]] = defaultdict(set)
    for entry, predicate in rows:
        records[entry.value].add(predicate.value)  # type: ignore[union-attr]
    return dict(records)


def audit_change_stream(url: str, base_iri: str, entries: set[str]) -> list[str]:
    """Walk the LDES from its root page: every entry of the store must be a member exactly once, and no other."""
    members: Counter[str] = Counter()
    page: str | None = base_iri + "ldes/0"
    pages = 0
    while page is not None and pages < MAX_PAGES:
        response = httpx.get(
            url + "/" + page.removeprefix(base_iri), headers={"Accept": "application/n-triples"}, timeout=120
        )
        if response.status_code != 200:
            return [f"the change stream page <{page}> answered {response.status_code}"]
        triples = list(ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES))
        kinds = {t.subject.value for t in triples if t.predicate.value == RDF_TYPE and t.object.value == PKG + "Entry"}
        members.update(
            t.object.value for t in triples if t.predicate.value == TREE + "member" and t.object.value in kinds
        )
        relations = {
            t.object.value for t in triples if t.subject.value == page and t.predicate.value == TREE + "relation"
        }
        following = [
            t.object.value for t in triples if t.subject.value in relations and t.predicate.value == TREE + "node"
        ]
        page = following[0] if following else None
        pages += 1
    problems = [f"<{member}> is {count} times in the change stream" for member, count in members.items() if count > 1]
    problems += [
        f"<{entry}> is in the store but not in the change stream" for entry in sorted(entries - members.keys())
    ]
    problems += [
        f"<{member}> is in the change stream but not in the store" for member in sorted(members.keys() - entries)
    ]
    return problems


def audit_dump(url: str) -> list[str]:
    """Compare the N-Quads dump with the store's quads as SPARQL sees them, graph by graph."""
    response = current_dump(url, "policykg.nq")
    if response.status_code != 200:
        return [f"the dump answered {response.status_code}"]
    dumped = _digests(ox.parse(response.content, format=ox.RdfFormat.N_QUADS))
    return _differences("the dump", dumped, stored_digests(url))


def audit_model(url: str, settings: Settings) -> list[str]:
    """Compare the store with the model alone (ontology, shapes and seed, as a first start loads them)."""
    return _differences(
        "the model",
        _digests(model_quads(settings), same_blank_nodes=False),
        stored_digests(url, same_blank_nodes=False),
    )


def model_quads(settings: Settings) -> list[ox.Quad]:
    """The quads a first start loads: the model's files, each in its graph."""
    model = EmbeddedStore.in_memory()
    load_model(model, settings)
    chunks: list[bytes] = []
    model.dump("nquads", chunks.append)
    return list(ox.parse(b"".join(chunks), format=ox.RdfFormat.N_QUADS))


def stored_digests(url: str, same_blank_nodes: bool = True) -> dict[str, tuple[int, int]]:
    """The digests of the store's quads, every named graph, as SPARQL sees them."""
    rows = select(url, "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
    return _digests((ox.Quad(*row) for row in rows), same_blank_nodes)  # type: ignore[misc]


def _differences(name: str, expected: dict[str, tuple[int, int]], stored: dict[str, tuple[int, int]]) -> list[str]:
    """The graphs whose quads differ between what is expected and the store."""
    return [
        f"graph {graph}: {name} has {expected.get(graph, (0, 0))[0]} quads, the store "
        f"{stored.get(graph, (0, 0))[0]} (or other ones)"
        for graph in sorted(expected.keys() | stored.keys())
        if expected.get(graph) != stored.get(graph)
    ]


def _digests(quads, same_blank_nodes: bool = True) -> dict[str, tuple[int, int]]:  # type: ignore[no-untyped-def]
    """Per graph: the number of quads and the sum of their hashes (the same for the same quads, in any order).

    Two parses of one file name their blank nodes differently: without same_blank_nodes, a quad's hash does
    not depend on its blank nodes' labels (a weaker check, for such quads only).
    """
    digests: dict[str, tuple[int, int]] = {}
    for quad in quads:
        text = (
            str(quad)
            if same_blank_nodes
            else " ".join(
                "_:b" if isinstance(term, ox.BlankNode) else str(term)
                for term in (quad.subject, quad.predicate, quad.object)
            )
        )
        count, total = digests.get(str(quad.graph_name), (0, 0))
        value = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest(), "big")
        digests[str(quad.graph_name)] = (count + 1, (total + value) % 2**256)
    return digests


def current_dump(url: str, name: str, seconds: float = 120, **options: object) -> httpx.Response:
    """GET /dumps/<name> once the dumps hold the store's current revision (they are written in the background
    after a write: until then the files of the revision before are served, and so labelled)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        tag = httpx.get(url + "/ready", timeout=60).json()["revision"]["tag"]
        if httpx.get(url + "/dumps", timeout=60).json()["dumps"][0]["etag"].startswith(f'"{tag}-'):
            break
        time.sleep(0.05)
    return httpx.get(f"{url}/dumps/{name}", timeout=300, **options)  # type: ignore[arg-type]
