"""The remote backend's Virtuoso dialect: what OpenLink Virtuoso 7 does unlike other SPARQL 1.1 engines.

Each difference was seen on Virtuoso 7.2.5 (Debian's virtuoso-opensource) and is handled here, so that
nothing above the store knows which engine it talks to:

- Answers: its JSON results use SPARQL 1.0's `typed-literal` and write true as 1, it answers HTML to no
  Accept and 406 to an Accept that offers both results and triples, it labels blank nodes
  `nodeID://b…`, and it holds a direct `application/sparql-query` POST open. So queries go as forms,
  asking for SPARQL XML results or N-Triples by the query's form (virtuosoqueries.py), and Oxigraph writes
  the answer again in the syntax asked for.
- Its own graphs (its schema graph `http://www.openlinksw.com/schemas/virtrdf#`, `http://www.w3.org/ns/ldp#`,
  and its host's `/DAV/` and `/sparql` graphs) would show in every query, count and dump, and a SPARQL
  user could drop them. Its pragmas to leave graphs out (`DEFINE input:default-graph-exclude`, `…named-
  graph-exclude`) break every `GRAPH <iri>` pattern (no rows, COUNT 1, ASK true), so they are hidden by
  Virtuoso's own graph-level security instead: setup_sql() makes them private, readable and writable
  by no SPARQL user, and the store refuses to open while Virtuoso's schema graph is visible. CLEAR/DROP
  ALL and NAMED drop the graphs policykg sees, one by one.
- It keeps no default graph apart: a query's default graph is the union of all graphs. The store's own
  default graph is therefore empty (policykg keeps none), writing into it is refused, and the union cannot
  be turned off: with a protocol dataset (default-graph-uri, named-graph-uri) Virtuoso reads `GRAPH <iri>`
  patterns its own way (no rows, and COUNT 1, for a graph outside it), so none is declared unless asked.
- The operations of one update request are committed one by one (a DROP that fails leaves the INSERT
  before it written), so policykg's writes go as one operation: a change that deletes and inserts as
  one DELETE … INSERT … WHERE {} (up to TEMPLATE quads: virtuosoupdates.py), an entry as one INSERT DATA.
  DROP GRAPH fails on a graph Virtuoso did not see created: it is checked first and sent as DROP SILENT.
- Limits of its compiler: INSERT DATA takes no blank node (graphs with blank nodes go through the Graph
  Store endpoint), a DATA block of more than about 1,000 triples needs `sql:big-data-const` and one
  GRAPH block of more than about 5,000 overflows the parser.
- Time: its [SPARQL] MaxQueryExecutionTime ends a query with an error, its cost estimate refuses one
  before it runs, and the `timeout` parameter makes it stop at the client's deadline with partial
  results (X-SQL-State S1TAT); all three are a timeout here. An answer cut at ResultSetMaxRows
  (X-SPARQL-MaxRows) is refused rather than passed on incomplete.
"""

import io
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Unpack

import httpx
import pyoxigraph as ox

from policykg.errors import (
    ConfigError,
    GraphNotFound,
    PolicyKGError,
    QueryError,
    QueryTimeout,
    ReadOnlyGraph,
    StoreError,
)
from policykg.sparql.syntax import Token, query_form
from policykg.store import base
from policykg.store import virtuosoupdates as updates
from policykg.store.base import CHUNK_BYTES, Limits, Options, Sink, Solutions, Term, limited_writer
from policykg.store.formats import DATASET_FORMATS, GRAPH_FORMATS, RESULT_FORMATS
from policykg.store.remote import Connection, RemoteStore, bound
from policykg.store.virtuosoqueries import RESULTS, TRIPLES, Answer, check_whole, raise_syntax_error, request_form

SCHEMA_GRAPH = "http://www.openlinksw.com/schemas/virtrdf#"
_PRIVATE_GRAPHS = "http://www.openlinksw.com/schemas/virtrdf#PrivateGraphs"  # Virtuoso's group of private graphs
_DROPS = 200  # DROP operations per request when a whole dataset is emptied


