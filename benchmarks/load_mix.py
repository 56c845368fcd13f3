"""A realistic mix of requests from concurrent clients against `policykg serve`, then an audit of every entry.

One command:  .venv/bin/python benchmarks/load_mix.py --triples 1000000 --results

It builds once an on-disk store of the model plus the generated graph (benchmarks/.work/load-mix-store-N,
kept), copies it for the run (a RocksDB checkpoint, benchmarks/.work/load-mix-run-N), and serves the copy
with a write token on 127.0.0.1, query workers at their default. After a warm-up (each kind of request once,
then until the service has written its first dump files, as one that has run a while has), 32 clients
(asyncio + httpx) send requests for 60 s (and at most --max-requests): SPARQL queries of the competency kinds
(sparql_throughput.queries), resources of the generated world dereferenced in every syntax (/id/… → 303 →
/doc/…), the VoID, DCAT and LDES documents, the gzipped dump (mostly revalidated with If-None-Match, now and
then downloaded whole, one download at a time), and entries: valid ones (new conferences with their
recommendations, entry_latency.entry), and invalid ones that must be refused with 422 and a report. It prints
throughput and p50/p95/p99 latency per kind, and the errors: a server error is any 5xx or transport error;
any other answer than the expected one counts as unexpected. Afterwards it audits the store
(tests/consistency.py): every entry acknowledged with 201 is there exactly once, whole, with its record,
no invalid one is, and the change stream lists each exactly once. With --results it appends the tables to
benchmarks/RESULTS.md. Every target must be a loopback address: --url refuses any other.
"""

import argparse
import asyncio
import ipaddress
import json
import os
import random
import shutil
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pyoxigraph as ox

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from conftest import start_service, stop
from consistency import Submission, audit_change_stream, audit_entries, meeting_entry, select, submission
from entry_latency import entry as conference_entry
from sparql_throughput import machine, percentile, publish, queries, synthetic_data
from threads import thread_cpu
from worker_scaling import build_store

from policykg.web.documents import DOCUMENTS

B = "http://localhost:8000/"
PKG = "https://w3id.org/policykg/ontology#"
TOKEN = "load-mix-token-for-writes"
WORK = HERE / ".work"
SRJ = {"Accept": "application/sparql-results+json"}
TURTLE = {"Accept": "text/turtle"}
OK, UNEXPECTED, SERVER = "ok", "unexpected", "server error"
WAIT_FOR_DUMPS = 300  # seconds the warm-up waits for the service's first dump files
Verdict = tuple[str, int, str]  # (OK | UNEXPECTED | SERVER, the last status (0: none), what was wrong)


