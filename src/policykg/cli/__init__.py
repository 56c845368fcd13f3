"""The policykg command: thin sub-commands over the library's functions.

Each command imports what it needs when it runs: query worker processes import this module again
when they start, and should not pay for the web framework, pySHACL and rdflib.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import policykg
from policykg.cli.status import EXIT_BAD_INPUT, EXIT_OK
from policykg.errors import PolicyKGError, QueryError, RdfSyntaxError

_SETTING_FLAGS = (
    "host",
    "port",
    "store",
    "query_workers",
    "remote_update_url",
    "remote_store_url",
    "remote_engine",
    "remote_credentials",
    "query_timeout",
    "max_query_memory_bytes",
    "max_body_bytes",
    "max_result_bytes",
    "update_token",
    "contributor_tokens",
    "union_default_graph",
    "allowed_remote_endpoints",
)


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


def _parser() -> argparse.ArgumentParser:
    from policykg.cli import commands as run
    from policykg.rdf.input import FORMATS
    from policykg.store import GRAPH_FORMATS, RESULT_FORMATS

    parser = argparse.ArgumentParser(
        prog="policykg", description="A policy-tracking knowledge graph for European cultural-heritage policy."
    )
    parser.add_argument("--version", action="version", version=f"policykg {policykg.__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--base",
        metavar="IRI",
        help="base IRI that relative IRIs in the data resolve against [POLICYKG_BASE_IRI] (default http://localhost:8000/)",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    # The commands that read RDF files.
    reading = argparse.ArgumentParser(add_help=False)
    reading.add_argument("--input-format", choices=sorted(FORMATS), help="RDF syntax of the files (default: by ending)")

    check = commands.add_parser(
        "validate", parents=[common, reading], help="validate RDF files against the shapes (default: data/)"
    )
    check.add_argument("files", nargs="*", type=Path, metavar="FILE", help="files or folders (default: data/)")
    check.add_argument("--format", choices=["text", "json", "turtle"], default="text", help="report format")
    check.add_argument(
        "--against-store",
        action="store_true",
        help="judge the files as an entry added to the configured store [POLICYKG_STORE]",
    )
    check.add_argument("--store", help="the store for --against-store (default var/store; not while it is served)")
    check.set_defaults(handler=run.run_validate)

    submit = commands.add_parser(
        "submit", parents=[common, reading], help="send a file to a running service as an entry"
    )
    submit.add_argument("file", type=Path, metavar="FILE", help="the entry: an RDF file")
    submit.add_argument("--url", default="http://127.0.0.1:8000", help="the service (default http://127.0.0.1:8000)")
    submit.add_argument("--token", help="your bearer token (or POLICYKG_TOKEN; prefer the variable)")
    submit.set_defaults(handler=run.run_submit)

    query = commands.add_parser(
        "query", parents=[common, reading], help="run a SPARQL query over the seed data or FILES"
    )
    query.add_argument("sparql", nargs="?", help="the query text")
    query.add_argument("files", nargs="*", type=Path, metavar="FILE", help="files to query instead of data/")
    query.add_argument("--question", metavar="NAME", help="run a named competency question instead")
    query.add_argument(
        "--bind",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help='bind a variable: NAME=<IRI> (relative to the base) or NAME="literal"',
    )
    query.add_argument(
        "--format",
        choices=["table", *RESULT_FORMATS, *GRAPH_FORMATS],
        default="table",
        help="answer syntax (table: a text table for SELECT, JSON for ASK, Turtle for CONSTRUCT)",
    )
    query.set_defaults(handler=run.run_query)

    serve = commands.add_parser(
        "serve",
        parents=[common],
        help="serve the graph over HTTP (SPARQL 1.1 Protocol)",
        description="Serve the knowledge graph. Every option can also be set by the environment variable in "
        "brackets; a flag given here wins.",
    )
    serve.add_argument("--host", help="address to listen on [POLICYKG_HOST] (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on [POLICYKG_PORT] (default 8000)")
    serve.add_argument(
        "--store",
        help="'memory', a folder for the embedded on-disk store, or the URL of a remote "
        "SPARQL query endpoint [POLICYKG_STORE] (default var/store)",
    )
    serve.add_argument("--remote-update-url", help="remote SPARQL update endpoint [POLICYKG_REMOTE_UPDATE_URL]")
    serve.add_argument("--remote-store-url", help="remote Graph Store Protocol endpoint [POLICYKG_REMOTE_STORE_URL]")
    serve.add_argument(
        "--remote-engine",
        choices=["auto", "generic", "virtuoso"],
        help="the remote engine's dialect [POLICYKG_REMOTE_ENGINE] (default auto: as its Server header says)",
    )
    serve.add_argument(
        "--remote-credentials",
        metavar="USER:PASSWORD",
        help="the remote engine's account for writes "
        "[POLICYKG_REMOTE_CREDENTIALS]; prefer the variable, a flag shows in the process list",
    )
    serve.add_argument(
        "--workers",
        "--query-workers",
        dest="query_workers",
        type=int,
        metavar="N",
        help="worker processes that answer queries over the on-disk store [POLICYKG_QUERY_WORKERS] "
        "(default: one per core; 0: threads in the server process, no hard time limit)",
    )
    serve.add_argument(
        "--query-timeout", type=float, help="seconds a query may run [POLICYKG_QUERY_TIMEOUT] (default 30)"
    )
    serve.add_argument(
        "--max-query-memory-bytes",
        type=int,
        help="memory a query worker may grow to before its query "
        "is stopped [POLICYKG_MAX_QUERY_MEMORY_BYTES] (default 2 GiB)",
    )
    serve.add_argument(
        "--max-body-bytes", type=int, help="largest request body [POLICYKG_MAX_BODY_BYTES] (default 10 MiB)"
    )
    serve.add_argument(
        "--max-result-bytes", type=int, help="largest query answer [POLICYKG_MAX_RESULT_BYTES] (default 512 MiB)"
    )
    serve.add_argument(
        "--update-token",
        help="bearer token that allows writes [POLICYKG_UPDATE_TOKEN]; prefer the "
        "variable, a flag shows in the process list (default: none, writes disabled)",
    )
    serve.add_argument(
        "--contributor-tokens",
        type=json.loads,
        help="JSON object of bearer token -> contributor "
        "name, for entries [POLICYKG_CONTRIBUTOR_TOKENS]; prefer the variable (default: none)",
    )
    serve.add_argument(
        "--union-default-graph",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="queries see the union of all graphs as default graph [POLICYKG_UNION_DEFAULT_GRAPH] (default on)",
    )
    serve.add_argument(
        "--allowed-remote-endpoint",
        dest="allowed_remote_endpoints",
        action="append",
        help="an endpoint SERVICE and LOAD may reach; repeat for more "
        "[POLICYKG_ALLOWED_REMOTE_ENDPOINTS, a JSON list] (default: none)",
    )
    serve.set_defaults(handler=run.run_serve)

    gen = commands.add_parser(
        "generate", parents=[common], help="write a synthetic graph that conforms to the shapes (N-Quads)"
    )
    gen.add_argument("--triples", type=int, required=True, help="how many quads to write, at least")
    gen.add_argument("--seed", type=int, default=0, help="the random seed; the same seed gives the same file")
    gen.add_argument("--output", type=Path, help="file to write (.gz: compressed); default: standard output")
    gen.set_defaults(handler=run.run_generate)

    load = commands.add_parser("load", parents=[common, reading], help="bulk-load RDF files into the configured store")
    load.add_argument("files", nargs="+", type=Path, metavar="FILE", help="RDF files or folders (.gz allowed)")
    load.add_argument(
        "--store", help="'memory', a store folder or a remote endpoint [POLICYKG_STORE] (default var/store)"
    )
    load.set_defaults(handler=run.run_load)

    reindex = commands.add_parser(
        "reindex", parents=[common], help="rebuild the full-text index of the store (no service may hold it)"
    )
    reindex.add_argument(
        "--store", help="'memory', a store folder or a remote endpoint [POLICYKG_STORE] (default var/store)"
    )
    reindex.set_defaults(handler=run.run_reindex)

    save = commands.add_parser("backup", parents=[common], help="back up a running service or the store")
    save.description = (
        "Back up the store as it is at one instant: from a running service (--from-url, its dump) or, with no "
        "service running, the store folder itself."
    )
    save.add_argument(
        "target",
        type=Path,
        metavar="OUT",
        help="a .nq.gz (or .nq) dump, or else a checkpoint folder (a store folder only); never overwritten",
    )
    origin = save.add_mutually_exclusive_group()
    origin.add_argument("--from-url", metavar="URL", help="a running policykg service, e.g. http://127.0.0.1:8000/")
    origin.add_argument(
        "--store", help="a store folder no process holds, or a remote endpoint [POLICYKG_STORE] (default var/store)"
    )
    save.set_defaults(handler=run.run_backup)

    restore = commands.add_parser("restore", parents=[common], help="restore a backup as a new store")
    restore.description = "Restore a backup into a new or empty store folder, whole or not at all."
    restore.add_argument("backup", type=Path, metavar="IN", help="a checkpoint folder, or a .nq.gz or .nq dump")
    restore.add_argument("--store", help="the store folder to make [POLICYKG_STORE] (default var/store)")
    restore.add_argument(
        "--replace",
        action="store_true",
        help="replace the store in that folder (no service may hold it), once the backup is restored",
    )
    restore.set_defaults(handler=run.run_restore)

    questions = commands.add_parser(
        "questions", parents=[common], help="list the competency questions (--run: answer them)"
    )
    questions.add_argument("--run", action="store_true", help="answer each question over the seed data")
    questions.set_defaults(handler=run.run_questions)
    return parser
