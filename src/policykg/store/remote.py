"""The remote backend: any SPARQL 1.1 engine reached over HTTP (Query, Update, Graph Store protocols)."""

import json
from collections.abc import Iterable, Mapping
from typing import TypedDict, Unpack

import httpx
import pyoxigraph as ox

from policykg.errors import GraphNotFound, PolicyKGError, QueryError, QueryTimeout, StoreError
from policykg.rdf.mediatypes import GRAPH_MEDIA, RESULT_MEDIA
from policykg.sparql.syntax import tokens
from policykg.store.base import (
    NO_DATASET,
    Dataset,
    Limits,
    Options,
    QueryOptions,
    ReadOptions,
    Sink,
    Solutions,
    Store,
    Term,
)
from policykg.store.formats import DATASET_FORMATS

_INSERT_BATCH = 10_000


class Connection(TypedDict, total=False):
    """How to reach a remote engine besides its query URL, each optional: the update and Graph Store URLs (default:
    the query URL, and none), whether its default graph is the union of its graphs (default: yes), the seconds a
    request may take (300), and (user, password) for writes."""

    update_url: str | None
    store_url: str | None
    union_default_graph: bool
    timeout: float
    credentials: tuple[str, str] | None


class RemoteStore(Store):
    """A store kept by another SPARQL 1.1 engine (oxigraph serve, Virtuoso, Fuseki, GraphDB, QLever …)."""

    def __init__(self, query_url: str, **connection: Unpack[Connection]) -> None:
        update_url, store_url = connection.get("update_url"), connection.get("store_url")
        union_default_graph = connection.get("union_default_graph", True)
        timeout, credentials = connection.get("timeout", 300.0), connection.get("credentials")
        self.query_url = query_url
        self.update_url = update_url or query_url
        self.store_url = store_url
        self._union = union_default_graph
        self._engine_unions: bool | None = None  # learnt from the data: see _default_is_the_union
        auth = None if credentials is None else self._authentication(*credentials)
        self._client = httpx.Client(timeout=timeout, follow_redirects=False, auth=auth)

    def query(self, sparql: str, *, sink: Sink, format_name: str, **options: Unpack[QueryOptions]) -> None:
        """Send a query and stream the engine's answer to sink, within the limits."""
        given = Options.of(options, options.get("limits"))
        limits = given.limits
        media = RESULT_MEDIA.get(format_name) or GRAPH_MEDIA[format_name]
        # Ask for the graph or results syntax; the engine says which kind its answer is.
        accept = f"{media}, {GRAPH_MEDIA['ntriples'] if media in RESULT_MEDIA.values() else RESULT_MEDIA['json']};q=0.1"
        data = self._query_form(sparql, given.base_iri, given.dataset, given.prefixes)
        try:
            with self._client.stream(
                "POST", self.query_url, data=data, headers={"Accept": accept}, timeout=_timeout(limits)
            ) as response:
                self._raise_for(response)
                for chunk in response.iter_bytes():
                    limits.check(len(chunk))
                    sink(chunk)
        except httpx.TimeoutException:
            raise QueryTimeout(f"the query ran longer than the limit of {limits.timeout:g} s and was stopped") from None
        except httpx.HTTPError as error:
            raise StoreError(f"the store at {self.query_url} did not answer: {error}") from None

    def select(
        self, sparql: str, *, bindings: dict[str, Term] | None = None, **options: Unpack[ReadOptions]
    ) -> Solutions:
        """Run a SELECT query and return all its rows, read from the SPARQL JSON results."""
        given = Options.of(options)
        document = self._json(bound(sparql, bindings), given.base_iri, given.prefixes, dataset=given.dataset)
        if "results" not in document:
            raise QueryError("this is not a SELECT query")
        names = tuple(document["head"]["vars"])
        rows = tuple(tuple(_term(b.get(n)) for n in names) for b in document["results"]["bindings"])
        return Solutions(names, rows)

    def ask(self, sparql: str, **options: Unpack[ReadOptions]) -> bool:
        """Run an ASK query and return its answer."""
        given = Options.of(options)
        document = self._json(sparql, given.base_iri, given.prefixes, dataset=given.dataset)
        if "boolean" not in document:
            raise QueryError("this is not an ASK query")
        return bool(document["boolean"])

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        """Send a SPARQL 1.1 Update request; the engine applies it atomically or reports an error."""
        text = f"BASE <{base_iri}>\n{sparql}" if base_iri else sparql
        self._send("POST", self.update_url, data={"update": text})

    def add(self, quads: Iterable[ox.Quad], graph: str) -> None:
        """Add quads; triples of the default graph go into the named graph given."""
        target = ox.NamedNode(graph)
        placed = [
            q if not isinstance(q.graph_name, ox.DefaultGraph) else ox.Quad(q.subject, q.predicate, q.object, target)
            for q in quads
        ]
        if self.store_url:
            body = ox.serialize(placed, format=ox.RdfFormat.N_QUADS)
            self._send("POST", self.store_url, content=body, headers={"Content-Type": "application/n-quads"})
            return
        for start in range(0, len(placed), _INSERT_BATCH):
            batch = placed[start : start + _INSERT_BATCH]
            self.update(
                "INSERT DATA { "
                + " ".join(f"GRAPH {q.graph_name} {{ {q.subject} {q.predicate} {q.object} }}" for q in batch)
                + " }"
            )

    def graph_names(self) -> list[str]:
        """The names of the store's non-empty named graphs, sorted."""
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }").values()
        return sorted(row[0] for row in rows if row[0])

    def write_graph(self, graph: str | None, format_name: str, sink: Sink) -> None:
        """Write one graph in a graph syntax, read with a CONSTRUCT; raise GraphNotFound if it is empty."""
        if graph is not None and not self.ask(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"):
            raise GraphNotFound(f"there is no graph <{graph}> in the store")
        where = self._own_default() if graph is None else f"{{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
        self._construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {where}", format_name, sink, union=False)

    def replace_graph(self, graph: str | None, triples: list[ox.Triple]) -> bool:
        """Replace a graph's content in one update request; return True if the graph existed before."""
        existed = graph is None or self.ask(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        target = "DEFAULT" if graph is None else f"GRAPH <{graph}>"
        parts = [f"DROP SILENT {target}"]
        if triples:
            parts.append(_insert_data(graph, triples))
        self.update(" ;\n".join(parts))
        return existed

    def extend_graph(self, graph: str | None, triples: list[ox.Triple]) -> bool:
        """Add triples to a graph in one update request; return True if the graph existed before."""
        existed = graph is None or self.ask(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        if triples:
            self.update(_insert_data(graph, triples))
        return existed

    def delete_graph(self, graph: str | None) -> None:
        """Remove a graph; raise GraphNotFound if there is none."""
        if graph is None:
            self.update("DROP SILENT DEFAULT")
            return
        if not self.ask(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"):
            raise GraphNotFound(f"there is no graph <{graph}> in the store")
        self.update(f"DROP GRAPH <{graph}>")

    def dump(self, format_name: str, sink: Sink) -> None:
        """Write the whole dataset as N-Quads or TriG (through the engine's Graph Store endpoint)."""
        if format_name not in DATASET_FORMATS:
            raise ValueError(format_name)
        if not self.store_url:
            raise StoreError("dumping a remote store needs its Graph Store Protocol endpoint (remote_store_url)")
        try:
            with self._client.stream("GET", self.store_url, headers={"Accept": GRAPH_MEDIA[format_name]}) as response:
                self._raise_for(response)
                for chunk in response.iter_bytes():
                    sink(chunk)
        except httpx.HTTPError as error:
            raise StoreError(f"the store at {self.store_url} did not answer: {error}") from None

    def count(self) -> int:
        """The number of quads in named graphs plus triples in the default graph (of its own, if it has one)."""
        named = self.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }").values()[0][0]
        default = self._json(f"SELECT (COUNT(*) AS ?n) WHERE {self._own_default()}", None, None, union=False)
        return int(named or 0) + int(default["results"]["bindings"][0]["n"]["value"])

    def _own_default(self) -> str:
        """A graph pattern for the triples of the default graph itself, not those it shows of named graphs."""
        if self._default_is_the_union():
            return "{ ?s ?p ?o FILTER NOT EXISTS { GRAPH ?g { ?s ?p ?o } } }"
        return "{ ?s ?p ?o }"

    def _default_is_the_union(self) -> bool:
        """Whether the engine answers for the default graph with every named graph, whatever a request asks.

        An engine set up that way (`oxigraph serve --union-default-graph`, Fuseki's unionDefaultGraph) has
        no default graph of its own to query. Told by one stored triple: if the default graph holds it too,
        it is the union (or that triple is stated twice, which policykg never does: it writes named graphs only).
        """
        if self._engine_unions is None:
            found = self._json(
                "SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } FILTER(isIRI(?s) && !isBlank(?o)) } LIMIT 1",
                None,
                None,
                union=False,
            )["results"]["bindings"]
            if not found:
                return False  # nothing to tell by yet: ask again next time
            s, p, o = (str(_term(found[0][name])) for name in ("s", "p", "o"))
            self._engine_unions = bool(self._json(f"ASK {{ {s} {p} {o} }}", None, None, union=False)["boolean"])
        return self._engine_unions

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def _query_form(
        self,
        sparql: str,
        base_iri: str | None,
        dataset: Dataset,
        prefixes: dict[str, str] | None,
        union: bool | None = None,
    ) -> dict[str, object]:
        declarations = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in (prefixes or {}).items())
        base = f"BASE <{base_iri}>\n" if base_iri else ""
        form: dict[str, object] = {"query": base + declarations + sparql}
        if dataset.default_graphs:
            form["default-graph-uri"] = list(dataset.default_graphs)
        if dataset.named_graphs:
            form["named-graph-uri"] = list(dataset.named_graphs)
        if (self._union if union is None else union) and not dataset.default_graphs and not dataset.named_graphs:
            # Understood by oxigraph serve; other engines ignore it and use their own configuration.
            form["union-default-graph"] = ""
        return form

    def _json(
        self,
        sparql: str,
        base_iri: str | None,
        prefixes: dict[str, str] | None,
        union: bool | None = None,
        dataset: Dataset = NO_DATASET,
    ) -> dict:
        response = self._send(
            "POST",
            self.query_url,
            data=self._query_form(sparql, base_iri, dataset, prefixes, union),
            headers={"Accept": RESULT_MEDIA["json"]},
        )
        try:
            return json.loads(response.content)
        except ValueError:
            raise StoreError(
                f"the store at {self.query_url} answered something that is not SPARQL JSON, ending with "
                f"{_ending(response.content)!r} (an engine that reaches its own time limit cuts its answer short)"
            ) from None

    def _construct(self, sparql: str, format_name: str, sink: Sink, union: bool) -> None:
        response = self._send(
            "POST",
            self.query_url,
            data=self._query_form(sparql, None, NO_DATASET, None, union),
            headers={"Accept": GRAPH_MEDIA[format_name]},
        )
        sink(response.content)

    @staticmethod
    def _authentication(user: str, password: str) -> httpx.Auth:
        """How the engine is told who writes: HTTP Basic (Fuseki, GraphDB and most others)."""
        return httpx.BasicAuth(user, password)

    def _send(
        self,
        method: str,
        url: str,
        *,
        data: Mapping[str, object] | None = None,
        content: bytes | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        try:
            response = self._client.request(method, url, data=data, content=content, params=params, headers=headers)
        except httpx.HTTPError as error:
            raise StoreError(f"the store at {url} did not answer: {error}") from None
        self._raise_for(response)
        return response

    def _raise_for(self, response: httpx.Response) -> None:
        if response.status_code >= 400:
            raise self._error(response.status_code, response.read().decode("utf-8", "replace").strip())

    @staticmethod
    def _error(status: int, text: str) -> PolicyKGError:
        """The error an engine's refusal stands for."""
        if status == 400:
            return QueryError(text or "the store refused the request")
        if status in (401, 403):
            return StoreError(f"the store refused the credentials ({status}): set POLICYKG_REMOTE_CREDENTIALS")
        return StoreError(f"the store answered {status}: {text[:500]}")


def _ending(content: bytes, length: int = 120) -> str:
    """The last characters of an answer, printable, to say what an engine sent instead of what was asked."""
    text = content[-length * 4 :].decode("utf-8", "replace")
    return "".join(c if c.isprintable() else " " for c in text)[-length:].strip()


def _timeout(limits: Limits) -> httpx.Timeout:
    remaining = limits.remaining()
    return httpx.Timeout(None if remaining is None else max(remaining, 0.001))


def bound(sparql: str, bindings: dict[str, Term] | None) -> str:
    """The query with variables fixed by a VALUES block at the start of its WHERE clause, for any engine."""
    if not bindings:
        return sparql
    where = next((t for t in tokens(sparql) if t.kind == "punct" and t.text == "{"), None)
    if where is None:
        raise QueryError("the query has no WHERE clause to bind variables in")
    names = " ".join(f"?{name}" for name in bindings)
    values = " ".join(str(term) for term in bindings.values())
    return f"{sparql[: where.end]} VALUES ({names}) {{ ({values}) }} {sparql[where.end :]}"


def _insert_data(graph: str | None, triples: list[ox.Triple]) -> str:
    data = " .\n".join(f"{t.subject} {t.predicate} {t.object}" for t in triples)
    return f"INSERT DATA {{ {data} }}" if graph is None else f"INSERT DATA {{ GRAPH <{graph}> {{ {data} }} }}"


def _term(binding: dict | None) -> Term | None:
    if binding is None:
        return None
    kind, value = binding["type"], binding["value"]
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return ox.BlankNode(value)
    if "xml:lang" in binding:
        return ox.Literal(value, language=binding["xml:lang"])
    if "datatype" in binding:
        return ox.Literal(value, datatype=ox.NamedNode(binding["datatype"]))
    return ox.Literal(value)