def setup_sql(user: str, password: str, host: str = "localhost:8890") -> str:
    """The SQL that readies a new Virtuoso database for policykg (run it as dba: `isql-vt 1111 dba PASSWORD FILE`).

    It creates the account policykg writes with (Virtuoso's SPARQL_UPDATE role, on /sparql-auth and
    /sparql-graph-crud-auth: the anonymous /sparql stays read-only), and makes the graphs a new database
    holds, Virtuoso's own, private: no SPARQL user reads or writes them, and every other graph is read by
    all and written by that account. host is the [URIQA] DefaultHost of virtuoso.ini.
    """
    own = (SCHEMA_GRAPH, "http://www.w3.org/ns/ldp#", f"http://{host}/sparql", f"http://{host}/DAV/")
    quoted = {"user": user.replace("'", "''"), "password": password.replace("'", "''")}
    return "\n".join(
        [
            f"DB.DBA.USER_CREATE ('{quoted['user']}', '{quoted['password']}');",
            f'GRANT SPARQL_UPDATE TO "{user}";',
            f"DB.DBA.RDF_GRAPH_GROUP_CREATE ('{_PRIVATE_GRAPHS}', 1);",
            *(f"DB.DBA.RDF_GRAPH_GROUP_INS ('{_PRIVATE_GRAPHS}', '{graph}');" for graph in own),
            "DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 0, 1);",  # private graphs: nothing for anonymous queries
            "DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 1, 0);",  # the others: read
            f"DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('{quoted['user']}', 0, 1);",
            f"DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('{quoted['user']}', 3, 0);",  # the others: read and write
            "",
        ]
    )


