"""The policykg command: thin sub-commands over the library's functions.

Each command imports what it needs when it runs: query worker processes import this module again
when they start, and should not pay for the web framework, pySHACL and rdflib.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import policykg
from policykg.errors import PolicyKGError, QueryError, RdfSyntaxError

if TYPE_CHECKING:
    from policykg.config import Settings
    from policykg.store import Store

EXIT_OK, EXIT_INVALID, EXIT_BAD_INPUT = 0, 1, 2
_SETTING_FLAGS = ("host", "port", "store", "query_workers", "remote_update_url", "remote_store_url", "remote_engine",
                  "remote_credentials", "query_timeout", "max_query_memory_bytes", "max_body_bytes",
                  "max_result_bytes", "update_token", "contributor_tokens", "union_default_graph",
                  "allowed_remote_endpoints")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    from policykg.config import load_settings

    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(base_iri=args.base, **{k: v for k, v in vars(args).items() if k in _SETTING_FLAGS})
        return int(args.handler(args, settings))
    except RdfSyntaxError as error:
        print(f"error: cannot read {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except QueryError as error:
        print(f"error: query: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except PolicyKGError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # The reader of our output went away (e.g. `| head`): not an error of ours.
        sys.stderr.close()
        return EXIT_OK


def run_validate(args: argparse.Namespace, settings: Settings) -> int:
    """Validate RDF files against the shapes and ontology (or with the stored graph); print the report."""
    from policykg.rdf.input import expand_paths, read_files, to_rdflib_graph
    from policykg.validation.shacl import load_model_graph, validate
    from policykg.views import display

    paths = args.files or [settings.data_dir]
    files = expand_paths(paths)
    quads = read_files(files, settings.base_iri, args.input_format)
    data = to_rdflib_graph(quads)
    if args.against_store:
        report = _validate_against_store(quads, settings)
    else:
        shapes = load_model_graph(settings.shapes_dir, settings.base_iri)
        ontology = load_model_graph(settings.ontology_dir, settings.base_iri)
        report = validate(data, shapes, ontology)
    if args.format == "json":
        print(display.report_json(report))
    elif args.format == "turtle":
        print(display.report_turtle(report))
    else:
        print(display.report_text(report, settings.base_iri, len(files), len(data)))
    return EXIT_OK if report.conforms else EXIT_INVALID


def _validate_against_store(quads: list, settings: Settings):  # type: ignore[no-untyped-def]
    """Judge the files as one entry added to the configured store (which must not be in use)."""
    import pyoxigraph as ox

    from policykg.iris import entry_iri
    from policykg.validation.incremental import Change
    from policykg.writing.writer import make_writer

    store = _open_store(settings)
    try:
        graph = ox.NamedNode(entry_iri(settings.base_iri, "offline-check"))
        added = tuple(ox.Quad(q.subject, q.predicate, q.object, graph if isinstance(q.graph_name, ox.DefaultGraph)
                              else q.graph_name) for q in quads)
        return make_writer(settings, store).check(Change(added=added))
    finally:
        store.close()


def run_submit(args: argparse.Namespace, settings: Settings) -> int:
    """Send a file to a running service as an entry; print where it went, or why it was refused."""
    import httpx

    from policykg.rdf.input import FORMATS, format_of
    from policykg.validation.shacl import Result
    from policykg.views import display

    names = {v[0]: k for k, v in FORMATS.items()}
    media = {"turtle": "text/turtle", "trig": "application/trig", "ntriples": "application/n-triples",
             "nquads": "application/n-quads", "jsonld": "application/ld+json", "rdfxml": "application/rdf+xml"}
    format_name = args.input_format or names[format_of(args.file)]
    token = args.token or os.environ.get("POLICYKG_TOKEN", "")
    try:
        response = httpx.post(args.url.rstrip("/") + "/entries", content=args.file.read_bytes(), timeout=120,
                              headers={"Content-Type": media[format_name], "Authorization": f"Bearer {token}"})
    except httpx.HTTPError as error:
        print(f"error: cannot reach {args.url}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    body = response.json()
    if response.status_code in (200, 201):
        print(f"accepted: {body['entry']} ({len(body['results'])} warnings or infos)")
        return EXIT_OK
    if response.status_code == 422 and "results" in body:
        results = tuple(Result(focus=r["focusNode"], path=r["resultPath"], value=r["value"], message=r["message"],
                               severity=r["severity"], shape=r["sourceShape"], component=r["sourceConstraintComponent"])
                        for r in body["results"])
        print(f"refused: {body['detail']}")
        for result in results:
            print()
            print(display.result_block(result, settings.base_iri))
        return EXIT_INVALID
    print(f"refused ({response.status_code}): {body.get('detail', response.text)}", file=sys.stderr)
    return EXIT_INVALID if response.status_code == 422 else EXIT_BAD_INPUT


def run_query(args: argparse.Namespace, settings: Settings) -> int:
    """Run a SPARQL query (or a named competency question) over files in Oxigraph's engine."""
    from policykg.model import questions as competency
    from policykg.rdf.input import parse_term

    if args.question:
        question = competency.get_question(args.question)
        sparql, defaults = question.sparql, question.params
    elif args.sparql:
        sparql, defaults = args.sparql, {}
    else:
        raise QueryError("give a SPARQL query or --question NAME (see `policykg questions`)")
    bindings = {**defaults, **dict(_binding(b) for b in args.bind)}
    store = _store(args.files, settings, args.input_format)
    terms = {name: parse_term(value, settings.base_iri) for name, value in bindings.items()}
    _print_answer(store, sparql, terms, args.format, settings)
    return EXIT_OK


