"""Entries: how the graph grows. A contribution of triples is checked against the shapes together with
the stored graph it refers to, then written atomically into a graph of its own, with its provenance.

Nothing gets in that the shapes do not check: every subject of an entry must have a type some shape
targets (SHACL alone would let an untyped or unknown resource through, since no shape would look at it).
"""

import datetime as dt
import hashlib
import threading
import uuid
from dataclasses import dataclass

import pyoxigraph as ox
import rdflib
from rdflib.namespace import RDFS

from policykg.config import Settings
from policykg.errors import EntryGone, EntryRejected, GraphNotFound, IdempotencyConflict, NotYourEntry, ProtocolError
from policykg.iris import THIS_ENTRY_IRI, entry_iri, operator_iri, registry_iri
from policykg.rdf.input import parse_bytes
from policykg.rdf.namespaces import ONTOLOGY_IRI, PKG, PREFIXES, SHAPES_IRI
from policykg.rdf.terms import quad_of, value_of, well_typed
from policykg.store import Store
from policykg.validation.incremental import Change
from policykg.validation.shacl import Report
from policykg.writing.writer import Writer

RDF_TYPE = ox.NamedNode(PREFIXES["rdf"] + "type")
XSD = PREFIXES["xsd"]
PROV = PREFIXES["prov"]
SHAPES_VERSION = ox.NamedNode(SHAPES_IRI + "/0.1.0")
# Stands for the entry's own IRI (its graph) in the triples sent: a contribution can say what kind of
# assertion its graph is (stated, inferred, editorial) and where it comes from before the IRI is minted.
THIS_ENTRY = ox.NamedNode(THIS_ENTRY_IRI)


@dataclass(frozen=True)
class Accepted:
    """An entry written to the store: its IRI, and the report (warnings and infos only)."""

    iri: str
    report: Report
    repeated: bool = False


def record_of(iri: str, quads: list[ox.Quad]) -> dict[str, str]:
    """What the registry says about an entry (predicate -> value), from the quads Entries.quads gives."""
    return {
        q.predicate.value: value_of(q.object)
        for q in quads
        if value_of(q.subject) == iri and not isinstance(q.graph_name, ox.DefaultGraph) and q.graph_name.value != iri
    }


def _digest(triples: list[ox.Triple]) -> str:
    """A hash of the triples that does not depend on their order or on blank-node labels."""
    lines = sorted(
        " ".join("_:b" if isinstance(t, ox.BlankNode) else str(t) for t in (tr.subject, tr.predicate, tr.object))
        for tr in triples
    )
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


