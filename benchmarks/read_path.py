"""The cheap, common read path: policykg next to a raw `oxigraph serve` on the same data, in one run.

One command:
    .venv/bin/python benchmarks/read_path.py --triples 200000 1000000 --clients 1 2 4 8 32 --seconds 10 --results

For each size it takes the generated graph (`policykg generate`, kept in benchmarks/.work/), loads it with
`policykg load` into a new on-disk store, and with `oxigraph load` (then `oxigraph optimize`, then the model
over HTTP as backend_scale.py adds it, so that both hold the same quads) into another; it starts `policykg
serve` (query workers at their default) and `oxigraph serve --union-default-graph`, and with --previous REV
also `policykg serve` of that git revision, run from a temporary `git worktree` over its own copy of the store.
It checks that every system gives the same answers (a fast wrong answer must not win), then drives each from
one client process (asyncio; each concurrent client its own keep-alive httpx.AsyncClient), in interleaved
short rounds so that noise on the shared machine falls on every system alike:

- a cheap mix: seven kinds of selective query (point lookup, one- and two-hop joins, a date window with a
  small LIMIT, a short skos:broader path, a CONSTRUCT of one resource, a COUNT of one resource's links),
  each over many generated IRIs, at every --clients count; then each kind alone at the highest count;
- the heavy mix of sparql_throughput.py (its queries()) at --heavy-clients;
- dereferencing: GET /id/… of events, recommendations and organisations as Turtle and as HTML (the 303 and
  the document), against the same resource's `CONSTRUCT { <iri> ?p ?o }` as Turtle on `oxigraph serve`;
- pages (unless --no-pages), on every policykg system only (`oxigraph serve` has none): the other reads built
  on queries that people and harvesters make, each kind alone at the dereferencing client counts: the home page
  and /timeline as HTML, /.well-known/void and /catalog as Turtle, /sitemap.xml, and the whole compressed dump
  /dumps/policykg.nq.gz (its bytes counted; at most 4 clients, as many dumps as the service writes at once).

It reports queries/s, latency percentiles, errors and ratios to `oxigraph serve` (pages: MB/s, and the ratio
to the revision of --previous); for policykg also the query worker processes started in each phase (from GET
/ready, and counted from /proc every 20 ms), and the CPU time of the servers and of the client. With --results
it appends the section to benchmarks/RESULTS.md, unless answers differed (or a page was not a 200 of its media
type). Every server listens on 127.0.0.1 only; all are stopped, temporary folders removed.
"""

import argparse
import asyncio
import contextlib
import datetime as dt
import functools
import itertools
import math
import os
import random
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyoxigraph as ox
from backend_scale import Engine, Run, add_model, agreement, serve, stop, timed
from service_memory import children, is_query_worker
from sparql_throughput import (
    System,
    check_answers,
    free_port,
    machine,
    percentile,
    publish,
    queries,
    synthetic_data,
    wait_for,
)

from policykg.store import RemoteStore

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"
B = "http://localhost:8000/"
SRJ = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
TURTLE = "text/turtle"
HTML = "text/html"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
TIMEOUT = 60  # seconds: policykg's query time limit, and each request's at the client
MAX_REQUESTS = 1_000_000  # per client and round, a bound besides the round's time
WATCH_INTERVAL = 0.02  # seconds between two looks at a server's child processes
CHECKED = 3  # queries of each kind whose answers are compared before timing
PREFIXES = (
    "PREFIX pkg: <https://w3id.org/policykg/ontology#> PREFIX dcterms: <http://purl.org/dc/terms/> "
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX schema: <https://schema.org/> "
    "PREFIX cv: <http://data.europa.eu/m8g/> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
    "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> "
)
# The generated resources, by the start of their IRIs (policykg.model.synthetic names them so).
RESOURCES = {
    "conference": "id/event/gen-conference-",
    "meeting": "id/event/gen-meeting-",
    "recommendation": "id/recommendation/gen-",
    "organisation": "id/org/gen-",
    "person": "id/person/gen-",
    "concept": "id/concept/gen-",
}
FIRST_DAY = dt.date(2000, 1, 1)  # generated conference n starts 7 n days after it


def date_window(conference: str) -> str:
    """The events that start in the 30 days from a conference's start, first ten by date."""
    start = FIRST_DAY + dt.timedelta(days=7 * int(conference.rsplit("-", 1)[1]))
    end = start + dt.timedelta(days=30)
    return (
        PREFIXES + "SELECT ?event ?start WHERE { ?event schema:startDate ?start "
        f'FILTER (?start >= "{start}"^^xsd:date && ?start < "{end}"^^xsd:date) }} ORDER BY ?start ?event LIMIT 10'
    )


# Each kind of cheap query: the kinds of resource it starts from, and the query for one of them.
CHEAP: dict[str, tuple[tuple[str, ...], Callable[[str], str]]] = {
    "point lookup": (
        ("conference", "meeting", "recommendation", "organisation", "person", "concept"),
        lambda iri: f"SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}",
    ),
    "one-hop join": (
        ("conference",),
        lambda iri: (
            PREFIXES + "SELECT ?recommendation ?title WHERE { "
            f"?recommendation pkg:issuedAt <{iri}> ; dcterms:title ?title }}"
        ),
    ),
    "two-hop join": (
        ("conference", "meeting"),
        lambda iri: (
            PREFIXES + "SELECT ?person ?name WHERE { "
            f"<{iri}> cv:hasParticipation ?part . ?part cv:hasParticipant ?person . "
            "?person rdfs:label ?name }"
        ),
    ),
    "date filter": (("conference",), date_window),
    "property path": (
        ("recommendation",),
        lambda iri: (
            PREFIXES + "SELECT ?concept ?label WHERE { "
            f"<{iri}> pkg:concerns/skos:broader? ?concept . ?concept skos:prefLabel ?label }}"
        ),
    ),
    "construct": (
        ("conference", "meeting", "recommendation", "organisation", "person"),
        lambda iri: f"CONSTRUCT {{ <{iri}> ?p ?o }} WHERE {{ <{iri}> ?p ?o }}",
    ),
    "count": (
        ("conference", "meeting", "recommendation", "person"),
        lambda iri: (
            "SELECT (COUNT(*) AS ?links) (COUNT(DISTINCT ?x) AS ?neighbours) WHERE { "
            f"{{ <{iri}> ?p ?x }} UNION {{ ?x ?p <{iri}> }} }}"
        ),
    ),
}
DEREFERENCED = {
    "event": ("conference", "meeting"),
    "recommendation": ("recommendation",),
    "organisation": ("organisation",),
}
DUMP = "/dumps/policykg.nq.gz"
# The pages: each kind, its path, the media type asked for and the one expected.
PAGES = {
    "/ as HTML": ("/", HTML, HTML),
    "/timeline as HTML": ("/timeline", HTML, HTML),
    "/.well-known/void as Turtle": ("/.well-known/void", TURTLE, TURTLE),
    "/catalog as Turtle": ("/catalog", TURTLE, TURTLE),
    "/sitemap.xml": ("/sitemap.xml", "*/*", "application/xml"),
    DUMP: (DUMP, "*/*", "application/gzip"),
}
DUMP_CLIENTS = 4  # at the most: the service writes four dumps at once (its dump threads)