class VirtuosoStore(RemoteStore):
    """A store kept by OpenLink Virtuoso 7: queries on /sparql, writes on /sparql-auth and
    /sparql-graph-crud-auth with HTTP Digest credentials (see the module's description)."""

    def __init__(self, query_url: str, **connection: Unpack[Connection]) -> None:
        super().__init__(query_url, **connection)
        if not self._union:
            self.close()
            raise ConfigError(
                "Virtuoso's queries always see the union of all graphs as their default graph: it "
                "cannot serve with union_default_graph off (an empty one declared breaks GRAPH <iri>)"
            )
        if self.ask(f"ASK {{ GRAPH <{SCHEMA_GRAPH}> {{ ?s ?p ?o }} }}"):
            self.close()
            raise StoreError(
                f"Virtuoso at {query_url} shows its own graphs to queries: make them private first "
                "(see policykg.store.virtuoso.setup_sql)"
            )

    # Reading

    def query(self, sparql: str, *, sink: Sink, format_name: str, **options: Unpack[base.QueryOptions]) -> None:
        """Run a query and write its answer in the named syntax to sink, within the limits."""
        given = Options.of(options, options.get("limits"))
        writer = limited_writer(sink, given.limits)
        with self._answer(sparql, given, given.limits) as (triples, source):
            if triples != (format_name in GRAPH_FORMATS):
                raise QueryError(f"a {query_form(sparql)} answer cannot be written as {format_name}")
            if triples:
                ox.serialize(ox.parse(source, ox.RdfFormat.N_TRIPLES), writer, GRAPH_FORMATS[format_name])
            else:
                ox.parse_query_results(source, ox.QueryResultsFormat.XML).serialize(writer, RESULT_FORMATS[format_name])
            writer.flush()

    def select(
        self, sparql: str, *, bindings: dict[str, Term] | None = None, **options: Unpack[base.ReadOptions]
    ) -> Solutions:
        """Run a SELECT query and return all its rows."""
        with self._answer(bound(sparql, bindings), Options.of(options), None) as (triples, source):
            result = None if triples else ox.parse_query_results(source, ox.QueryResultsFormat.XML)
            if not isinstance(result, ox.QuerySolutions):
                raise QueryError("this is not a SELECT query")
            names = tuple(v.value for v in result.variables)
            return Solutions(names, tuple(tuple(solution[name] for name in names) for solution in result))

    def ask(self, sparql: str, **options: Unpack[base.ReadOptions]) -> bool:
        """Run an ASK query and return its answer."""
        with self._answer(sparql, Options.of(options), None) as (triples, source):
            result = None if triples else ox.parse_query_results(source, ox.QueryResultsFormat.XML)
            if not isinstance(result, ox.QueryBoolean):
                raise QueryError("this is not an ASK query")
            return bool(result)

    def graph_names(self) -> list[str]:
        """The names of the non-empty graphs queries see (Virtuoso's own are private), sorted."""
        # Not the bare SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }: Virtuoso answers that one from its
        # list of graphs, private ones included; with ORDER BY it reads the quads, as their permissions allow.
        query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
        return [str(row[0]) for row in self.select(query).values()]

    def write_graph(self, graph: str | None, format_name: str, sink: Sink) -> None:
        """Write one graph in a graph syntax (the default graph: empty); raise GraphNotFound if it is empty."""
        if graph is None:
            writer = limited_writer(sink, Limits(None, None))
            ox.serialize([], writer, GRAPH_FORMATS[format_name])
            writer.flush()
            return
        self._require(graph)
        self.query(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}", sink=sink, format_name=format_name
        )

    def dump(self, format_name: str, sink: Sink) -> None:
        """Write every quad queries see as N-Quads or TriG, read as one streamed SELECT."""
        writer = limited_writer(sink, Limits(None, None))
        query = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
        with self._answer(query, Options.of({}), None) as (_, source):
            rows = ox.parse_query_results(source, ox.QueryResultsFormat.XML)
            assert isinstance(rows, ox.QuerySolutions)  # a SELECT query
            quads = (ox.Quad(row["s"], row["p"], row["o"], row["g"]) for row in rows)
            ox.serialize(quads, writer, DATASET_FORMATS[format_name])
            writer.flush()

    def count(self) -> int:
        """The number of quads queries see (the default graph of its own is always empty)."""
        return int(self.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }").values()[0][0] or 0)

    # Writing

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        """Run an update request, each of its writes as one operation where Virtuoso allows (see the module)."""
        for text in self._rewritten(sparql, base_iri):
            self._write(text)

    def add(self, quads: Iterable[ox.Quad], graph: str) -> None:
        """Add quads (default-graph triples into graph) in one INSERT DATA request up to 20,000 triples;
        a graph with blank nodes goes on its own through the Graph Store endpoint."""
        target = ox.NamedNode(graph)
        graphs: dict[str, list[ox.Triple]] = {}
        for q in quads:
            into = target if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name
            graphs.setdefault(into.value, []).append(ox.Triple(q.subject, q.predicate, q.object))
        plain = {name: triples for name, triples in graphs.items() if not updates.has_blank_nodes(triples)}
        for name in graphs.keys() - plain.keys():
            self._post_graph("POST", name, graphs[name])
        for text in updates.insert_requests(plain):
            self._write(text)

    def replace_graph(self, graph: str | None, triples: list[ox.Triple]) -> bool:
        """Replace a graph's content (one Graph Store PUT when the endpoint is set); True if it existed."""
        name = updates.named(graph)
        existed = self._exists(name)
        if not triples:
            self._write(f"DROP SILENT GRAPH <{name}>")
        elif self.store_url:
            self._post_graph("PUT", name, triples)
        else:
            self._write(f"DROP SILENT GRAPH <{name}>")
            quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(name)) for t in triples]
            self.add(quads, name)
        return existed

    def extend_graph(self, graph: str | None, triples: list[ox.Triple]) -> bool:
        """Add triples to a graph in one request; return True if the graph existed before."""
        name = updates.named(graph)
        existed = self._exists(name)
        quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(name)) for t in triples]
        self.add(quads, name)
        return existed

    def delete_graph(self, graph: str | None) -> None:
        """Remove a graph (the default graph is always empty); raise GraphNotFound if there is none."""
        if graph is None:
            return
        self._require(graph)
        self._write(f"DROP SILENT GRAPH <{graph}>")

    # Requests

    @staticmethod
    def _authentication(user: str, password: str) -> httpx.Auth:
        """Virtuoso's -auth endpoints ask for HTTP Digest."""
        return httpx.DigestAuth(user, password)

    @staticmethod
    def _error(status: int, text: str) -> PolicyKGError:
        """The error a Virtuoso refusal stands for; its message without the query it echoes."""
        message = text.split("\n\nSPARQL query:", 1)[0].strip()[:500]
        if re.search(r"\bSR171\b|\bS1T00\b|estimated execution time", message):
            return QueryTimeout(f"Virtuoso stopped the query at its time limit: {message}")
        if re.search(r"\bSR619\b", message):
            return ReadOnlyGraph(f"Virtuoso refused the write, the graph is not policykg's: {message}")
        return RemoteStore._error(status, message)

    @contextmanager
    def _answer(self, sparql: str, options: Options, limits: Limits | None) -> Iterator[tuple[bool, io.BufferedReader]]:
        """Send a query; yield whether its answer is triples, and the answer as a file Oxigraph can read."""
        base_iri, prefixes = options.base_iri, options.prefixes
        triples = query_form(sparql) in ("CONSTRUCT", "DESCRIBE")
        remaining = None if limits is None else limits.remaining()
        timeout = httpx.USE_CLIENT_DEFAULT if remaining is None else httpx.Timeout(max(remaining, 0.001))
        form = request_form(sparql, base_iri, prefixes, options.dataset, limits)
        accept = {"Accept": TRIPLES if triples else RESULTS}
        try:
            with self._client.stream("POST", self.query_url, data=form, headers=accept, timeout=timeout) as response:
                if response.status_code == 400:
                    raise_syntax_error(sparql, base_iri, prefixes)
                self._raise_for(response)
                check_whole(response, limits)
                yield triples, io.BufferedReader(Answer(response.iter_bytes()), CHUNK_BYTES)
        except httpx.TimeoutException:
            seconds = "" if limits is None or limits.timeout is None else f" of {limits.timeout:g} s"
            raise QueryTimeout(f"the query ran longer than the limit{seconds} and was stopped") from None
        except httpx.HTTPError as error:
            raise StoreError(f"the store at {self.query_url} did not answer: {error}") from None
        except SyntaxError as error:
            raise StoreError(f"Virtuoso's answer could not be read: {str(error).splitlines()[0]}") from None

    def _write(self, text: str) -> None:
        self._send("POST", self.update_url, data={"update": text}, headers={"Accept": RESULTS})

    def _post_graph(self, method: str, graph: str, triples: list[ox.Triple]) -> None:
        """Send one graph's triples in one request: Graph Store PUT or POST, else an INSERT of blank nodes."""
        if self.store_url:
            self._send(
                method,
                self.store_url,
                params={"graph": graph},
                headers={"Content-Type": TRIPLES},
                content=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES),
            )
        elif len(triples) <= updates.TEMPLATE:
            self._write(f"INSERT {{ GRAPH <{graph}> {{ {updates.triples_text(triples)} }} }} WHERE {{}}")
        else:
            raise StoreError(
                f"Virtuoso takes more than {updates.TEMPLATE} triples with blank nodes only through its "
                "Graph Store endpoint: set POLICYKG_REMOTE_STORE_URL (…/sparql-graph-crud-auth)"
            )

    def _exists(self, graph: str) -> bool:
        return self.ask(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")

    def _require(self, graph: str) -> None:
        if not self._exists(graph):
            raise GraphNotFound(f"there is no graph <{graph}> in the store")

    def _rewritten(self, sparql: str, base_iri: str | None) -> list[str]:
        """An update request as the requests Virtuoso should get, in order (see the module's description)."""
        source, base, declarations, operations = updates.split(sparql)
        prologue = updates.prologue(base or (f"<{base_iri}>" if base_iri else None), declarations)
        kinds = [updates.kind(op) for op in operations]
        # Only DATA operations, every DELETE DATA before every INSERT DATA ("DELETE" sorts first): one change.
        if kinds and set(kinds) <= {"DELETE DATA", "INSERT DATA"} and kinds == sorted(kinds):
            deletes = [
                updates.block(source, op) for kind, op in zip(kinds, operations, strict=True) if kind == "DELETE DATA"
            ]
            inserts = [
                updates.block(source, op) for kind, op in zip(kinds, operations, strict=True) if kind == "INSERT DATA"
            ]
            return [updates.data_request(prologue, deletes, inserts)]
        texts: list[str] = []
        for kind, op in zip(kinds, operations, strict=True):
            texts += self._operation(kind, op, source, prologue)
        return texts

    def _operation(self, kind: str, op: list[Token], source: str, prologue: str) -> list[str]:
        text = source[op[0].start : op[-1].end]
        if kind in ("DELETE DATA", "INSERT DATA"):
            return [updates.BIG_DATA + prologue + text]
        if kind in ("CLEAR", "DROP"):
            rest = [t for t in op[1:] if t.keyword != "SILENT"]
            if rest and rest[0].keyword in ("DEFAULT", "NAMED", "ALL"):
                # The default graph of its own is always empty; NAMED and ALL are the graphs policykg sees.
                names = [] if rest[0].keyword == "DEFAULT" else self.graph_names()
                return [
                    " ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in names[i : i + _DROPS])
                    for i in range(0, len(names), _DROPS)
                ]
            graph = rest[1].text[1:-1] if len(rest) > 1 and rest[1].kind == "iri" else None
            if graph is None:
                raise QueryError(f"{kind} takes GRAPH <iri>, DEFAULT, NAMED or ALL")
            if len(rest) == len(op) - 1 and not self._exists(graph):
                raise QueryError(f"{kind} GRAPH <{graph}>: there is no such graph (add SILENT to ignore that)")
            return [f"DROP SILENT GRAPH <{graph}>"]
        return [prologue + text]
