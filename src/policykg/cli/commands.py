"""The commands themselves: each a thin function over the library, importing what it needs when it runs."""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import sys
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING

from policykg.cli.status import EXIT_BAD_INPUT, EXIT_INVALID, EXIT_OK
from policykg.errors import QueryError

if TYPE_CHECKING:
    import pyoxigraph as ox

    from policykg.config import Settings
    from policykg.store import Store, Term
    from policykg.validation.shacl import Report


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


def _validate_against_store(quads: list[ox.Quad], settings: Settings) -> Report:
    """Judge the files as one entry added to the configured store (which must not be in use)."""
    import pyoxigraph as ox

    from policykg.iris import entry_iri
    from policykg.validation.incremental import Change
    from policykg.writing.writer import make_writer

    store = _open_store(settings)
    try:
        graph = ox.NamedNode(entry_iri(settings.base_iri, "offline-check"))
        added = tuple(
            ox.Quad(
                q.subject, q.predicate, q.object, graph if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name
            )
            for q in quads
        )
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
    format_name = args.input_format or names[format_of(args.file)]
    token = args.token or os.environ.get("POLICYKG_TOKEN", "")
    try:
        response = httpx.post(
            args.url.rstrip("/") + "/entries",
            content=args.file.read_bytes(),
            timeout=120,
            headers={"Content-Type": FORMATS[format_name][0].media_type, "Authorization": f"Bearer {token}"},
        )
    except httpx.HTTPError as error:
        print(f"error: cannot reach {args.url}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    body = response.json()
    if response.status_code in (200, 201):
        print(f"accepted: {body['entry']} ({len(body['results'])} warnings or infos)")
        return EXIT_OK
    if response.status_code == 422 and "results" in body:
        results = tuple(
            Result(
                focus=r["focusNode"],
                path=r["resultPath"],
                value=r["value"],
                message=r["message"],
                severity=r["severity"],
                shape=r["sourceShape"],
                component=r["sourceConstraintComponent"],
            )
            for r in body["results"]
        )
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
            terms: dict[str, Term] = {
                name: parse_term(value, settings.base_iri) for name, value in question.params.items()
            }
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

    store = _open_store(
        settings,
        union_default_graph=settings.union_default_graph,
        query_workers=settings.query_workers,
        query_memory=settings.max_query_memory_bytes,
    )
    try:
        if initialise(store, settings):
            print(f"policykg: loaded the ontology, shapes and seed data into {settings.store}", file=sys.stderr)
        elif refresh_model(store, settings):
            print("policykg: the ontology or shapes files changed: their graphs were replaced", file=sys.stderr)
        print(f"policykg: serving {settings.store} at http://{settings.host}:{settings.port}/sparql", file=sys.stderr)
        # Requests are logged by the application (RequestLog), as JSON lines with their ids: not by uvicorn too.
        uvicorn.run(
            create_app(settings, store),
            host=settings.host,
            port=settings.port,
            access_log=False,
            log_config=logging_config(settings.log_level),
            log_level=settings.log_level,
        )
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
        written = generate(
            sys.stdout, args.triples, args.seed, settings.base_iri, lambda done: show(label, done, args.triples)
        )
    else:
        with _text_output(args.output) as out:
            written = generate(
                out, args.triples, args.seed, settings.base_iri, lambda done: show(label, done, args.triples)
            )
    print(f"generated {written} quads (seed {args.seed}) in {time.monotonic() - start:.1f} s", file=sys.stderr)
    return EXIT_OK


def _text_output(path: Path) -> IO[str]:
    """A text file opened for writing, gzip-compressed for .gz."""
    if path.suffix == ".gz":
        # Level 6 (gzip's own default) compresses about 3× faster than Python's 9, for a 10 % larger file.
        return gzip.open(path, "wt", encoding="utf-8", compresslevel=6)
    return open(path, "w", encoding="utf-8")


def run_load(args: argparse.Namespace, settings: Settings) -> int:
    """Bulk-load files into the configured store, with a progress bar and a quads/s figure."""
    from policykg.model.closure import write_closure
    from policykg.model.files import data_graph_iri, load_model
    from policykg.model.loading import load_files as bulk_load_files
    from policykg.model.loading import progress_bar

    store = _open_store(settings)
    try:
        new = store.is_empty()
        report = bulk_load_files(
            store,
            args.files,
            settings.base_iri,
            data_graph_iri(settings),
            args.input_format,
            progress_bar(),
            lambda text: print(f"policykg: {text}", file=sys.stderr),
        )
        if new:
            # A new store gets the model, as `serve` gives an empty one: served later, this store is not
            # empty, so `serve` would never add the ontology, shapes and seed to it (a load cut short before
            # this point is mended by `serve`, which adds the model to any store that lacks it).
            load_model(store, settings)
            print(f"policykg: loaded the ontology, shapes and seed data into {settings.store}", file=sys.stderr)
        write_closure(store, settings.base_iri)
        _reindex(store, settings)
    finally:
        store.close()
    files = f"{report.files} file{'s' if report.files != 1 else ''}"
    return _done(f"loaded {report.quads} quads from {files} into {settings.store}", report.seconds, report.rate)


def run_reindex(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild the full-text index of the configured store (which no service may hold) from the store."""
    store = _open_store(settings)
    try:
        _reindex(store, settings)
    finally:
        store.close()
    return EXIT_OK


def _reindex(store: Store, settings: Settings) -> None:
    from policykg.search.index import SearchIndex, index_folder

    start = time.monotonic()
    folder = index_folder(settings.store, settings.search_index)
    index = SearchIndex(folder)
    documents = index.rebuild(store)
    index.close(store)
    where = folder or "memory"
    print(f"policykg: indexed {documents} resources in {where} in {time.monotonic() - start:.1f} s", file=sys.stderr)


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
    size = f"{report.kind}, {report.size / 1e6:,.1f} MB"
    return _done(
        f"backed up {report.quads:,} quads from {source} to {report.target} ({size})", report.seconds, report.rate
    )


def run_restore(args: argparse.Namespace, settings: Settings) -> int:
    """Restore a backup as the configured store folder (new or empty; --replace for a store there)."""
    from policykg.config import beside_store
    from policykg.errors import BackupError
    from policykg.model.loading import progress_bar
    from policykg.publish.restore import restore
    from policykg.search.index import index_folder

    if settings.store == "memory" or settings.store.startswith(("http://", "https://")):
        raise BackupError(
            "restore makes an on-disk store: give its folder with --store; into a remote engine, "
            "load the dump with the engine's own loader"
        )
    report = restore(args.backup, Path(settings.store), replace=args.replace, progress=progress_bar())
    # The full-text index and the dump files described the store that was replaced: the service makes them anew.
    for made, what in (
        (index_folder(settings.store, settings.search_index), "the full-text index"),
        (beside_store(settings.store, settings.dumps_folder, ".dumps"), "the dump files"),
    ):
        if made is not None and made.exists():
            shutil.rmtree(made)
            print(f"policykg: note: removed {what} {made}; the service makes them anew", file=sys.stderr)
    for note in report.notes:
        print(f"policykg: note: {note}", file=sys.stderr)
    return _done(
        f"restored {report.quads:,} quads from {args.backup} into {report.destination}", report.seconds, report.rate
    )


def _open_store(
    settings: Settings, *, union_default_graph: bool = True, query_workers: int = 0, query_memory: int | None = None
) -> Store:
    """The configured store; a remote one with its endpoints, dialect and credentials."""
    from policykg.store import open_store

    return open_store(
        settings.store,
        update_url=settings.remote_update_url,
        store_url=settings.remote_store_url,
        engine=settings.remote_engine,
        credentials=settings.remote_login,
        union_default_graph=union_default_graph,
        query_workers=query_workers,
        query_memory=query_memory,
    )


def _store(files: list[Path], settings: Settings, input_format: str | None) -> Store:
    from policykg.model.closure import write_closure
    from policykg.model.files import load_data_files, load_model
    from policykg.store import EmbeddedStore

    store = EmbeddedStore.in_memory()
    load_model(store, settings, with_data=not files)
    if files:
        load_data_files(store, files, settings, input_format)
    write_closure(store, settings.base_iri)  # what the questions that follow skos:broader read
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
        raise QueryError(f'--bind takes NAME=<IRI> or NAME="literal", not {text!r}')
    return name.lstrip("?$"), value


def _done(what: str, seconds: float, rate: float) -> int:
    """Say on standard error what a long command did, in how long and how fast; the exit status of success."""
    print(f"{what} in {seconds:.1f} s ({rate:,.0f} quads/s)", file=sys.stderr)
    return EXIT_OK