@dataclass(frozen=True)
class Read:
    """One request: its kind, the path under the server, the query parameters, the media type asked for."""

    kind: str
    path: str
    params: dict[str, str] | None
    accept: str


@dataclass
class Server:
    """A running system: its name, address, SPARQL query path and process; the query workers seen so far."""

    name: str
    base: str
    endpoint: str
    process: "subprocess.Popen[bytes]"
    is_policykg: bool
    known_workers: set[int] = field(default_factory=set)


@dataclass
class Target:
    """What one system is sent in a phase: its reads, sent round-robin."""

    name: str
    server: Server
    reads: list[Read]


@dataclass
class Tally:
    """What the clients got from one target at one client count, summed over the rounds."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    received: int = 0  # bytes of the answers' bodies
    starts: int | None = 0  # worker processes started, as /ready says (None: it does not say)
    workers_seen: set[int] = field(default_factory=set)
    workers_new: set[int] = field(default_factory=set)
    server_cpu: float = 0.0
    front_cpu: float = 0.0  # of server_cpu, the server's own process (policykg: without its query workers)
    client_cpu: float = 0.0

    @property
    def rate(self) -> float:
        """Answers a second."""
        return len(self.latencies) / self.seconds if self.seconds else float("nan")

    @property
    def megabytes(self) -> float:
        """Megabytes (10⁶ bytes) of answers a second."""
        return self.received / 1e6 / self.seconds if self.seconds else float("nan")


class WorkerWatch(threading.Thread):
    """Every 20 ms, the query worker processes among a server's children (as service_memory.py finds them)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.seen: set[int] = set()
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.wait(WATCH_INTERVAL):
            self.seen |= query_workers(self.pid)

    def stop(self) -> None:
        self._stopping.set()
        self.join()


def query_workers(pid: int) -> set[int]:
    """The query worker processes of a server now."""
    return {child for child in children(pid) if is_query_worker(child)}


def _ticks(process: int, ended_children: bool) -> int:
    """Clock ticks of CPU a process used (and its children that ended, if asked), from /proc."""
    try:
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0
    return sum(int(value) for value in fields[11 : 15 if ended_children else 13])  # utime stime [cutime cstime]


def cpu_seconds(pid: int) -> float:
    """CPU time of a process, of its children that ended, and of those that run now (from /proc)."""
    ticks = _ticks(pid, ended_children=True) + sum(_ticks(child, ended_children=False) for child in children(pid))
    return ticks / os.sysconf("SC_CLK_TCK")


def front_cpu_seconds(pid: int) -> float:
    """CPU time of the process alone: for policykg, the HTTP front, without its query workers."""
    return _ticks(pid, ended_children=False) / os.sysconf("SC_CLK_TCK")


def started_workers(server: Server) -> int | None:
    """The query worker processes a policykg service says it has started (GET /ready), or None if it does not say."""
    if not server.is_policykg:
        return None
    try:
        response = httpx.get(server.base + "/ready", timeout=30)
        started = response.json().get("query_workers", {}).get("started")
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    return started if isinstance(started, int) else None


def settle(servers: list[Server], seconds: float = 600) -> None:
    """Wait until each policykg service has merged its store's files (GET /ready: compaction neither due nor
    running), so that no compaction runs while others are timed; a revision without compaction does not say."""
    for server in servers:
        deadline = time.monotonic() + seconds
        while server.is_policykg and time.monotonic() < deadline:
            compaction = httpx.get(server.base + "/ready", timeout=30).json().get("compaction")
            if compaction is None or not (compaction["due"] or compaction["running"]):
                break
            time.sleep(0.5)
        else:
            if server.is_policykg:
                raise RuntimeError(f"{server.name} did not merge its store's files within {seconds:g} s")


# --- the reads ---------------------------------------------------------------------------------------------


def resources(data: Path) -> dict[str, list[str]]:
    """The IRIs of the generated resources by kind, read from the subjects of the generated file."""
    rdf_type = " <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
    found: dict[str, dict[str, None]] = {kind: {} for kind in RESOURCES}  # dicts as ordered sets
    with data.open(encoding="utf-8") as lines:
        for line in lines:
            if rdf_type not in line:
                continue
            subject = line.split(" ", 1)[0][1:-1]
            for kind, start in RESOURCES.items():
                if subject.startswith(B + start):
                    found[kind][subject] = None
                    break
    return {kind: list(iris) for kind, iris in found.items()}


def spread(found: dict[str, list[str]], kinds: Sequence[str], count: int, rng: random.Random) -> list[str]:
    """Up to `count` different IRIs of the given kinds of resource, in random order."""
    pool = [iri for kind in kinds for iri in found[kind]]
    return rng.sample(pool, min(count, len(pool)))