@dataclass
class Tally:
    """Per kind of request: latencies, verdicts, and the first few things that went wrong."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    verdicts: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    notes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, kind: str, seconds: float, verdict: Verdict) -> None:
        category, status, note = verdict
        self.latencies[kind].append(seconds)
        self.verdicts[kind][category] += 1
        if 400 <= status < 500:
            self.verdicts[kind]["4xx"] += 1
        if category != OK and len(self.notes[kind]) < 3 and note not in self.notes[kind]:
            self.notes[kind].append(note)


@dataclass
class Mix:
    """What the clients share: the service, the generated world's size, the entries sent, one dump at a time."""

    url: str
    token: str
    triples: int
    conferences: int
    submissions: list[Submission] = field(default_factory=list)
    revalidations: Counter[int] = field(default_factory=Counter)  # status of each conditional GET of the dump
    whole_dump: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))

    @property
    def scale(self) -> int:
        return max(1, self.triples // 20_000)  # as policykg.model.synthetic sizes its world

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def status_verdict(response: httpx.Response, expected: int) -> Verdict:
    """OK for the expected status, a server error for a 5xx, unexpected otherwise."""
    status = response.status_code
    if status == expected:
        return OK, status, ""
    category = SERVER if status >= 500 else UNEXPECTED
    return category, status, f"{status} {response.request.method} {response.request.url.path}: {response.text[:160]}"


async def sparql(mix: Mix, http: httpx.AsyncClient, rng: random.Random, query: str) -> Verdict:
    response = await http.get(mix.url + "/sparql", params={"query": query}, headers=SRJ)
    verdict = status_verdict(response, 200)
    if verdict[0] == OK and "results" not in response.json():
        return UNEXPECTED, 200, "a SELECT answer without results"
    return verdict


def resource_path(mix: Mix, rng: random.Random) -> str:
    """A resource of the generated world (policykg.model.synthetic): a concept, organisation, person, city, event
    or recommendation."""
    scale, conference = mix.scale, rng.randrange(mix.conferences)
    return rng.choice(
        [
            f"concept/gen-{rng.randrange(40 * scale)}",
            f"org/gen-{rng.randrange(60 * scale)}",
            f"person/gen-{rng.randrange(150 * scale)}",
            f"place/gen-city-{rng.randrange(20 * scale)}",
            f"event/gen-conference-{conference}",
            f"recommendation/gen-{conference}-1",
        ]
    )


async def dereference(mix: Mix, http: httpx.AsyncClient, rng: random.Random, ending: str) -> Verdict:
    """GET /id/… (303 to the document in the syntax asked for), then that document."""
    media_type = DOCUMENTS[ending]
    found = await http.get(f"{mix.url}/id/{resource_path(mix, rng)}", headers={"Accept": media_type})
    verdict = status_verdict(found, 303)
    if verdict[0] != OK:
        return verdict
    location = found.headers["location"]
    if not location.endswith("." + ending):
        return UNEXPECTED, 303, f"303 to {location} for {media_type}"
    document = await http.get(mix.url + location, headers={"Accept": media_type})
    verdict = status_verdict(document, 200)
    if verdict[0] == OK and not (document.headers["content-type"].startswith(media_type) and document.content):
        return UNEXPECTED, 200, f"{location}: {document.headers['content-type']}, {len(document.content)} bytes"
    return verdict


async def document(mix: Mix, http: httpx.AsyncClient, rng: random.Random, path: str) -> Verdict:
    """A document of the catalogue or the change stream, in Turtle."""
    response = await http.get(mix.url + path, headers=TURTLE)
    verdict = status_verdict(response, 200)
    if verdict[0] == OK and not response.headers["content-type"].startswith("text/turtle"):
        return UNEXPECTED, 200, f"{path}: {response.headers['content-type']}"
    return verdict


async def read_dump(response: httpx.Response) -> Verdict:
    """Read a dump to its end: a gzip stream of some length (a cut-off chunked answer raises)."""
    size, start = 0, b""
    async for chunk in response.aiter_raw():
        start = start or chunk[:2]
        size += len(chunk)
    return (OK, 200, "") if start == b"\x1f\x8b" and size > 1000 else (UNEXPECTED, 200, f"a dump of {size} bytes")


async def revalidated_dump(mix: Mix, http: httpx.AsyncClient, rng: random.Random) -> Verdict:
    """HEAD for the ETag, then GET with If-None-Match: 304, or the whole dump if a write came in between."""
    head = await http.head(mix.url + "/dumps/policykg.nq.gz")
    verdict = status_verdict(head, 200)
    if verdict[0] != OK:
        return verdict
    async with http.stream(
        "GET", mix.url + "/dumps/policykg.nq.gz", headers={"If-None-Match": head.headers["etag"]}
    ) as response:
        mix.revalidations[response.status_code] += 1
        if response.status_code == 200:
            return await read_dump(response)
        await response.aread()
        return status_verdict(response, 304)


async def whole_dump(mix: Mix, http: httpx.AsyncClient, rng: random.Random) -> Verdict:
    """Download the whole gzipped dump (one client at a time; the others revalidate meanwhile)."""
    if mix.whole_dump.locked():
        return await revalidated_dump(mix, http, rng)
    async with mix.whole_dump, http.stream("GET", mix.url + "/dumps/policykg.nq.gz") as response:
        if response.status_code != 200:
            await response.aread()
            return status_verdict(response, 200)
        return await read_dump(response)


async def valid_entry(mix: Mix, http: httpx.AsyncClient, rng: random.Random) -> Verdict:
    """A new conference with 1 to 8 recommendations on generated concepts: 201, noted for the audit."""
    body = conference_entry(f"mix-{uuid.uuid4().hex}", rng.randint(1, 8), B, rng, 40 * mix.scale)
    sent = submission(body, B)
    mix.submissions.append(sent)
    response = await http.post(
        mix.url + "/entries", content=body.encode("utf-8"), headers={"Content-Type": "text/turtle", **mix.auth()}
    )
    if response.status_code == 201:
        sent.entry = response.json()["entry"]
    return status_verdict(response, 201)


async def invalid_entry(mix: Mix, http: httpx.AsyncClient, rng: random.Random, body: str) -> Verdict:
    """An entry the shapes refuse: 422 with a report that names at least one violation."""
    mix.submissions.append(submission(body, B, valid=False))
    response = await http.post(
        mix.url + "/entries", content=body.encode("utf-8"), headers={"Content-Type": "text/turtle", **mix.auth()}
    )
    verdict = status_verdict(response, 422)
    if verdict[0] == OK and not any(r["severity"] == "Violation" for r in response.json().get("results", [])):
        return UNEXPECTED, 422, f"422 without a violation in its report: {response.text[:160]}"
    return verdict


def without_full_text(rng: random.Random, mix: Mix) -> str:
    """A new conference whose recommendations lack their full text (pkg:fullText is required)."""
    body = conference_entry(f"mix-{uuid.uuid4().hex}", rng.randint(1, 3), B, rng, 40 * mix.scale)
    return body.replace('pkg:fullText "Do it."@en ;', "")


Action = Callable[[Mix, httpx.AsyncClient, random.Random], Awaitable[Verdict]]


def kinds(triples: int) -> list[tuple[str, float, Action]]:
    """The mix: (kind, weight, action). The SPARQL kinds share their weight, as do the syntaxes."""
    mix: list[tuple[str, float, Action]] = []
    by_kind: dict[str, list[str]] = defaultdict(list)
    for name, query in queries(triples):
        by_kind[name].append(query)
    for name, texts in by_kind.items():
        mix.append((f"sparql {name}", 30 / len(by_kind), lambda m, h, r, texts=texts: sparql(m, h, r, r.choice(texts))))
    for ending in DOCUMENTS:
        mix.append(
            (f"resource as .{ending}", 35 / len(DOCUMENTS), lambda m, h, r, ending=ending: dereference(m, h, r, ending))
        )
    for kind, path in (
        ("VoID", "/.well-known/void"),
        ("DCAT catalogue", "/catalog"),
        ("LDES stream", "/ldes"),
        ("LDES root page", "/ldes/0"),
    ):
        mix.append((kind, 2.5, lambda m, h, r, path=path: document(m, h, r, path)))
    mix += [
        ("dump .nq.gz, If-None-Match", 3, revalidated_dump),
        ("dump .nq.gz, whole", 0.5, whole_dump),
        ("entry, valid", 15, valid_entry),
        ("entry, invalid: no full text", 3, lambda m, h, r: invalid_entry(m, h, r, without_full_text(r, m))),
        ("entry, invalid: number taken", 3, lambda m, h, r: invalid_entry(m, h, r, meeting_entry(B, 11))),
    ]
    return mix


async def client(
    mix: Mix,
    tally: Tally,
    menu: list[tuple[str, float, Action]],
    http: httpx.AsyncClient,
    rng: random.Random,
    deadline: float,
    budget: list[int],
) -> None:
    """Send requests of kinds drawn by weight until the deadline or until the budget of requests is spent."""
    weights = [weight for _, weight, _ in menu]
    while time.monotonic() < deadline and budget[0] > 0:
        budget[0] -= 1
        kind, _, action = rng.choices(menu, weights)[0]
        started = time.perf_counter()
        try:
            verdict = await action(mix, http, rng)
        except httpx.HTTPError as error:
            verdict = SERVER, 0, f"transport error: {type(error).__name__}: {error}"
        tally.add(kind, time.perf_counter() - started, verdict)


async def drive(mix: Mix, clients: int, seconds: float, max_requests: int, seed: int) -> tuple[Tally, float]:
    """Run the clients; return the tally and the seconds until the last one finished."""
    tally, menu, budget = Tally(), kinds(mix.triples), [max_requests]
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        await asyncio.gather(
            *(
                client(mix, tally, menu, http, random.Random(seed * 1000 + n), started + seconds, budget)
                for n in range(clients)
            )
        )
    return tally, time.monotonic() - started


async def warm_up(mix: Mix, seed: int) -> list[str]:
    """Send each kind of request once (not counted), then wait for the first dump files; return what went wrong."""
    rng, wrong = random.Random(seed), []
    async with httpx.AsyncClient(timeout=300) as http:
        for kind, _, action in kinds(mix.triples):
            verdict = await action(mix, http, rng)
            if verdict[0] != OK:
                wrong.append(f"{kind}: {verdict[2]}")
        # A service that has run a while has its dump files: until the first are written (seconds at 1M),
        # each download is made from the store as it is read. Measured as in that steady state, not its first minute.
        until = time.monotonic() + WAIT_FOR_DUMPS
        while time.monotonic() < until:
            ready = (await http.get(mix.url + "/ready")).json()
            if ready.get("derived", {}).get("dumps", {}).get("makings", 0) >= 1:
                break
            await asyncio.sleep(0.5)
        else:
            wrong.append(f"the first dump files were not written within {WAIT_FOR_DUMPS} s")
    return wrong


def require_loopback(url: str) -> str:
    """The URL, if its host is a loopback address (or localhost); refuse any other target."""
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SystemExit(f"refused: {url} is not a loopback address; this script only loads services on this machine")
    return url.rstrip("/")


def run_copy(triples: int) -> Path:
    """A fresh copy (checkpoint) of the built store, which is made once and kept."""
    pristine, built = WORK / f"load-mix-store-{triples}", WORK / f"load-mix-store-{triples}.built"
    if not built.exists():
        shutil.rmtree(pristine, ignore_errors=True)
        build_store(pristine, synthetic_data(triples))
        built.touch()
    run = WORK / f"load-mix-run-{triples}"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    ox.Store(str(pristine)).backup(str(run / "store"))
    return run


def conferences(url: str) -> int:
    """How many conferences the generator made (gen-conference-0 … n-1)."""
    rows = select(
        url,
        f"SELECT (COUNT(?c) AS ?n) WHERE {{ ?c a <{PKG}Conference> "
        f'FILTER(STRSTARTS(STR(?c), "{B}id/event/gen-conference-")) }}',
    )
    return int(rows[0][0].value)  # type: ignore[union-attr]


def audit(mix: Mix, earlier: frozenset[str]) -> tuple[list[str], int]:
    """The audits of the entries and the change stream after the run; return the problems and the entries seen."""
    entries = audit_entries(mix.url, B, mix.submissions, earlier)
    return entries.problems + audit_change_stream(mix.url, B, set(entries.entries)), len(entries.entries)


def report(
    tally: Tally,
    elapsed: float,
    args: argparse.Namespace,
    mix: Mix,
    problems: list[str],
    stored: int,
    load: tuple[float, float],
    logged: str,
    used: dict[str, float],
) -> str:
    """The tables: per kind, then where the CPU went, then the audit."""
    total = sum(len(v) for v in tally.latencies.values())
    all_latencies = [s for values in tally.latencies.values() for s in values]
    servers = sum(v.get(SERVER, 0) for v in tally.verdicts.values())
    unexpected = sum(v.get(UNEXPECTED, 0) for v in tally.verdicts.values())
    valid = [s for s in mix.submissions if s.valid]
    lines = [
        f"### Load mix: {args.clients} clients for {args.seconds:g} s, {args.triples:,}-triple store "
        f"({time.strftime('%Y-%m-%d')})",
        "",
        f"Machine: {machine()}; the clients run on it too. 1-minute load average {load[0]:.2f} before, {load[1]:.2f} "
        "after (other work shares the machine). `policykg serve` over a copy of an on-disk store of the model plus "
        f"`policykg generate --triples {args.triples} --seed 1`, query workers at their default, query limit 30 s, "
        "measured once its first dump files are written (until then a download is made from the store as it is read); "
        f"client timeout 120 s. {total:,} requests in {elapsed:.1f} s: **{total / elapsed:,.1f} requests/s**, "
        f"p50 {percentile(all_latencies, 0.5):,.0f} ms, p95 {percentile(all_latencies, 0.95):,.0f} ms, "
        f"p99 {percentile(all_latencies, 0.99):,.0f} ms; **{servers} server errors** (5xx or transport), "
        f"{unexpected} unexpected answers (another status or body than the one expected; a 4xx is expected only "
        "as the 422 of an invalid entry).",
        "",
        "| kind | requests | per s | p50 (ms) | p95 (ms) | p99 (ms) | server errors | 4xx | unexpected |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in sorted(tally.latencies):
        values, verdicts = tally.latencies[kind], tally.verdicts[kind]
        lines.append(
            f"| {kind} | {len(values):,} | {len(values) / elapsed:,.2f} | {percentile(values, 0.5):,.0f} | "
            f"{percentile(values, 0.95):,.0f} | {percentile(values, 0.99):,.0f} | {verdicts.get(SERVER, 0)} | "
            f"{verdicts.get('4xx', 0)} | {verdicts.get(UNEXPECTED, 0)} |"
        )
    notes = [f"- {kind}: {note}" for kind, found in sorted(tally.notes.items()) for note in found]
    if used:
        lines += [
            "",
            "Where the CPU went while the clients sent (cores: CPU seconds per second; the machine has "
            f"{os.cpu_count()}; the service's own threads share one interpreter lock):",
            "",
            "| where | cores |",
            "|---|---:|",
            *(f"| {role} | {seconds / elapsed:.2f} |" for role, seconds in sorted(used.items(), key=lambda x: -x[1])),
        ]
    lines += [
        *(["", "What went wrong (the first few of each kind):", *notes] if notes else []),
        "",
        f"The dump's revalidations (HEAD for the ETag, then GET with If-None-Match): {mix.revalidations[304]} answered "
        f"304, {mix.revalidations[200]} sent the whole dump again because the ETag had changed in between (every "
        "accepted write changes it; a refused one does not).",
        "",
        f"Audit after the run: {sum(1 for s in valid if s.entry):,} entries acknowledged with 201 "
        f"({len(valid):,} valid ones sent), {len(mix.submissions) - len(valid):,} invalid ones sent; {stored:,} "
        f"entries in the store; **{len(problems)} problems** (lost, duplicated, partial or invalid entries stored, "
        f"change stream out of step). Server log: {logged}.",
        *(["", "Problems:", *(f"- {p}" for p in problems[:20])] if problems else []),
        "",
        f"Rerun: `.venv/bin/python benchmarks/load_mix.py --triples {args.triples} --results`",
        "",
    ]
    return "\n".join(lines)


def server_log(log: Path | None) -> str:
    """What the server logged of its failures: tracebacks, and requests logged with a 5xx or an error."""
    if log is None or not log.exists():
        return "not read (an external service)"
    text = log.read_text(encoding="utf-8", errors="replace")
    failed = 0
    for line in text.splitlines():
        if line.startswith("{"):
            logged = json.loads(line)
            failed += int(logged.get("status") or 0) >= 500 or bool(logged.get("error"))
    return f"{text.count('Traceback')} tracebacks, {failed} requests logged with a 5xx or an error"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000, help="size of the generated graph")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the clients send")
    parser.add_argument("--max-requests", type=int, default=200_000, help="the most requests sent in all")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--url", help="load this running service instead (a loopback address; token in POLICYKG_TOKEN)")
    parser.add_argument("--results", action="store_true", help="append the tables to benchmarks/RESULTS.md")
    args = parser.parse_args()
    if not 1 <= args.clients <= 256 or not 0 < args.seconds <= 3600:
        parser.error("1 to 256 clients, for at most an hour")

    process, log = None, None
    if args.url:
        url, token = require_loopback(args.url), os.environ.get("POLICYKG_TOKEN", "")
    else:
        folder = run_copy(args.triples)
        process, url = start_service(folder, POLICYKG_STORE=str(folder / "store"), POLICYKG_UPDATE_TOKEN=TOKEN)
        token, log = TOKEN, folder / "serve.log"
    try:
        url = require_loopback(url)
        mix = Mix(url, token, args.triples, conferences(url))
        for wrong in asyncio.run(warm_up(mix, args.seed)):
            print(f"warm-up: {wrong}", file=sys.stderr)
        mix.submissions.clear()
        mix.revalidations.clear()
        earlier = frozenset(audit_entries(url, B, []).entries)  # the warm-up's, and any from before
        before = os.getloadavg()[0]
        cpu_before = (thread_cpu(process.pid) if process else {}, time.process_time())
        tally, elapsed = asyncio.run(drive(mix, args.clients, args.seconds, args.max_requests, args.seed))
        cpu_after = (thread_cpu(process.pid) if process else {}, time.process_time())
        after = os.getloadavg()[0]
        problems, stored = audit(mix, earlier)
    finally:
        if process is not None:
            stop(process)
    used = {role: seconds - cpu_before[0].get(role, 0.0) for role, seconds in cpu_after[0].items()}
    if used:  # a service started here (with --url, which process serves is not known)
        used["the clients (this process)"] = cpu_after[1] - cpu_before[1]
    table = report(tally, elapsed, args, mix, problems, stored, (before, after), server_log(log), used)
    publish(table, args.results)


if __name__ == "__main__":
    main()
