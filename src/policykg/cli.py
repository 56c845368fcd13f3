"""The policykg command: thin sub-commands over the library's functions."""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from policykg import competency, display
from policykg.config import Settings, load_settings
from policykg.errors import PolicyKGError, QueryError, RdfSyntaxError
from policykg.model import load_files, load_model
from policykg.rdfinput import FORMATS, expand_paths, parse_term, read_files, to_rdflib_graph
from policykg.sparqlsyntax import query_form
from policykg.namespaces import PREFIXES
from policykg.store import GRAPH_FORMATS, RESULT_FORMATS, EmbeddedStore, Store
from policykg.validation import load_model_graph, validate

EXIT_OK, EXIT_INVALID, EXIT_BAD_INPUT = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(base_iri=args.base)
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


def run_validate(args: argparse.Namespace, settings: Settings) -> int:
    """Validate RDF files against the shapes and ontology; print the report."""
    paths = args.files or [settings.data_dir]
    files = expand_paths(paths)
    data = to_rdflib_graph(read_files(files, settings.base_iri, args.input_format))
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


def run_query(args: argparse.Namespace, settings: Settings) -> int:
    """Run a SPARQL query (or a named competency question) over files in Oxigraph's engine."""
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
    store = _store([], settings, None) if args.run else None
    for question in competency.list_questions():
        print(f"{question.name}\n  {question.title}\n  {question.description}")
        if store is not None:
            terms = {name: parse_term(value, settings.base_iri) for name, value in question.params.items()}
            solutions = store.select(question.sparql, base_iri=settings.base_iri, bindings=terms, prefixes=PREFIXES)
            print(display.table(solutions, settings.base_iri))
        print()
    return EXIT_OK


def _store(files: list[Path], settings: Settings, input_format: str | None) -> Store:
    store = EmbeddedStore.in_memory()
    load_model(store, settings, with_data=not files)
    if files:
        load_files(store, files, settings, input_format)
    return store


def _print_answer(store: Store, sparql: str, terms: dict, format_name: str, settings: Settings) -> None:
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
    parser = argparse.ArgumentParser(
        prog="policykg", description="A policy-tracking knowledge graph for European cultural-heritage policy."
    )
    parser.add_argument(
        "--base", metavar="IRI",
        help="base IRI that relative IRIs in data files resolve against (POLICYKG_BASE_IRI; default http://localhost:8000/)",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    check = commands.add_parser("validate", help="validate RDF files against the shapes (default: data/)")
    check.add_argument("files", nargs="*", type=Path, metavar="FILE", help="files or folders (default: data/)")
    check.add_argument("--format", choices=["text", "json", "turtle"], default="text", help="report format")
    check.add_argument("--input-format", choices=sorted(FORMATS), help="RDF syntax of the files (default: by ending)")
    check.set_defaults(handler=run_validate)

    query = commands.add_parser("query", help="run a SPARQL query over the seed data or FILES")
    query.add_argument("sparql", nargs="?", help="the query text")
    query.add_argument("files", nargs="*", type=Path, metavar="FILE", help="files to query instead of data/")
    query.add_argument("--question", metavar="NAME", help="run a named competency question instead")
    query.add_argument("--bind", action="append", default=[], metavar="NAME=VALUE",
                       help='bind a variable: NAME=<IRI> (relative to the base) or NAME="literal"')
    query.add_argument("--format", choices=["table", *RESULT_FORMATS, *GRAPH_FORMATS], default="table",
                       help="answer syntax (table: a text table for SELECT, JSON for ASK, Turtle for CONSTRUCT)")
    query.add_argument("--input-format", choices=sorted(FORMATS), help="RDF syntax of FILES (default: by ending)")
    query.set_defaults(handler=run_query)

    questions = commands.add_parser("questions", help="list the competency questions (--run: answer them)")
    questions.add_argument("--run", action="store_true", help="answer each question over the seed data")
    questions.set_defaults(handler=run_questions)
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
