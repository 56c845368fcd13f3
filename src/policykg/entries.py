"""Entries: how the graph grows. A contribution of triples is checked against the shapes together with
the stored graph it refers to, then written atomically into a graph of its own, with its provenance.

Nothing gets in that the shapes do not check: every subject of an entry must have a type some shape
targets (SHACL alone would let an untyped or unknown resource through, since no shape would look at it).
"""

import datetime as dt
import uuid
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib.namespace import RDFS

from policykg.changes import Change
from policykg.config import Settings
from policykg.errors import EntryRejected, ProtocolError
from policykg.namespaces import ONTOLOGY_IRI, PKG, SHAPES_IRI
from policykg.rdfinput import parse_bytes
from policykg.store import Store
from policykg.validation import Report
from policykg.writes import Writer

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
PROV = "http://www.w3.org/ns/prov#"
SHAPES_VERSION = ox.NamedNode(SHAPES_IRI + "/0.1.0")


@dataclass(frozen=True)
class Accepted:
    """An entry written to the store: its IRI, and the report (warnings and infos only)."""

    iri: str
    report: Report


class Entries:
    """Checks and writes entries; the agent writing them is given by the caller (bound to its token)."""

    def __init__(self, store: Store, writer: Writer, settings: Settings) -> None:
        self._store = store
        self._writer = writer
        self._base = settings.base_iri
        self._registry = ox.NamedNode(settings.base_iri + "graph/entries")
        self._checked = writer.checked_classes

    def read(self, body: bytes, format_name: str) -> list[ox.Triple]:
        """The triples of an entry sent as RDF: one graph at most, never empty; nothing is fetched."""
        quads = parse_bytes(body, format_name, self._base, source="entry")
        graphs = {q.graph_name for q in quads if not isinstance(q.graph_name, ox.DefaultGraph)}
        if len(graphs) > 1:
            raise ProtocolError(f"an entry is one graph; this one has {len(graphs)} named graphs")
        if graphs & {ox.NamedNode(ONTOLOGY_IRI), ox.NamedNode(SHAPES_IRI)}:
            raise EntryRejected("the ontology and shapes graphs are not written by entries")
        if not quads:
            raise ProtocolError("the entry is empty: send at least one triple")
        return [ox.Triple(q.subject, q.predicate, q.object) for q in quads]

    def check(self, triples: list[ox.Triple], agent: str) -> Report:
        """The report an entry would get, without writing anything (a dry run)."""
        iri = self._new_iri()
        return self._writer.check(self._change(iri, triples, agent))

    def submit(self, triples: list[ox.Triple], agent: str) -> Accepted:
        """Write an entry if it conforms, with its provenance; raise ChangeRejected otherwise."""
        iri = self._new_iri()
        report = self._writer.add(self._change(iri, triples, agent))
        return Accepted(iri, report)

    def _change(self, iri: str, triples: list[ox.Triple], agent: str) -> Change:
        self._check_scope(triples)
        graph = ox.NamedNode(iri)
        entry = ox.NamedNode(iri)
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        metadata = [
            ox.Quad(entry, RDF_TYPE, ox.NamedNode(str(PKG.Entry)), self._registry),
            ox.Quad(entry, ox.NamedNode(str(RDFS.label)), ox.Literal(f"Entry of {now}", language="en"), self._registry),
            ox.Quad(entry, ox.NamedNode(PROV + "wasAttributedTo"), ox.NamedNode(agent), self._registry),
            ox.Quad(entry, ox.NamedNode(PROV + "generatedAtTime"),
                    ox.Literal(now, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")), self._registry),
            ox.Quad(entry, ox.NamedNode(str(PKG.validatedAgainst)), SHAPES_VERSION, self._registry),
        ]
        content = tuple(ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples)
        return Change(added=content + tuple(metadata))

    def _check_scope(self, triples: list[ox.Triple]) -> None:
        """Refuse subjects no shape would check, blank-node subjects, and new resources outside the base."""
        subjects = {t.subject for t in triples}
        blank = [s for s in subjects if isinstance(s, ox.BlankNode)]
        if blank:
            raise EntryRejected(f"{len(blank)} subject(s) are blank nodes: give every resource an IRI under {self._base}")
        types: dict[ox.NamedNode, set[str]] = {s: set() for s in subjects}  # type: ignore[misc]
        for t in triples:
            if t.predicate == RDF_TYPE and isinstance(t.object, ox.NamedNode):
                types[t.subject].add(t.object.value)  # type: ignore[index]
        stored = self._stored_types(list(types))
        unchecked, outside = [], []
        for subject, declared in types.items():
            known = declared | stored.get(subject, set())
            if not known & self._checked:
                unchecked.append(f"<{subject.value}>" + (f" (a {', '.join(sorted(known))})" if known else " (no type)"))
            if subject not in stored and not subject.value.startswith(self._base):
                outside.append(f"<{subject.value}>")
        if unchecked:
            raise EntryRejected("no shape checks these subjects, so they cannot come in: " + ", ".join(sorted(unchecked))
                                + "; give each a type of the model (see /sparql for the classes)")
        if outside:
            raise EntryRejected(f"new resources must have IRIs under {self._base}: " + ", ".join(sorted(outside)))

    def _stored_types(self, subjects: list[ox.NamedNode]) -> dict[ox.NamedNode, set[str]]:
        found: dict[ox.NamedNode, set[str]] = {}
        for start in range(0, len(subjects), 300):
            values = " ".join(str(s) for s in subjects[start:start + 300])
            rows = self._store.select(f"SELECT ?s ?t WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s a ?t }} }}").rows
            for s, t in rows:
                found.setdefault(s, set()).add(t.value)  # type: ignore[arg-type, union-attr]
        return found

    def _new_iri(self) -> str:
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
        return f"{self._base}entries/{stamp}-{uuid.uuid4().hex[:12]}"
