"""The SPARQL 1.1 Graph Store HTTP Protocol at /store: read, replace, add to and delete graphs."""

import uuid
from collections.abc import Callable

import pyoxigraph as ox
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from policykg.errors import GraphNotFound, NotAcceptable, ProtocolError, UnsupportedMediaType
from policykg.model.files import data_graph_iri
from policykg.rdf.input import parse_bytes
from policykg.rdf.mediatypes import DATASET_TYPES, GRAPH_TYPES, RDF_INPUT_TYPES, base_type, negotiate
from policykg.sparql.protocol import check_iri
from policykg.store.streaming import stream
from policykg.web import apidoc
from policykg.web.answers import answer_response
from policykg.web.context import ServiceContext, context, read_body, require_writer, run

router = APIRouter(tags=["Graph Store"], default_response_class=Response)  # no JSON default in the API description
_GRAPH_DOC = "IRI of the graph to act on"
_DEFAULT_DOC = "act on the default graph (present, without a value)"


def _graph_parameters(
    graph: str | None = Query(None, description=_GRAPH_DOC), default: str | None = Query(None, description=_DEFAULT_DOC)
) -> None:
    """The parameters naming a graph, for the API description: the routes read them from the request itself."""


_NAMES_A_GRAPH = [Depends(_graph_parameters)]
_TRIPLES_TYPES = [m for m, name in RDF_INPUT_TYPES.items() if name not in ("nquads", "trig")]
_EXAMPLE = '<http://localhost:8000/id/thing/a> <http://www.w3.org/2000/01/rdf-schema#label> "a" .'
_WRITTEN = {
    **apidoc.empty(201, "The graph is new (POST without a graph: its address in Location)"),
    **apidoc.empty(204, "The graph existed, or quads were added to the dataset"),
    **apidoc.problems(400, 401, 403, 413, 415, 422, 502),
}


_READ = {
    **apidoc.answers(200, "The graph, or the whole dataset", dict.fromkeys([*GRAPH_TYPES, *DATASET_TYPES])),
    **apidoc.problems(400, 404, 406, 502),
}


_READS = "Read a graph (?graph= or ?default), or the whole dataset as N-Quads or TriG"


@router.get("/store", summary=_READS, responses=_READ, dependencies=_NAMES_A_GRAPH)
async def read(request: Request) -> Response:
    """Send one graph in the negotiated syntax, or every graph when neither parameter is given."""
    ctx, target, media_type = _reading(request)
    if target is _WHOLE:
        answer = await stream(ctx.dump_executor, lambda sink: ctx.store.dump(DATASET_TYPES[media_type], sink), None)
    else:
        name = None if target is _DEFAULT else str(target)
        answer = await stream(
            ctx.executor, lambda sink: ctx.store.write_graph(name, GRAPH_TYPES[media_type], sink), None
        )
    return answer_response(answer, media_type, {"Vary": "Accept"})


@router.head("/store", include_in_schema=False)
async def head(request: Request) -> Response:
    """HEAD: the status and headers a GET would send, without reading the graph."""
    ctx, target, media_type = _reading(request)
    if target is not _WHOLE and target is not _DEFAULT:
        exists = await run(ctx.executor, lambda: ctx.store.ask(f"ASK {{ GRAPH <{target}> {{ ?s ?p ?o }} }}"))
        if not exists:
            raise GraphNotFound(f"there is no graph <{target}> in the store")
    return Response(status_code=200, headers={"Content-Type": media_type, "Vary": "Accept"})


_WRITES = [*apidoc.NEEDS_TOKEN, *_NAMES_A_GRAPH]
_REPLACE = "Replace a graph's content (needs the update token)"
_ADD = "Add triples to a graph, or quads to the dataset (needs the update token)"
_REPLACED = apidoc.rdf_body("the graph's new triples", _TRIPLES_TYPES, _EXAMPLE)
_ADDED = apidoc.rdf_body(
    "triples for the graph; without ?graph or ?default, quads for the dataset, or triples for a new graph",
    example=_EXAMPLE,
)


@router.put(
    "/store", status_code=201, summary=_REPLACE, responses=_WRITTEN, dependencies=_WRITES, openapi_extra=_REPLACED
)
async def replace(request: Request) -> Response:
    """Replace the graph with the triples of the body: 201 if it is new, 204 if it existed."""
    return await _graph_written(request, lambda ctx, name, triples: ctx.writer.replace_graph(name, triples))


