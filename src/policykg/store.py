"""The quad store: Oxigraph's engine behind a small interface; the only module that talks to it."""

from collections.abc import Iterable
from dataclasses import dataclass
from io import BytesIO

import pyoxigraph as ox

from policykg.errors import QueryError
from policykg.namespaces import PREFIXES

# Output syntaxes by name: query results (SELECT/ASK) and graphs (CONSTRUCT/DESCRIBE).
RESULT_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
GRAPH_FORMATS: dict[str, ox.RdfFormat] = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
}

Term = ox.NamedNode | ox.BlankNode | ox.Literal


@dataclass(frozen=True)
class Solutions:
    """The answer of a SELECT query, read into memory: variable names and rows of terms."""

    variables: tuple[str, ...]
    rows: tuple[tuple[Term | None, ...], ...]

    def values(self) -> list[tuple[str | None, ...]]:
        """Return the rows as plain strings (an IRI's text, a literal's lexical form)."""
        return [tuple(None if term is None else term.value for term in row) for row in self.rows]


class Store:
    """An RDF dataset evaluated by Oxigraph; the default graph of a query is the union of all graphs."""


    def __init__(self, inner: ox.Store) -> None:
        self._inner = inner

    @classmethod
    def in_memory(cls) -> "Store":
        """Open an empty store that lives in memory only."""
        return cls(ox.Store())

    def add(self, quads: Iterable[ox.Quad], graph: str) -> None:
        """Add quads in one transaction; triples of the default graph go into the named graph given."""
        target = ox.NamedNode(graph)
        placed = (
            q if not isinstance(q.graph_name, ox.DefaultGraph) else ox.Quad(q.subject, q.predicate, q.object, target)
            for q in quads
        )
        self._inner.extend(self._with_union(placed))

    @staticmethod
    def _with_union(quads: Iterable[ox.Quad]) -> Iterable[ox.Quad]:
        # The default graph holds the set union of all named graphs, kept up to date on every write.
        # Oxigraph's own union mode yields a triple once per graph that holds it (COUNT would count
        # duplicates); SPARQL defines the default graph as a set, as Fuseki's union graph is.
        for quad in quads:
            yield quad
            yield ox.Quad(quad.subject, quad.predicate, quad.object, ox.DefaultGraph())

    def select(self, sparql: str, base_iri: str, bindings: dict[str, Term] | None = None) -> Solutions:
        """Run a SELECT query and return all its rows."""
        result = self._run(sparql, base_iri, bindings)
        if not isinstance(result, ox.QuerySolutions):
            raise QueryError("this is not a SELECT query")
        names = tuple(v.value for v in result.variables)
        rows = tuple(tuple(solution[name] for name in names) for solution in result)
        return Solutions(names, rows)

    def ask(self, sparql: str, base_iri: str) -> bool:
        """Run an ASK query and return its answer."""
        result = self._run(sparql, base_iri, None)
        if not isinstance(result, ox.QueryBoolean):
            raise QueryError("this is not an ASK query")
        return bool(result)

    def serialize(
        self, sparql: str, base_iri: str, format_name: str, bindings: dict[str, Term] | None = None
    ) -> bytes:
        """Run any query and return its answer in the named syntax (results or graph formats)."""
        # Oxigraph result objects are bound to the thread that made them: run and serialise here.
        result = self._run(sparql, base_iri, bindings)
        output = BytesIO()
        if isinstance(result, ox.QueryTriples):
            if format_name not in GRAPH_FORMATS:
                raise QueryError(f"a graph answer can be written as {', '.join(GRAPH_FORMATS)}, not {format_name}")
            result.serialize(output, GRAPH_FORMATS[format_name])
        else:
            if format_name not in RESULT_FORMATS:
                raise QueryError(f"a results answer can be written as {', '.join(RESULT_FORMATS)}, not {format_name}")
            result.serialize(output, RESULT_FORMATS[format_name])
        return output.getvalue()

    def _run(
        self, sparql: str, base_iri: str, bindings: dict[str, Term] | None
    ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        substitutions = {ox.Variable(name): term for name, term in (bindings or {}).items()}
        try:
            return self._inner.query(
                sparql,
                base_iri=base_iri,
                prefixes=PREFIXES,
                substitutions=substitutions or None,
            )
        except SyntaxError as error:
            raise QueryError(str(error)) from None