class Entries:
    """Checks and writes entries; the agent writing them is given by the caller (bound to its token)."""

    def __init__(self, store: Store, writer: Writer, settings: Settings) -> None:
        self._store = store
        self._writer = writer
        self._base = settings.base_iri
        self._registry = ox.NamedNode(registry_iri(settings.base_iri))
        self._checked = writer.checked_classes
        self._lock = threading.Lock()
        self._last_stamp = self._latest_stamp()

    def read(self, body: bytes, format_name: str) -> list[ox.Triple]:
        """The triples of an entry sent as RDF: one graph at most, never empty; nothing is fetched."""
        quads = parse_bytes(body, format_name, self._base, source="entry", service_base=self._base)
        graphs = {q.graph_name for q in quads if not isinstance(q.graph_name, ox.DefaultGraph)}
        if len(graphs) > 1:
            raise ProtocolError(f"an entry is one graph; this one has {len(graphs)} named graphs")
        if graphs & {ox.NamedNode(ONTOLOGY_IRI), ox.NamedNode(SHAPES_IRI), self._registry}:
            raise EntryRejected("the ontology, shapes and entry-registry graphs are not written by entries")
        if not quads:
            raise ProtocolError("the entry is empty: send at least one triple")
        for quad in quads:
            if isinstance(quad.object, ox.Literal) and not well_typed(quad.object):
                raise EntryRejected(
                    f"{quad.object} is not a valid {quad.object.datatype.value.rsplit('#', 1)[-1]} "
                    f"(object of <{quad.predicate.value}>)"
                )
        return [ox.Triple(q.subject, q.predicate, q.object) for q in quads]

    def check(self, triples: list[ox.Triple], agent: str) -> Report:
        """The report an entry would get, without writing anything (a dry run)."""
        iri = self._new_iri()
        return self._writer.check(self._change(iri, triples, agent, stamp=_stamp(dt.datetime.now(dt.UTC))))

    def submit(self, triples: list[ox.Triple], agent: str, key: str | None = None) -> Accepted:
        """Write an entry if it conforms, with its provenance; raise ChangeRejected otherwise.

        With an idempotency key, a retry (same key, same submitter, same triples) returns the entry
        written the first time; the same key with other triples is a conflict.
        """
        digest = _digest(triples)

        def write() -> Accepted:
            with self._lock:
                if key is not None:
                    earlier = self._by_key(agent, key)
                    if earlier is not None:
                        if earlier[1] != digest:
                            raise IdempotencyConflict(
                                f"the Idempotency-Key {key!r} was used for the entry <{earlier[0]}> with other triples"
                            )
                        return Accepted(earlier[0], Report(results=(), graph=rdflib.Graph()), repeated=True)
                iri = self._new_iri()
                extra = [
                    ox.Quad(ox.NamedNode(iri), ox.NamedNode(str(PKG.contentHash)), ox.Literal(digest), self._registry)
                ]
                if key is not None:
                    extra.append(
                        ox.Quad(
                            ox.NamedNode(iri), ox.NamedNode(str(PKG.idempotencyKey)), ox.Literal(key), self._registry
                        )
                    )
                change = self._change(iri, triples, agent)
                report = self._writer.add(Change(added=change.added + tuple(extra)))
                return Accepted(iri, report)

        return self._writer.grouped(write)

    def listing(
        self, limit: int, offset: int, resource: str | None = None, since: str | None = None, until: str | None = None
    ) -> list[dict[str, object]]:
        """A page of entries, newest first: IRI, time, submitter, and whether each is still current."""
        filters = ""
        if resource is not None:
            filters += (
                f" FILTER EXISTS {{ GRAPH ?entry {{ {{ <{resource}> ?p1 ?o1 }} UNION {{ ?s2 ?p2 <{resource}> }} }} }}"
            )
        for name, value, operator in (("since", since, ">="), ("until", until, "<")):
            if value is not None:
                if not well_typed(ox.Literal(value, datatype=ox.NamedNode(XSD + "dateTime"))):
                    raise ProtocolError(f"{name}={value!r} is not an xsd:dateTime such as 2026-01-31T12:00:00Z")
                filters += f" FILTER (?time {operator} {ox.Literal(value, datatype=ox.NamedNode(XSD + 'dateTime'))})"
        sparql = (
            f"SELECT ?entry ?time ?agent ?gone WHERE {{ GRAPH {self._registry} {{ ?entry a <{PKG.Entry}> ; "
            f"<{PROV}generatedAtTime> ?time ; <{PROV}wasAttributedTo> ?agent "
            f"OPTIONAL {{ ?entry <{PROV}invalidatedAtTime> ?gone }} }}{filters} }} "
            f"ORDER BY DESC(?time) DESC(?entry) LIMIT {limit} OFFSET {offset}"
        )
        return [
            {"entry": e, "generatedAtTime": t, "wasAttributedTo": a, "current": g is None}
            for e, t, a, g in self._store.select(sparql).values()
        ]

    def quads(self, iri: str) -> list[ox.Quad]:
        """An entry's triples (from the record, for a past version) and the provenance recorded about it."""
        sparql = (
            f"SELECT ?s ?p ?o ?g WHERE {{ {{ GRAPH <{iri}> {{ ?s ?p ?o }} BIND(<{iri}> AS ?g) }} UNION "
            f"{{ GRAPH {self._registry} {{ ?s ?p ?o FILTER(?s = <{iri}>) }} BIND({self._registry} AS ?g) }} }}"
        )
        found = [quad_of(*row) for row in self._store.select(sparql).rows]
        if not found:
            raise GraphNotFound(f"there is no entry <{iri}>")
        archived = [value_of(q.object) for q in found if q.predicate.value == str(PKG.archivedContent)]
        for text in archived:
            found += [
                ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(iri))
                for t in ox.parse(text.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
            ]
        return [q for q in found if q.predicate.value != str(PKG.archivedContent)]

    def _by_key(self, agent: str, key: str) -> tuple[str, str] | None:
        """The entry (and its content hash) a submitter already wrote with this key, if any."""
        # str() of a pyoxigraph literal is its escaped SPARQL/N-Triples form.
        rows = self._store.select(
            f"SELECT ?entry ?hash WHERE {{ GRAPH {self._registry} {{ ?entry <{PKG.idempotencyKey}> {ox.Literal(key)} ; "
            f"<{PKG.contentHash}> ?hash ; <{PROV}wasAttributedTo> <{agent}> }} }}"
        ).values()
        return (str(rows[0][0]), str(rows[0][1])) if rows else None

    def editable(self, iri: str, agent: str) -> list[ox.Quad]:
        """A current entry's quads, if the agent may revise or retract it (else 404, 410 or 403)."""
        return self._current(iri, agent)

    def check_revision(self, old: str, triples: list[ox.Triple], agent: str) -> Report:
        """The report a revision would get, without writing anything (a dry run)."""
        current = self._current(old, agent)
        change = self._change(self._new_iri(), triples, agent, stamp=_stamp(dt.datetime.now(dt.UTC)))
        return self._writer.check(Change(added=change.added, removed=tuple(current)))

    def revise(self, old: str, triples: list[ox.Triple], agent: str) -> Accepted:
        """Replace a current entry by a new version that revises it; the old triples are archived."""

        def write() -> Accepted:
            with self._lock:
                current = self._current(old, agent)
                iri = self._new_iri()
                change = self._change(iri, triples, agent)
                entry = ox.NamedNode(iri)
                links = (
                    ox.Quad(entry, ox.NamedNode(PROV + "wasRevisionOf"), ox.NamedNode(old), self._registry),
                    ox.Quad(entry, ox.NamedNode(str(PKG.contentHash)), ox.Literal(_digest(triples)), self._registry),
                )
                retired = self._retire(old, current, ox.NamedNode(str(PKG.supersededBy)), entry)
                report = self._writer.write(Change(added=change.added + links + retired, removed=tuple(current)))
                return Accepted(iri, report or Report(results=(), graph=rdflib.Graph()))

        return self._writer.grouped(write)

    def retract(self, old: str, agent: str) -> Report | None:
        """Take a current entry's triples out of the graph, recording who did it and when."""

        def write() -> Report | None:
            with self._lock:
                current = self._current(old, agent)
                retired = self._retire(old, current, ox.NamedNode(str(PKG.retractedBy)), ox.NamedNode(agent))
                return self._writer.write(Change(added=retired, removed=tuple(current)))

        return self._writer.grouped(write)

    def _current(self, iri: str, agent: str) -> list[ox.Quad]:
        """The quads of a current entry the agent may change: 404 if none, 410 if gone, 403 if someone else's."""
        state = self._store.select(
            f"SELECT ?gone ?by WHERE {{ GRAPH {self._registry} {{ <{iri}> a <{PKG.Entry}> ; "
            f"<{PROV}wasAttributedTo> ?by "
            f"OPTIONAL {{ <{iri}> <{PROV}invalidatedAtTime> ?gone }} }} }}"
        ).values()
        if not state:
            raise GraphNotFound(f"there is no entry <{iri}>")
        gone, by = state[0]
        if gone is not None:
            raise EntryGone(f"the entry <{iri}> was revised or retracted at {gone}")
        if agent not in (str(by), operator_iri(self._base)):
            raise NotYourEntry(
                f"the entry <{iri}> was written by <{by}>: only its contributor or the operator may "
                "revise or retract it"
            )
        return self._store.graph_quads(iri)

    def _retire(self, iri: str, quads: list[ox.Quad], link: ox.NamedNode, target: ox.NamedNode) -> tuple[ox.Quad, ...]:
        entry = ox.NamedNode(iri)
        data = ox.serialize([ox.Triple(q.subject, q.predicate, q.object) for q in quads], format=ox.RdfFormat.N_TRIPLES)
        assert data is not None  # no output given: serialize returns the bytes
        archived = data.decode("utf-8")
        return (
            ox.Quad(
                entry,
                ox.NamedNode(PROV + "invalidatedAtTime"),
                ox.Literal(self._now(), datatype=ox.NamedNode(XSD + "dateTime")),
                self._registry,
            ),
            ox.Quad(entry, link, target, self._registry),
            ox.Quad(entry, ox.NamedNode(str(PKG.archivedContent)), ox.Literal(archived), self._registry),
        )

    def _change(self, iri: str, triples: list[ox.Triple], agent: str, stamp: str | None = None) -> Change:
        """The entry's quads and its record; stamped now (under the lock) unless a dry run gives its own stamp."""
        graph = ox.NamedNode(iri)
        triples = [_this_entry(t, graph) for t in triples]
        self._check_scope(triples)
        entry = ox.NamedNode(iri)
        now = stamp or self._now()
        metadata = [
            ox.Quad(entry, RDF_TYPE, ox.NamedNode(str(PKG.Entry)), self._registry),
            ox.Quad(entry, ox.NamedNode(str(RDFS.label)), ox.Literal(f"Entry of {now}", language="en"), self._registry),
            ox.Quad(entry, ox.NamedNode(PROV + "wasAttributedTo"), ox.NamedNode(agent), self._registry),
            ox.Quad(
                entry,
                ox.NamedNode(PROV + "generatedAtTime"),
                ox.Literal(now, datatype=ox.NamedNode(XSD + "dateTime")),
                self._registry,
            ),
            ox.Quad(entry, ox.NamedNode(str(PKG.validatedAgainst)), SHAPES_VERSION, self._registry),
        ]
        content = tuple(ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples)
        return Change(added=content + tuple(metadata))

    def _check_scope(self, triples: list[ox.Triple]) -> None:
        """Refuse subjects no shape would check, blank-node subjects, and new resources outside the base."""
        subjects = {t.subject for t in triples}
        blank = [s for s in subjects if isinstance(s, ox.BlankNode)]
        if blank:
            raise EntryRejected(
                f"{len(blank)} subject(s) are blank nodes: give every resource an IRI under {self._base}"
            )
        # Blank nodes refused, every subject is an IRI (pyoxigraph's stubs allow a triple term; RDF 1.2 does not).
        types: dict[ox.NamedNode, set[str]] = {s: set() for s in subjects if isinstance(s, ox.NamedNode)}
        for t in triples:
            if t.predicate == RDF_TYPE and isinstance(t.object, ox.NamedNode) and isinstance(t.subject, ox.NamedNode):
                types[t.subject].add(t.object.value)
        stored = self._stored_types(list(types))
        unchecked, outside = [], []
        for subject, declared in types.items():
            known = declared | stored.get(subject, set())
            if not known & self._checked:
                unchecked.append(f"<{subject.value}>" + (f" (a {', '.join(sorted(known))})" if known else " (no type)"))
            if subject not in stored and not subject.value.startswith(self._base):
                outside.append(f"<{subject.value}>")
        if unchecked:
            raise EntryRejected(
                "no shape checks these subjects, so they cannot come in: "
                + ", ".join(sorted(unchecked))
                + "; give each a type of the model (see /sparql for the classes)"
            )
        if outside:
            raise EntryRejected(f"new resources must have IRIs under {self._base}: " + ", ".join(sorted(outside)))

    def _stored_types(self, subjects: list[ox.NamedNode]) -> dict[ox.NamedNode, set[str]]:
        found: dict[ox.NamedNode, set[str]] = {}
        for start in range(0, len(subjects), 300):
            values = " ".join(str(s) for s in subjects[start : start + 300])
            rows = self._store.select(f"SELECT ?s ?t WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s a ?t }} }}").rows
            for s, t in rows:
                assert isinstance(s, ox.NamedNode) and t is not None  # ?s from VALUES, ?t bound by the pattern
                found.setdefault(s, set()).add(t.value)
        return found

    def _latest_stamp(self) -> dt.datetime:
        """The latest time in the record, so that a clock set back between runs cannot make time go back."""
        rows = self._store.select(
            f"SELECT (MAX(?time) AS ?latest) WHERE {{ GRAPH {self._registry} {{ ?entry ?p ?time "
            f"FILTER (?p IN (<{PROV}generatedAtTime>, <{PROV}invalidatedAtTime>)) }} }}"
        ).values()
        latest = rows[0][0] if rows else None
        return dt.datetime.fromisoformat(latest) if latest else dt.datetime.min.replace(tzinfo=dt.UTC)

    def _now(self) -> str:
        """The time of a record, to the microsecond and always later than the one before (under the lock):
        the change stream orders its members by it, and a revision must come after what it revises."""
        now = max(dt.datetime.now(dt.UTC), self._last_stamp + dt.timedelta(microseconds=1))
        self._last_stamp = now
        return _stamp(now)

    def _new_iri(self) -> str:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        return entry_iri(self._base, f"{stamp}-{uuid.uuid4().hex[:12]}")


def _this_entry(triple: ox.Triple, entry: ox.NamedNode) -> ox.Triple:
    """The triple with THIS_ENTRY replaced by the entry's IRI."""
    subject = entry if triple.subject == THIS_ENTRY else triple.subject
    value = entry if triple.object == THIS_ENTRY else triple.object
    return (
        ox.Triple(subject, triple.predicate, value) if (subject, value) != (triple.subject, triple.object) else triple
    )


def _stamp(moment: dt.datetime) -> str:
    """An xsd:dateTime to the microsecond, in UTC."""
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