def run_questions(args: argparse.Namespace, settings: Settings) -> int:
    """List the competency questions, or answer every one of them over the seed data."""
    from policykg.model import questions as competency
    from policykg.rdf.input import parse_term
    from policykg.rdf.namespaces import PREFIXES
    from policykg.views import display

    store = _store([], settings, None) if args.run else None
    for question in competency.list_questions():
        print(f"{question.name}\n  {question.title}\n  {question.description}")
        if store is not None:
            terms = {name: parse_term(value, settings.base_iri) for name, value in question.params.items()}
            solutions = store.select(question.sparql, base_iri=settings.base_iri, bindings=terms, prefixes=PREFIXES)
            print(display.table(solutions, settings.base_iri))
        print()
    return EXIT_OK


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Open the configured store (loading the model on first start) and serve it over HTTP."""
    import uvicorn

    from policykg.model.files import initialise, refresh_model
    from policykg.web.app import create_app
    from policykg.web.requestlog import logging_config

    store = _open_store(settings, union_default_graph=settings.union_default_graph,
                        query_workers=settings.query_workers, query_memory=settings.max_query_memory_bytes)
    try:
        if initialise(store, settings):
            print(f"policykg: loaded the ontology, shapes and seed data into {settings.store}", file=sys.stderr)
        elif refresh_model(store, settings):
            print("policykg: the ontology or shapes files changed: their graphs were replaced", file=sys.stderr)
        print(f"policykg: serving {settings.store} at http://{settings.host}:{settings.port}/sparql", file=sys.stderr)
        # Requests are logged by the application (RequestLog), as JSON lines with their ids: not by uvicorn too.
        uvicorn.run(create_app(settings, store), host=settings.host, port=settings.port, access_log=False,
                    log_config=logging_config(settings.log_level), log_level=settings.log_level)
    finally:
        store.close()
    return EXIT_OK


def run_generate(args: argparse.Namespace, settings: Settings) -> int:
    """Write a deterministic synthetic graph that conforms to the shapes, as N-Quads (gzip for .gz)."""
    from policykg.model.loading import progress_bar
    from policykg.model.synthetic import generate

    show = progress_bar(unit="million quads")
    label = f"writing {args.output.name if args.output else 'standard output'}"
    start = time.monotonic()
    if args.output is None:
        written = generate(sys.stdout, args.triples, args.seed, settings.base_iri,
                           lambda done: show(label, done, args.triples))
    else:
        # Level 6 (gzip's own default) compresses about 3× faster than Python's 9, for a 10 % larger file.
        opener = functools.partial(gzip.open, compresslevel=6) if args.output.suffix == ".gz" else open
        with opener(args.output, "wt", encoding="utf-8") as out:  # type: ignore[operator]
            written = generate(out, args.triples, args.seed, settings.base_iri,
                               lambda done: show(label, done, args.triples))
    print(f"generated {written} quads (seed {args.seed}) in {time.monotonic() - start:.1f} s", file=sys.stderr)
    return EXIT_OK


def run_load(args: argparse.Namespace, settings: Settings) -> int:
    """Bulk-load files into the configured store, with a progress bar and a quads/s figure."""
    from policykg.model.files import data_graph_iri, load_model
    from policykg.model.loading import load_files as bulk_load_files
    from policykg.model.loading import progress_bar

    store = _open_store(settings)
    try:
        new = store.is_empty()
        report = bulk_load_files(store, args.files, settings.base_iri, data_graph_iri(settings), args.input_format,
                                 progress_bar(), lambda text: print(f"policykg: {text}", file=sys.stderr))
        if new:
            # A new store gets the model, as `serve` gives an empty one: served later, this store is not
            # empty, so `serve` would never add the ontology, shapes and seed to it (a load cut short before
            # this point is mended by `serve`, which adds the model to any store that lacks it).
            load_model(store, settings)
            print(f"policykg: loaded the ontology, shapes and seed data into {settings.store}", file=sys.stderr)
    finally:
        store.close()
    print(f"loaded {report.quads} quads from {report.files} file{'s' if report.files != 1 else ''} into "
          f"{settings.store} in {report.seconds:.1f} s ({report.rate:,.0f} quads/s)", file=sys.stderr)
    return EXIT_OK


def run_backup(args: argparse.Namespace, settings: Settings) -> int:
    """Back up a running service (--from-url) or the configured store, with progress and a summary."""
    from policykg.model.loading import progress_bar
    from policykg.publish import backup

    progress = progress_bar(unit="million quads") if backup.is_dump_name(args.target) else progress_bar()
    if args.from_url:
        source = args.from_url
        report = backup.backup_service(args.from_url, args.target, progress)
    elif settings.store.startswith(("http://", "https://")):
        source = settings.store
        store = _open_store(settings)
        try:
            report = backup.dump_store(store, args.target, source, progress)
        finally:
            store.close()
    else:
        source = settings.store
        report = backup.backup_folder(Path(settings.store), args.target, progress)
    print(f"backed up {report.quads:,} quads from {source} to {report.target} ({report.kind}, "
          f"{report.size / 1e6:,.1f} MB) in {report.seconds:.1f} s ({report.rate:,.0f} quads/s)", file=sys.stderr)
    return EXIT_OK


def run_restore(args: argparse.Namespace, settings: Settings) -> int:
    """Restore a backup as the configured store folder (new or empty; --replace for a store there)."""
    from policykg.errors import BackupError
    from policykg.model.loading import progress_bar
    from policykg.publish import backup

    if settings.store == "memory" or settings.store.startswith(("http://", "https://")):
        raise BackupError("restore makes an on-disk store: give its folder with --store; into a remote engine, "
                          "load the dump with the engine's own loader")
    report = backup.restore(args.backup, Path(settings.store), replace=args.replace, progress=progress_bar())
    for note in report.notes:
        print(f"policykg: note: {note}", file=sys.stderr)
    print(f"restored {report.quads:,} quads from {args.backup} into {report.destination} in {report.seconds:.1f} s "
          f"({report.rate:,.0f} quads/s)", file=sys.stderr)
    return EXIT_OK


def _open_store(settings: Settings, *, union_default_graph: bool = True, query_workers: int = 0,
                query_memory: int | None = None) -> Store:
    """The configured store; a remote one with its endpoints, dialect and credentials."""
    from policykg.store import open_store

    return open_store(settings.store, update_url=settings.remote_update_url, store_url=settings.remote_store_url,
                      engine=settings.remote_engine, credentials=settings.remote_login,
                      union_default_graph=union_default_graph, query_workers=query_workers, query_memory=query_memory)


def _store(files: list[Path], settings: Settings, input_format: str | None) -> Store:
    from policykg.model.files import load_data_files, load_model
    from policykg.store import EmbeddedStore

    store = EmbeddedStore.in_memory()
    load_model(store, settings, with_data=not files)
    if files:
        load_data_files(store, files, settings, input_format)
    return store


def _print_answer(store: Store, sparql: str, terms: dict, format_name: str, settings: Settings) -> None:
    from policykg.rdf.namespaces import PREFIXES
    from policykg.sparql.syntax import query_form
    from policykg.store import GRAPH_FORMATS, RESULT_FORMATS
    from policykg.views import display

    form = query_form(sparql)
    if format_name == "table":
        if form == "SELECT":
            solutions = store.select(sparql, base_iri=settings.base_iri, bindings=terms, prefixes=PREFIXES)
            print(display.table(solutions, settings.base_iri))
            return
        format_name = "turtle" if form in ("CONSTRUCT", "DESCRIBE") else "json"
    if terms:
        raise QueryError("--bind works with --format table only")
    if (form in ("CONSTRUCT", "DESCRIBE")) != (format_name in GRAPH_FORMATS):
        kinds = GRAPH_FORMATS if form in ("CONSTRUCT", "DESCRIBE") else RESULT_FORMATS
        raise QueryError(f"a {form or 'non-query'} answer can be written as {', '.join(kinds)}, not {format_name}")
    chunks: list[bytes] = []
    store.query(sparql, sink=chunks.append, format_name=format_name, base_iri=settings.base_iri, prefixes=PREFIXES)
    text = b"".join(chunks).decode("utf-8")
    print(text, end="" if text.endswith("\n") else "\n")


def _binding(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise QueryError(f"--bind takes NAME=<IRI> or NAME=\"literal\", not {text!r}")
    return name.lstrip("?$"), value


def _parser() -> argparse.ArgumentParser:
    from policykg.rdf.input import FORMATS
    from policykg.store import GRAPH_FORMATS, RESULT_FORMATS

    parser = argparse.ArgumentParser(
        prog="policykg", description="A policy-tracking knowledge graph for European cultural-heritage policy."
    )
    parser.add_argument("--version", action="version", version=f"policykg {policykg.__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--base", metavar="IRI",
        help="base IRI that relative IRIs in the data resolve against [POLICYKG_BASE_IRI] (default http://localhost:8000/)",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    check = commands.add_parser("validate", parents=[common], help="validate RDF files against the shapes (default: data/)")
    check.add_argument("files", nargs="*", type=Path, metavar="FILE", help="files or folders (default: data/)")
    check.add_argument("--format", choices=["text", "json", "turtle"], default="text", help="report format")
    check.add_argument("--input-format", choices=sorted(FORMATS), help="RDF syntax of the files (default: by ending)")
    check.add_argument("--against-store", action="store_true",
                       help="judge the files as an entry added to the configured store [POLICYKG_STORE]")
    check.add_argument("--store", help="the store for --against-store (default var/store; not while it is served)")
    check.set_defaults(handler=run_validate)

    submit = commands.add_parser("submit", parents=[common], help="send a file to a running service as an entry")
    submit.add_argument("file", type=Path, metavar="FILE", help="the entry: an RDF file")
    submit.add_argument("--url", default="http://127.0.0.1:8000", help="the service (default http://127.0.0.1:8000)")
    submit.add_argument("--token", help="your bearer token (or POLICYKG_TOKEN; prefer the variable)")
    submit.add_argument("--input-format", choices=sorted(FORMATS), help="RDF syntax of the file (default: by ending)")
    submit.set_defaults(handler=run_submit)

    query = commands.add_parser("query", parents=[common], help="run a SPARQL query over the seed data or FILES")
    query.add_argument("sparql", nargs="?", help="the query text")
    query.add_argument("files", nargs="*", type=Path, metavar="FILE", help="files to query instead of data/")
    query.add_argument("--question", metavar="NAME", help="run a named competency question instead")
    query.add_argument("--bind", action="append", default=[], metavar="NAME=VALUE",
                       help='bind a variable: NAME=<IRI> (relative to the base) or NAME="literal"')
    query.add_argument("--format", choices=["table", *RESULT_FORMATS, *GRAPH_FORMATS], default="table",
                       help="answer syntax (table: a text table for SELECT, JSON for ASK, Turtle for CONSTRUCT)")
    query.add_argument("--input-format", choices=sorted(FORMATS), help="RDF syntax of FILES (default: by ending)")
    query.set_defaults(handler=run_query)

    serve = commands.add_parser(
        "serve", parents=[common], help="serve the graph over HTTP (SPARQL 1.1 Protocol)",
        description="Serve the knowledge graph. Every option can also be set by the environment variable in "
        "brackets; a flag given here wins.",
    )
    serve.add_argument("--host", help="address to listen on [POLICYKG_HOST] (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on [POLICYKG_PORT] (default 8000)")
    serve.add_argument("--store", help="'memory', a folder for the embedded on-disk store, or the URL of a remote "
                       "SPARQL query endpoint [POLICYKG_STORE] (default var/store)")
    serve.add_argument("--remote-update-url", help="remote SPARQL update endpoint [POLICYKG_REMOTE_UPDATE_URL]")
    serve.add_argument("--remote-store-url", help="remote Graph Store Protocol endpoint [POLICYKG_REMOTE_STORE_URL]")
    serve.add_argument("--remote-engine", choices=["auto", "generic", "virtuoso"],
                       help="the remote engine's dialect [POLICYKG_REMOTE_ENGINE] (default auto: as its Server "
                       "header says)")
    serve.add_argument("--remote-credentials", metavar="USER:PASSWORD", help="the remote engine's account for writes "
                       "[POLICYKG_REMOTE_CREDENTIALS]; prefer the variable, a flag shows in the process list")
    serve.add_argument("--workers", "--query-workers", dest="query_workers", type=int, metavar="N",
                       help="worker processes that answer queries over the on-disk store [POLICYKG_QUERY_WORKERS] "
                       "(default: one per core; 0: threads in the server process, no hard time limit)")
    serve.add_argument("--query-timeout", type=float, help="seconds a query may run [POLICYKG_QUERY_TIMEOUT] (default 30)")
    serve.add_argument("--max-query-memory-bytes", type=int, help="memory a query worker may grow to before its query "
                       "is stopped [POLICYKG_MAX_QUERY_MEMORY_BYTES] (default 2 GiB)")
    serve.add_argument("--max-body-bytes", type=int, help="largest request body [POLICYKG_MAX_BODY_BYTES] (default 10 MiB)")
    serve.add_argument("--max-result-bytes", type=int,
                       help="largest query answer [POLICYKG_MAX_RESULT_BYTES] (default 512 MiB)")
    serve.add_argument("--update-token", help="bearer token that allows writes [POLICYKG_UPDATE_TOKEN]; prefer the "
                       "variable, a flag shows in the process list (default: none, writes disabled)")
    serve.add_argument("--contributor-tokens", type=json.loads, help="JSON object of bearer token -> contributor "
                       "name, for entries [POLICYKG_CONTRIBUTOR_TOKENS]; prefer the variable (default: none)")
    serve.add_argument("--union-default-graph", action=argparse.BooleanOptionalAction, default=None,
                       help="queries see the union of all graphs as default graph [POLICYKG_UNION_DEFAULT_GRAPH] "
                       "(default on)")
    serve.add_argument("--allowed-remote-endpoint", dest="allowed_remote_endpoints", action="append",
                       help="an endpoint SERVICE and LOAD may reach; repeat for more "
                       "[POLICYKG_ALLOWED_REMOTE_ENDPOINTS, a JSON list] (default: none)")
    serve.set_defaults(handler=run_serve)

    gen = commands.add_parser("generate", parents=[common], help="write a synthetic graph that conforms to the shapes (N-Quads)")
    gen.add_argument("--triples", type=int, required=True, help="how many quads to write, at least")
    gen.add_argument("--seed", type=int, default=0, help="the random seed; the same seed gives the same file")
    gen.add_argument("--output", type=Path, help="file to write (.gz: compressed); default: standard output")
    gen.set_defaults(handler=run_generate)

    load = commands.add_parser("load", parents=[common], help="bulk-load RDF files into the configured store")
    load.add_argument("files", nargs="+", type=Path, metavar="FILE", help="RDF files or folders (.gz allowed)")
    load.add_argument("--store", help="'memory', a store folder or a remote endpoint [POLICYKG_STORE] (default var/store)")
    load.add_argument("--input-format", choices=sorted(FORMATS), help="RDF syntax of the files (default: by ending)")
    load.set_defaults(handler=run_load)

    save = commands.add_parser("backup", parents=[common], help="back up a running service or the store",
                               description="Back up the store as it is at one instant: from a running service "
                               "(--from-url, its dump) or, with no service running, the store folder itself.")
    save.add_argument("target", type=Path, metavar="OUT", help="a .nq.gz (or .nq) dump, or else a checkpoint folder "
                      "(a store folder only); never overwritten")
    origin = save.add_mutually_exclusive_group()
    origin.add_argument("--from-url", metavar="URL", help="a running policykg service, e.g. http://127.0.0.1:8000/")
    origin.add_argument("--store", help="a store folder no process holds, or a remote endpoint [POLICYKG_STORE] "
                        "(default var/store)")
    save.set_defaults(handler=run_backup)

    restore = commands.add_parser("restore", parents=[common], help="restore a backup as a new store",
                                  description="Restore a backup into a new or empty store folder, whole or not at all.")
    restore.add_argument("backup", type=Path, metavar="IN", help="a checkpoint folder, or a .nq.gz or .nq dump")
    restore.add_argument("--store", help="the store folder to make [POLICYKG_STORE] (default var/store)")
    restore.add_argument("--replace", action="store_true",
                         help="replace the store in that folder (no service may hold it), once the backup is restored")
    restore.set_defaults(handler=run_restore)

    questions = commands.add_parser("questions", parents=[common], help="list the competency questions (--run: answer them)")
    questions.add_argument("--run", action="store_true", help="answer each question over the seed data")
    questions.set_defaults(handler=run_questions)
    return parser