def in_turn(by_kind: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(kind, item): every kind in turn, until the longest list is used up (the shorter ones start again)."""
    longest = max(len(items) for items in by_kind.values())
    return [(kind, items[number % len(items)]) for number in range(longest) for kind, items in by_kind.items()]


def cheap_mix(found: dict[str, list[str]], per_kind: int) -> list[tuple[str, str]]:
    """The cheap mix: every kind in turn, each over its own spread of IRIs (the same for every system)."""
    rng = random.Random(1)
    return in_turn(
        {kind: [make(iri) for iri in spread(found, starts, per_kind, rng)] for kind, (starts, make) in CHEAP.items()}
    )


def is_construct(query: str) -> bool:
    """Whether a query of these mixes is a CONSTRUCT (its answer a graph)."""
    return query.removeprefix(PREFIXES).startswith("CONSTRUCT")


def sparql_reads(server: Server, mix: list[tuple[str, str]]) -> list[Read]:
    """The queries of a mix as GET requests to a server's query endpoint."""
    return [
        Read(kind, server.endpoint, {"query": query}, N_TRIPLES if is_construct(query) else SRJ) for kind, query in mix
    ]


def dereferenced(found: dict[str, list[str]], per_kind: int) -> list[tuple[str, str]]:
    """(kind, IRI) of the resources to dereference: events, recommendations and organisations, in turn."""
    rng = random.Random(2)
    return in_turn({kind: spread(found, starts, per_kind, rng) for kind, starts in DEREFERENCED.items()})


def resource_construct(iri: str) -> str:
    """The statements about a resource, as a CONSTRUCT."""
    return f"CONSTRUCT {{ <{iri}> ?p ?o }} WHERE {{ <{iri}> ?p ?o }}"


def dereference_targets(servers: list[Server], resources_: list[tuple[str, str]]) -> list[Target]:
    """policykg: GET /id/… as Turtle and as HTML; oxigraph serve: the resource's CONSTRUCT as Turtle."""
    targets = []
    for server in servers:
        if server.is_policykg:
            for label, accept in (("Turtle", TURTLE), ("HTML", HTML)):
                reads = [Read(kind, "/" + iri.removeprefix(B), None, accept) for kind, iri in resources_]
                targets.append(Target(f"{server.name}, GET /id/… as {label}", server, reads))
        else:
            targets.append(
                Target(
                    f"{server.name}, CONSTRUCT as Turtle",
                    server,
                    [
                        Read(kind, server.endpoint, {"query": resource_construct(iri)}, TURTLE)
                        for kind, iri in resources_
                    ],
                )
            )
    return targets


def page_targets(servers: list[Server]) -> list[Target]:
    """Every policykg system: each page once (the kinds in turn; measured one kind at a time)."""
    return [
        Target(server.name, server, [Read(kind, path, None, accept) for kind, (path, accept, _) in PAGES.items()])
        for server in servers
        if server.is_policykg
    ]


def page_plan(clients: Sequence[int]) -> list[tuple[int, str]]:
    """(clients, kind) of the pages phase: every kind at every count, the dump at DUMP_CLIENTS at the most."""
    return list(
        dict.fromkeys(
            (min(count, DUMP_CLIENTS) if kind == DUMP else count, kind) for count in clients for kind in PAGES
        )
    )


# --- the answers -------------------------------------------------------------------------------------------


def term_key(term: dict[str, str]) -> tuple[str, ...]:
    """A SPARQL JSON term in a form to compare: blank nodes alike, plain and xsd:string literals alike."""
    kind = "literal" if term["type"] == "typed-literal" else term["type"]
    if kind == "bnode":
        return ("bnode",)
    datatype = term.get("datatype", "")
    return (kind, term["value"], term.get("xml:lang", ""), "" if datatype == XSD_STRING else datatype)


def graph_key(body: bytes, syntax: ox.RdfFormat) -> frozenset[str]:
    """The triples of an RDF document, blank nodes aside."""
    return frozenset(
        str(triple)
        for triple in ox.parse(body, format=syntax, base_iri=B)
        if not isinstance(triple.subject, ox.BlankNode) and not isinstance(triple.object, ox.BlankNode)
    )


def answer(server: Server, query: str) -> object:
    """A server's answer, parsed: a set of triples, sorted rows, a boolean; or a string saying what failed."""
    accept = N_TRIPLES if is_construct(query) else SRJ
    try:
        response = httpx.get(
            server.base + server.endpoint, params={"query": query}, headers={"Accept": accept}, timeout=TIMEOUT
        )
    except httpx.HTTPError as error:
        return f"failed: {type(error).__name__}"
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    if accept == N_TRIPLES:
        return graph_key(response.content, ox.RdfFormat.N_TRIPLES)
    body = response.json()
    if "boolean" in body:
        return body["boolean"]
    return tuple(
        sorted(
            tuple(sorted((name, term_key(term)) for name, term in row.items())) for row in body["results"]["bindings"]
        )
    )


def size_of(value: object) -> int:
    """The rows or triples of a parsed answer; -1 for a failure or a boolean."""
    return len(value) if isinstance(value, (tuple, frozenset)) else -1


def check_cheap(servers: list[Server], mix: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Send the first queries of each kind to every server and compare the answers: (verdicts, problems)."""
    verdicts, problems = [], []
    for kind in CHEAP:
        sizes: list[int] = []
        for query in [query for name, query in mix if name == kind][:CHECKED]:
            answers = {server.name: answer(server, query) for server in servers}
            if len({repr(sorted(a) if isinstance(a, frozenset) else a) for a in answers.values()}) > 1:
                problems.append(
                    f"{kind}: the answers differ for {query.removeprefix(PREFIXES)}: "
                    + "; ".join(f"{name}: {difference(value, answers)}" for name, value in answers.items())
                )
            sizes += [size_of(value) for value in answers.values()]
        verdicts.append(f"{kind} {min(sizes)}–{max(sizes)}" if min(sizes) != max(sizes) else f"{kind} {sizes[0]}")
    return verdicts, problems


def difference(value: object, answers: dict[str, object]) -> str:
    """How one answer differs from the others: its size, and a few of its rows the others lack."""
    if not isinstance(value, (tuple, frozenset)):
        return str(value)[:300]
    others = set().union(*(set(a) for a in answers.values() if isinstance(a, (tuple, frozenset)) and a is not value))
    extra = [row for row in value if row not in others][:3]
    return f"{len(value)} rows/triples" + (f", e.g. {extra}" if extra else "")


def check_dereferencing(servers: list[Server], resources_: list[tuple[str, str]]) -> tuple[str, list[str]]:
    """policykg's Turtle document holds every triple of the resource's CONSTRUCT on oxigraph serve; HTML is HTML."""
    reference = next(server for server in servers if not server.is_policykg)
    checked = resources_[: CHECKED * len(DEREFERENCED)]
    problems = []
    for kind, iri in checked:
        expected = answer(reference, resource_construct(iri))
        if not isinstance(expected, frozenset) or not expected:
            problems.append(f"dereferencing {kind} {iri}: oxigraph serve's CONSTRUCT gave {str(expected)[:200]}")
            continue
        for server in (s for s in servers if s.is_policykg):
            url = server.base + "/" + iri.removeprefix(B)
            turtle = httpx.get(url, headers={"Accept": TURTLE}, follow_redirects=True, timeout=TIMEOUT)
            page = httpx.get(url, headers={"Accept": HTML}, follow_redirects=True, timeout=TIMEOUT)
            if turtle.status_code != 200 or not turtle.headers.get("content-type", "").startswith(TURTLE):
                problems.append(f"{server.name}: GET {iri} as Turtle: HTTP {turtle.status_code}")
            elif missing := expected - graph_key(turtle.content, ox.RdfFormat.TURTLE):
                problems.append(
                    f"{server.name}: GET {iri} as Turtle lacks {len(missing)} triples, e.g. {sorted(missing)[:2]}"
                )
            if page.status_code != 200 or not page.headers.get("content-type", "").startswith(HTML):
                problems.append(
                    f"{server.name}: GET {iri} as HTML: HTTP {page.status_code} {page.headers.get('content-type')}"
                )
    return (
        "Dereferencing: each policykg's Turtle document holds every triple of `oxigraph serve`'s CONSTRUCT, "
        "and its HTML page is text/html"
    ), problems


def check_pages(pages: list[Target]) -> tuple[str, list[str]]:
    """Each page once from every policykg system: a 200 of the expected media type; the sizes, for the report."""
    sizes: dict[str, list[int]] = {kind: [] for kind in PAGES}
    problems = []
    for target in pages:
        for read in target.reads:
            try:
                response = httpx.get(target.server.base + read.path, headers={"Accept": read.accept}, timeout=TIMEOUT)
            except httpx.HTTPError as error:
                problems.append(f"{target.name}: GET {read.path}: {type(error).__name__}")
                continue
            media_type = response.headers.get("content-type", "")
            if response.status_code != 200 or not media_type.startswith(PAGES[read.kind][2]):
                problems.append(f"{target.name}: GET {read.path}: HTTP {response.status_code} {media_type}")
            sizes[read.kind].append(len(response.content))
    described = ", ".join(
        f"{kind} {min(found):,}" + (f"–{max(found):,}" if max(found) != min(found) else "")
        for kind, found in sizes.items()
        if found
    )
    return f"Pages, bytes per answer: {described}", problems


def check_heavy(servers: list[Server], mix: list[tuple[str, str]], triples: int) -> tuple[list[str], list[str]]:
    """The first query of each heavy kind on every server, compared as backend_scale.py compares backends."""
    runs = []
    for server in servers:
        system = System(server.name, server.base + server.endpoint)
        check_answers(system, mix)
        runs.append(Run(server.name, triples, system=system))
    first = dict(reversed(mix))  # each kind's first query (reversed: the first one wins)
    verdicts = [agreement(kind, first[kind], runs) for kind in sorted(first)]
    return verdicts, [f"heavy {verdict}" for verdict in verdicts if "**" in verdict]


# --- the load ----------------------------------------------------------------------------------------------


async def drive(target: Target, clients: int, seconds: float, offset: int, tally: Tally) -> None:
    """Send the target's reads round-robin from `clients` concurrent clients for `seconds`.

    Into the tally go the answers, the errors, and the wall time and the CPU time of the server and of this
    client process from the first request until the last answer (not making the clients and closing them).
    """
    order = itertools.count(offset)
    reads = target.reads
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)

    async def client(http: httpx.AsyncClient, deadline: float) -> None:
        for _ in range(MAX_REQUESTS):
            if time.monotonic() >= deadline:
                return
            read = reads[next(order) % len(reads)]
            started = time.perf_counter()
            try:
                response = await http.get(read.path, params=read.params, headers={"Accept": read.accept})
                answered = response.status_code == 200 and response.is_stream_consumed  # the body read in full
            except httpx.HTTPError:
                answered = False
            if answered:
                tally.latencies.append(time.perf_counter() - started)
                tally.received += len(response.content)
            else:
                tally.errors += 1
                tally.error_kinds[read.kind] += 1

    pid = target.server.process.pid
    async with contextlib.AsyncExitStack() as stack:
        https = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=target.server.base, timeout=TIMEOUT, limits=limits, follow_redirects=True, verify=tls()
                )
            )
            for _ in range(clients)
        ]
        server_cpu, front_cpu = cpu_seconds(pid), front_cpu_seconds(pid)
        client_cpu, started = time.process_time(), time.perf_counter()
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(client(http, deadline) for http in https))
        tally.seconds += time.perf_counter() - started
        tally.client_cpu += time.process_time() - client_cpu
        tally.server_cpu += cpu_seconds(pid) - server_cpu
        tally.front_cpu += front_cpu_seconds(pid) - front_cpu


@functools.cache
def tls() -> ssl.SSLContext:
    """One TLS context for every client (none is used on plain HTTP, but each httpx client would make its own)."""
    return ssl.create_default_context()


def run_round(target: Target, clients: int, seconds: float, offset: int, tally: Tally) -> None:
    """One round against one target, with the worker starts, worker processes and CPU time it took."""
    server = target.server
    before = started_workers(server)
    watch = WorkerWatch(server.process.pid)
    if server.is_policykg:
        watch.start()
    try:
        asyncio.run(drive(target, clients, seconds, offset, tally))
    finally:
        if watch.is_alive():
            watch.stop()
    after = started_workers(server)
    tally.starts = None if tally.starts is None or before is None or after is None else tally.starts + after - before
    tally.workers_seen |= watch.seen
    tally.workers_new |= watch.seen - server.known_workers
    server.known_workers |= watch.seen
    if server.process.poll() is not None:
        raise RuntimeError(f"{server.name} exited with {server.process.returncode} during the run")


def interleaved(targets: list[Target], clients: int, seconds: float, rounds: int) -> dict[str, Tally]:
    """`rounds` short rounds per target, the targets taking turns (in a rotating order); the tallies summed."""
    tallies = {target.name: Tally() for target in targets}
    for number in range(rounds):
        shift = number % len(targets)
        for target in targets[shift:] + targets[:shift]:
            offset = number * len(target.reads) // rounds  # every target's round starts at the same read
            run_round(target, clients, seconds / rounds, offset, tallies[target.name])
    return tallies


def narrowed(targets: list[Target], kinds: Sequence[str]) -> list[Target]:
    """The targets with only their reads of the given kinds."""
    return [Target(t.name, t.server, [r for r in t.reads if r.kind in kinds]) for t in targets]


def by_kind(targets: list[Target], clients: int, seconds: float, rounds: int) -> dict[str, dict[str, Tally]]:
    """Each kind of read alone, interleaved across the targets: kind → target → tally."""
    kinds = list(dict.fromkeys(read.kind for read in targets[0].reads))
    return {kind: interleaved(narrowed(targets, [kind]), clients, seconds, rounds) for kind in kinds}


def warm_up(targets: list[Target], clients: int, seconds: float) -> None:
    """Run each target for a while, not counted; then note the query workers each server has."""
    for target in targets:
        asyncio.run(drive(target, clients, seconds, 0, Tally()))
    for target in targets:
        target.server.known_workers = query_workers(target.server.process.pid)


# --- the systems -------------------------------------------------------------------------------------------

OXIGRAPH = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or "oxigraph"


def start_policykg(name: str, engine: Engine, log: Path) -> Server:
    """`policykg serve` (backend_scale.py's: query workers at their default) over the engine's store."""
    process, base = serve(engine, log, TIMEOUT)
    return Server(name, base, "/sparql", process, is_policykg=True)


def start_oxigraph(location: Path, log: Path) -> tuple[Server, float]:
    """`oxigraph serve --union-default-graph` over a loaded store; then the model over HTTP (its seconds).

    Without --timeout-s: with it, `oxigraph serve` 0.5 keeps a thread per query for the whole limit, and at a
    thousand cheap queries a second it reaches the kernel's vm.max_map_count and aborts (SIGABRT).
    """
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [OXIGRAPH, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/query", process)
        seconds = add_model(RemoteStore(base + "/query", update_url=base + "/update", store_url=base + "/store"))
    except BaseException:
        stop(process)
        raise
    return Server("oxigraph serve", base, "/query", process, is_policykg=False), seconds


def git(*arguments: str) -> str:
    """Run git in the repository (read-only uses, and the worktree of --previous); return its output."""
    return subprocess.run(
        ["git", "-C", str(ROOT), "--no-optional-locks", *arguments], check=True, capture_output=True, text=True
    ).stdout.strip()


def revision_label(revision: str | None) -> str:
    """A revision as the report names it: the short commit, or the working tree and whether src/ has changes."""
    if revision is not None:
        return f"{revision} ({git('rev-parse', '--short', revision + '^{commit}')})"
    changed = " + uncommitted changes in src/" if git("status", "--porcelain", "--", "src") else ""
    return f"the working tree (HEAD {git('rev-parse', '--short', 'HEAD')}{changed})"


def check_previous(revision: str) -> None:
    """Refuse a revision that is not a commit, or whose policykg.cli cannot run with `python -m`."""
    try:
        git("rev-parse", "--verify", "--quiet", revision + "^{commit}")
    except subprocess.CalledProcessError:
        raise SystemExit(f"--previous {revision}: not a commit") from None
    for path in ("src/policykg/cli/__main__.py", "src/policykg/cli.py"):  # the command as a package, or before
        try:
            cli = git("show", f"{revision}:{path}")
        except subprocess.CalledProcessError:
            continue
        if 'if __name__ == "__main__":' in cli:
            return
    raise SystemExit(f"--previous {revision}: its policykg.cli does not run as `python -m policykg.cli`")


def add_worktree(revision: str, folder: Path) -> dict[str, str]:
    """Check out the revision in a detached worktree; return the environment that makes Python import it."""
    git("worktree", "add", "--detach", "--quiet", str(folder), revision)
    environment = {"PYTHONPATH": str(folder / "src")}
    imported = subprocess.run(
        [sys.executable, "-c", "import policykg; print(policykg.__file__)"],
        cwd=ROOT,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if not imported.startswith(str(folder)):
        raise SystemExit(f"--previous: Python imports policykg from {imported.strip()}, not from {folder}")
    return environment


def remove_worktree(folder: Path) -> None:
    """Remove the worktree of --previous and git's note of it; say so if git cannot."""
    try:
        git("worktree", "remove", "--force", str(folder))
    except subprocess.CalledProcessError as error:
        print(f"could not remove the worktree {folder}: {error.stderr}", file=sys.stderr)


# --- one size ----------------------------------------------------------------------------------------------


@dataclass
class Measured:
    """Everything measured at one size, for the report."""

    triples: int
    names: list[str] = field(default_factory=list)  # the systems: policykg, [previous], oxigraph serve
    loads: dict[str, float] = field(default_factory=dict)
    load_average: list[float] = field(default_factory=list)
    mix_size: int = 0
    cheap: dict[int, dict[str, Tally]] = field(default_factory=dict)
    kinds: dict[str, dict[str, Tally]] = field(default_factory=dict)
    kinds_clients: int = 0
    heavy: dict[int, dict[str, Tally]] = field(default_factory=dict)
    dereferencing: dict[int, dict[str, Tally]] = field(default_factory=dict)
    pages: dict[tuple[int, str], dict[str, Tally]] = field(default_factory=dict)  # (clients, kind) → system → tally
    verdicts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def measure_size(triples: int, args: argparse.Namespace, log: Path) -> Measured:
    """Load, serve, check and drive every system at one size; stop and remove everything started."""
    measured = Measured(triples)
    data = synthetic_data(triples)
    found = resources(data)
    work = Path(tempfile.mkdtemp(prefix=f"read-path-{triples}-", dir=WORK))
    servers: list[Server] = []
    worktree = work / "previous-src"
    try:
        print(f"{triples:,} triples: loading", file=sys.stderr, flush=True)
        store, location = work / "policykg-store", work / "oxigraph-store"
        measured.loads["policykg"] = timed(
            [sys.executable, "-m", "policykg.cli", "load", str(data), "--store", str(store)], log, (store,)
        )
        if args.previous:
            shutil.copytree(store, work / "previous-store")
        measured.loads["oxigraph serve"] = timed(
            [OXIGRAPH, "load", "--location", str(location), "--file", str(data)], log, (location,)
        ) + timed([OXIGRAPH, "optimize", "--location", str(location)], log, ())
        servers.append(start_policykg("policykg", Engine({"POLICYKG_STORE": str(store)}), log))
        if args.previous:
            environment = add_worktree(args.previous, worktree)
            servers.append(
                start_policykg(
                    f"policykg {args.previous}",
                    Engine({"POLICYKG_STORE": str(work / "previous-store"), **environment}),
                    log,
                )
            )
        oxigraph, model_seconds = start_oxigraph(location, log)
        servers.append(oxigraph)
        measured.loads["oxigraph serve"] += model_seconds
        measured.names = [server.name for server in servers]
        drive_all(servers, found, args, measured)
    finally:
        for server in servers:
            stop(server.process)
        if worktree.exists():
            remove_worktree(worktree)
        shutil.rmtree(work, ignore_errors=True)
    return measured


def drive_all(servers: list[Server], found: dict[str, list[str]], args: argparse.Namespace, measured: Measured) -> None:
    """Check the answers, warm up, then the cheap mix, each cheap kind alone, the heavy mix, dereferencing, pages."""
    mix, heavy_mix = cheap_mix(found, args.iris), queries(measured.triples)
    resources_ = dereferenced(found, args.iris)
    pages = [] if args.no_pages else page_targets(servers)
    measured.mix_size = len(mix)
    print("  checking the answers", file=sys.stderr, flush=True)
    cheap_verdicts, cheap_problems = check_cheap(servers, mix)
    dereferencing_verdict, dereferencing_problems = check_dereferencing(servers, resources_)
    heavy_verdicts, heavy_problems = check_heavy(servers, heavy_mix, measured.triples)
    measured.verdicts = [
        "Rows (triples for construct) per cheap answer: " + ", ".join(cheap_verdicts),
        dereferencing_verdict,
        "Heavy mix: " + "; ".join(heavy_verdicts),
    ]
    measured.problems = cheap_problems + dereferencing_problems + heavy_problems
    if pages:
        pages_verdict, pages_problems = check_pages(pages)
        measured.verdicts.append(pages_verdict)
        measured.problems += pages_problems
    for problem in measured.problems:
        print(f"  ANSWERS DIFFER: {problem}", file=sys.stderr, flush=True)

    cheap = [Target(server.name, server, sparql_reads(server, mix)) for server in servers]
    heavy = [Target(server.name, server, sparql_reads(server, heavy_mix)) for server in servers]
    reading = dereference_targets(servers, resources_)
    settle(servers)
    warm_up(cheap, min(4, max(args.clients)), args.warm_up)
    warm_up(reading, 1, args.warm_up / 2)
    warm_up(narrowed(pages, [kind for kind in PAGES if kind != DUMP]), 1, args.warm_up / 2)
    measured.load_average.append(os.getloadavg()[0])
    for clients in args.clients:
        print(f"  cheap mix, {clients} clients", file=sys.stderr, flush=True)
        measured.cheap[clients] = interleaved(cheap, clients, args.seconds, args.rounds)
    measured.kinds_clients = max(args.clients)
    print(f"  each cheap kind alone, {measured.kinds_clients} clients", file=sys.stderr, flush=True)
    measured.kinds = by_kind(cheap, measured.kinds_clients, args.kind_seconds, args.rounds)
    for clients in args.heavy_clients:
        print(f"  heavy mix, {clients} clients", file=sys.stderr, flush=True)
        measured.heavy[clients] = interleaved(heavy, clients, args.heavy_seconds, args.rounds)
    for clients in args.dereference_clients:
        print(f"  dereferencing, {clients} clients", file=sys.stderr, flush=True)
        measured.dereferencing[clients] = interleaved(reading, clients, args.dereference_seconds, args.rounds)
    for clients, kind in page_plan(args.dereference_clients) if pages else []:
        print(f"  pages: {kind}, {clients} clients", file=sys.stderr, flush=True)
        measured.pages[clients, kind] = interleaved(narrowed(pages, [kind]), clients, args.pages_seconds, args.rounds)
    measured.load_average.append(os.getloadavg()[0])


# --- the report --------------------------------------------------------------------------------------------


def errors(tally: Tally) -> str:
    """How many requests failed, and of which kinds."""
    kinds = ", ".join(f"{kind} {count}" for kind, count in tally.error_kinds.most_common())
    return f"{tally.errors} ({kinds})" if tally.errors else "0"


def figures(tally: Tally, *quantiles: float) -> str:
    """Table cells: the answers, q/s, the latency at each quantile (ms), the errors."""
    return " | ".join(
        [
            f"{len(tally.latencies):,}",
            f"{tally.rate:,.1f}",
            *(f"{percentile(tally.latencies, quantile):,.2f}" for quantile in quantiles),
            errors(tally),
        ]
    )


def ratio(value: float, reference: float) -> str:
    """value ÷ reference, or a dash when either is missing."""
    return f"{value / reference:.2f}" if reference and math.isfinite(reference) and math.isfinite(value) else "–"


def workers(tally: Tally, server_is_policykg: bool) -> tuple[str, str]:
    """The worker starts /ready reported, and the worker processes seen in /proc (how many new)."""
    if not server_is_policykg:
        return "–", "–"
    starts = "n/a" if tally.starts is None else str(tally.starts)
    return starts, f"{len(tally.workers_seen)} ({len(tally.workers_new)} new)"


def per_answer(seconds: float, tally: Tally) -> str:
    """CPU seconds as milliseconds per answer."""
    return f"{seconds * 1000 / max(1, len(tally.latencies)):,.2f}"


def load_table(rows: dict[int, dict[str, Tally]], measured: Measured) -> list[str]:
    """Per client count and system: throughput, latency, errors, ratio, worker starts, CPU."""
    lines = [
        (
            "| clients | system | answers | q/s | p50 (ms) | p95 (ms) | p99 (ms) | errors | ÷ oxigraph serve "
            "| worker starts (/ready) | worker processes seen (/proc) | server CPU per answer (ms) "
            "| of which the front process (ms) | client CPU per answer (ms) | client CPU (% of a core) |"
        ),
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for clients, tallies in rows.items():
        reference = tallies["oxigraph serve"].rate
        for name in measured.names:
            tally = tallies[name]
            starts, seen = workers(tally, name != "oxigraph serve")
            lines.append(
                f"| {clients} | {name} | {figures(tally, 0.5, 0.95, 0.99)} | {ratio(tally.rate, reference)} | "
                f"{starts} | {seen} | {per_answer(tally.server_cpu, tally)} | {per_answer(tally.front_cpu, tally)} | "
                f"{per_answer(tally.client_cpu, tally)} | "
                f"{tally.client_cpu * 100 / tally.seconds if tally.seconds else float('nan'):.0f} |"
            )
    return lines


def kinds_table(measured: Measured) -> list[str]:
    """Each cheap kind alone: q/s per system, the ratios to oxigraph serve, and their geometric mean."""
    ours = [name for name in measured.names if name != "oxigraph serve"]
    lines = [
        "| kind | "
        + " | ".join(f"{name} q/s" for name in measured.names)
        + " | "
        + " | ".join(f"{name} ÷ oxigraph serve" for name in ours)
        + " |",
        "|---|" + "---:|" * (len(measured.names) + len(ours)),
    ]
    ratios: dict[str, list[float]] = {name: [] for name in ours}
    for kind, tallies in measured.kinds.items():
        reference = tallies["oxigraph serve"].rate
        for name in ours:
            if tallies[name].rate > 0 and reference > 0:
                ratios[name].append(tallies[name].rate / reference)
        lines.append(
            f"| {kind} | "
            + " | ".join(f"{tallies[name].rate:,.1f}" for name in measured.names)
            + " | "
            + " | ".join(ratio(tallies[name].rate, reference) for name in ours)
            + " |"
        )
    means = [f"**{statistics.geometric_mean(ratios[name]):.2f}**" if ratios[name] else "–" for name in ours]
    lines.append(
        "| *geometric mean of the kinds* | " + " | ".join("" for _ in measured.names) + " | " + " | ".join(means) + " |"
    )
    return lines


def dereferencing_table(measured: Measured) -> list[str]:
    """Per client count: each way of reading one resource, against oxigraph serve's CONSTRUCT."""
    lines = [
        "| clients | request | answers | q/s | p50 (ms) | p95 (ms) | errors | ÷ oxigraph serve's CONSTRUCT |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for clients, tallies in measured.dereferencing.items():
        reference = next(tally.rate for name, tally in tallies.items() if name.startswith("oxigraph serve"))
        for name, tally in tallies.items():
            lines.append(f"| {clients} | {name} | {figures(tally, 0.5, 0.95)} | {ratio(tally.rate, reference)} |")
    return lines


def pages_table(measured: Measured) -> list[str]:
    """Per page and client count, each policykg system; with --previous, its q/s ÷ the previous revision's."""
    ours = [name for name in measured.names if name != "oxigraph serve"]
    previous = ours[1] if len(ours) > 1 else None
    versus = f" q/s ÷ {previous} |" if previous else ""
    lines = [
        "| request | clients | system | answers | q/s | p50 (ms) | p95 (ms) | errors | MB/s |" + versus,
        "|---|---:|---|---:|---:|---:|---:|---:|---:|" + ("---:|" if previous else ""),
    ]
    for (clients, kind), tallies in sorted(
        measured.pages.items(), key=lambda item: (list(PAGES).index(item[0][1]), item[0][0])
    ):
        for name, tally in tallies.items():
            compared = f" {ratio(tally.rate, tallies[previous].rate)} |" if previous else ""
            lines.append(
                f"| {kind} | {clients} | {name} | {figures(tally, 0.5, 0.95)} | {tally.megabytes:,.2f} |" + compared
            )
    return lines


def settings(runs: list[Measured], args: argparse.Namespace, load_average: list[float]) -> str:
    """The paragraph that says how the figures were made."""
    previous = f"; `policykg serve` of {revision_label(args.previous)}" if args.previous else ""
    pages = (
        ""
        if args.no_pages
        else (
            f" Pages, policykg only: {', '.join(PAGES)}, each kind alone, {args.pages_seconds:g} s per system, kind "
            f"and client count, at the dereferencing counts (the dump at {DUMP_CLIENTS} clients at the most); MB/s: "
            "the bytes of the bodies as read (the dump as sent, gzip-compressed)."
        )
    )
    return (
        f"Machine: {machine()}; 1-minute load average {load_average[0]:.1f} before the run and {load_average[1]:.1f} "
        f"after it (other work may share the machine). Systems: `policykg serve` of {revision_label(None)}, query "
        f"workers at their default{previous}; `oxigraph serve --union-default-graph` (the `oxigraph` command of the "
        "bench extra) over `oxigraph load` + `oxigraph optimize` of the same file, plus the model over HTTP, so that "
        f"all hold the same quads. Each on a loopback port; policykg's query time limit {TIMEOUT} s, `oxigraph serve` "
        "without one (its --timeout-s keeps a thread per query for the whole limit, and at these rates it aborts "
        "when the threads' memory maps reach vm.max_map_count). One client process on the same cores: asyncio, each "
        "concurrent client its own keep-alive `httpx.AsyncClient`; SPARQL as GET with `query=` and `Accept: "
        "application/sparql-results+json` (CONSTRUCT: `application/n-triples`); a 200 with the whole body read "
        "counts as an answer, anything else as an error. Interleaved: per client count, "
        f"{args.rounds} rounds per system in turn (in a rotating order), summed. Cheap mix: {len(CHEAP)} kinds "
        f"({', '.join(CHEAP)}), each over up to {args.iris:,} generated IRIs, round-robin, {args.seconds:g} s per "
        f"system and client count; each kind alone {args.kind_seconds:g} s at the highest count. Heavy mix: the "
        f"{len(queries(runs[0].triples))} queries of sparql_throughput.py, {args.heavy_seconds:g} s. Dereferencing: "
        "GET /id/… of events, recommendations and organisations, following the 303 to the document (a description "
        f"with the links in, labels and provenance), {args.dereference_seconds:g} s per request kind; the reference "
        f"is the resource's `CONSTRUCT {{ <iri> ?p ?o }}` as Turtle.{pages} Timing begins once each policykg "
        "that merges its store's files once writes pause has done so (GET /ready). Worker starts: "
        "`query_workers.started` of GET /ready before and after each round (n/a: not reported); worker processes: "
        "the service's children started by multiprocessing, seen in /proc every 20 ms, and how many of them were "
        "new. Server CPU: the process, its children alive and ended (/proc), per answer; the front process: the "
        "server's own process alone (policykg: HTTP and the pool's parent side, without the query workers). Client "
        "CPU near 100 % of a core: the client, not the server, set the pace; the client's and the server's CPU per "
        "answer added up, against the two cores, bound the rate when neither is saturated alone."
    )


def report(runs: list[Measured], args: argparse.Namespace, load_average: list[float]) -> str:
    """The section: how it was measured, then per size the answers check and the tables (pages: if measured)."""
    sizes = " and ".join(f"{run.triples:,}" for run in runs)
    lines = [
        f"### Cheap reads next to `oxigraph serve`, {sizes} generated triples ({time.strftime('%Y-%m-%d')})",
        "",
        settings(runs, args, load_average),
    ]
    for run in runs:
        loads = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in run.loads.items())
        agreed = "**they differ**: " + "; ".join(run.problems) if run.problems else "all the same"
        lines += [
            "",
            f"#### {run.triples:,} triples",
            "",
            f"Load: {loads}. 1-minute load average {run.load_average[0]:.1f} when the timing began, "
            f"{run.load_average[-1]:.1f} at its end. Answers compared before timing ({CHECKED} queries per cheap kind, "
            f"each heavy kind's first query, {CHECKED * len(DEREFERENCED)} resources): {agreed}. "
            + ". ".join(run.verdicts)
            + ".",
            "",
            f"Cheap mix ({run.mix_size:,} queries):",
            "",
            *load_table(run.cheap, run),
            "",
            f"Each cheap kind alone, {run.kinds_clients} clients:",
            "",
            *kinds_table(run),
            "",
            "Heavy mix:",
            "",
            *load_table(run.heavy, run),
            "",
            "Dereferencing:",
            "",
            *dereferencing_table(run),
        ]
        if run.pages:
            lines += ["", "Pages:", "", *pages_table(run)]
    return "\n".join([*lines, ""])


def main() -> int:
    """Measure every size, print the section (and append it to RESULTS.md if asked); 1 if answers differed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, nargs="+", default=[200_000, 1_000_000], help="sizes of generated graph")
    parser.add_argument(
        "--clients", type=int, nargs="+", default=[1, 2, 4, 8, 32], help="concurrent clients, cheap mix"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="cheap mix: time per system and client count")
    parser.add_argument(
        "--kind-seconds", type=float, help="each cheap kind alone: time per system (default: seconds / 2)"
    )
    parser.add_argument("--heavy-clients", type=int, nargs="+", default=[1, 8], help="concurrent clients, heavy mix")
    parser.add_argument(
        "--heavy-seconds", type=float, help="heavy mix: time per system and client count (default: seconds)"
    )
    parser.add_argument(
        "--dereference-clients",
        type=int,
        nargs="+",
        help="concurrent clients, dereferencing (default: --clients among 1, 8, 32, else --clients)",
    )
    parser.add_argument(
        "--dereference-seconds", type=float, help="dereferencing: time per request kind (default: seconds)"
    )
    parser.add_argument(
        "--pages-seconds",
        type=float,
        help="pages: time per system, kind and client count (default: --dereference-seconds)",
    )
    parser.add_argument("--no-pages", action="store_true", help="skip the pages phase")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per system and client count")
    parser.add_argument("--iris", type=int, default=2000, help="generated IRIs per kind of cheap query")
    parser.add_argument("--warm-up", type=float, default=2.0, help="seconds per system before timing, not counted")
    parser.add_argument("--previous", metavar="REV", help="also policykg at this git revision (e.g. HEAD~3)")
    parser.add_argument("--results", action="store_true", help="append the section to benchmarks/RESULTS.md")
    args = parser.parse_args()
    args.kind_seconds = args.kind_seconds or args.seconds / 2
    args.heavy_seconds = args.heavy_seconds or args.seconds
    args.dereference_seconds = args.dereference_seconds or args.seconds
    args.pages_seconds = args.pages_seconds or args.dereference_seconds
    args.dereference_clients = args.dereference_clients or [n for n in args.clients if n in (1, 8, 32)] or args.clients
    if args.previous:
        check_previous(args.previous)

    WORK.mkdir(exist_ok=True)
    log = WORK / "read-path.log"  # the servers' and loaders' output, of this run only
    log.unlink(missing_ok=True)
    load_average = [os.getloadavg()[0]]
    runs = [measure_size(triples, args, log) for triples in sorted(args.triples)]
    load_average.append(os.getloadavg()[0])
    failed = any(run.problems for run in runs)
    publish(report(runs, args, load_average), args.results and not failed)
    if failed:
        print(
            "the systems' answers differed: the run failed" + (", not added to RESULTS.md" if args.results else ""),
            file=sys.stderr,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