@router.post("/store", status_code=201, summary=_ADD, responses=_WRITTEN, dependencies=_WRITES, openapi_extra=_ADDED)
async def add(request: Request) -> Response:
    """Add the body to the graph; without a graph parameter, add quads or create a new graph."""
    ctx, target = _authorised(request)
    if target is _WHOLE:
        format_name = _input_format(request)
        body = await read_body(request, ctx.settings.max_body_bytes)
        quads = await run(
            ctx.executor,
            lambda: parse_bytes(body, format_name, ctx.settings.base_iri, service_base=ctx.settings.base_iri),
        )
        if format_name in ("nquads", "trig"):
            await run(ctx.write_executor, lambda: ctx.writer.add_quads(quads, data_graph_iri(ctx.settings)))
            return Response(status_code=204)
        created = f"{ctx.settings.base_iri}graph/{uuid.uuid4()}"
        await run(ctx.write_executor, lambda: ctx.writer.replace_graph(created, _triples(quads)))
        return Response(status_code=201, headers={"Location": f"/store?graph={created}"})
    return await _graph_written(request, lambda ctx, name, triples: ctx.writer.extend_graph(name, triples))


@router.delete(
    "/store",
    status_code=204,
    summary="Delete a graph (needs the update token)",
    dependencies=[*apidoc.NEEDS_TOKEN, *_NAMES_A_GRAPH],
    responses={**apidoc.empty(204, "The graph was deleted"), **apidoc.problems(400, 401, 403, 404, 422, 502)},
)
async def delete(request: Request) -> Response:
    """Delete the graph: 204, or 404 if there is none."""
    ctx, target = _authorised(request)
    if target is _WHOLE:
        raise ProtocolError("name the graph to delete with ?graph=IRI or ?default")
    name = None if target is _DEFAULT else str(target)
    await run(ctx.write_executor, lambda: ctx.writer.delete_graph(name))
    return Response(status_code=204)


class _Marker:
    pass


_WHOLE, _DEFAULT = _Marker(), _Marker()


def _reading(request: Request) -> tuple[ServiceContext, object, str]:
    """A read's context, the graph it names (or _WHOLE, _DEFAULT) and the media type it negotiated for it."""
    target = _target(request)
    offers = DATASET_TYPES if target is _WHOLE else GRAPH_TYPES
    return context(request), target, _negotiate(request.headers.get("accept"), offers)


def _target(request: Request) -> object:
    params = request.query_params
    graphs = params.getlist("graph")
    if "default" in params and graphs:
        raise ProtocolError("give either ?graph=IRI or ?default, not both")
    if len(graphs) > 1:
        raise ProtocolError("the graph parameter may be given once")
    if "default" in params:
        return _DEFAULT
    if not graphs:
        return _WHOLE
    return check_iri(graphs[0], "graph")


def _authorised(request: Request) -> tuple[ServiceContext, object]:
    """The context and the graph a write names, once the operator's token is checked."""
    ctx = context(request)
    require_writer(request, ctx.settings)
    return ctx, _target(request)


GraphWrite = Callable[[ServiceContext, str | None, list[ox.Triple]], bool]


async def _graph_written(request: Request, write: GraphWrite) -> Response:
    """Write the body's triples to the graph the request names: 201 if the graph is new, 204 if it existed."""
    ctx, name, triples = await _write_request(request)
    existed = await run(ctx.write_executor, lambda: write(ctx, name, triples))
    return Response(status_code=204 if existed else 201)


async def _write_request(request: Request) -> tuple[ServiceContext, str | None, list[ox.Triple]]:
    ctx, target = _authorised(request)
    if target is _WHOLE:
        raise ProtocolError("name the graph with ?graph=IRI or ?default")
    format_name = _input_format(request)
    if format_name in ("nquads", "trig"):
        raise UnsupportedMediaType("a single graph takes a triples syntax (Turtle, N-Triples, JSON-LD, RDF/XML)")
    body = await read_body(request, ctx.settings.max_body_bytes)
    name = None if target is _DEFAULT else str(target)
    quads = await run(
        ctx.executor,
        lambda: parse_bytes(body, format_name, name or ctx.settings.base_iri, service_base=ctx.settings.base_iri),
    )
    if any(not isinstance(q.graph_name, ox.DefaultGraph) for q in quads):
        raise ProtocolError("the body names graphs of its own; a write to one graph takes triples only")
    return ctx, name, _triples(quads)


def _input_format(request: Request) -> str:
    media = base_type(request.headers.get("content-type"))
    if media not in RDF_INPUT_TYPES:
        raise UnsupportedMediaType(f"send RDF as one of: {', '.join(RDF_INPUT_TYPES)} (not {media or 'nothing'})")
    return RDF_INPUT_TYPES[media]


def _negotiate(accept: str | None, table: dict[str, str]) -> str:
    chosen = negotiate(accept, list(table))
    if chosen is None:
        raise NotAcceptable(f"none of the accepted types ({accept}) fits; available: {', '.join(table)}")
    return chosen


def _triples(quads: list[ox.Quad]) -> list[ox.Triple]:
    return [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
