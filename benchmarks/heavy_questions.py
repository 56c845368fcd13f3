"""The competency questions and the query mix's kinds on the embedded store, this revision next to an earlier one.

One command:  .venv/bin/python benchmarks/heavy_questions.py --triples 10000000 --previous 5be8e0b --results

It loads the generated graph (benchmarks/.work/synthetic-N.nq, seed 1) with `policykg load` into a store,
copies the store for the earlier revision (run from a `git worktree` of it), and starts `policykg serve` of
both, each with its query workers at their default. Each system asks its own texts: the competency questions
as its revision's src/policykg/queries/ holds them (parameters fixed to their defaults by a VALUES block, as
the query editor offers them) and the nine kinds of sparql_throughput.py's mix (kind 1 as its revision's
question of the same kind follows narrower concepts: skos:broader* before the closure, skos:broaderTransitive?
after). Answers are compared first (rows as multisets; for a kind that cuts with ORDER BY … LIMIT, the count
and the ordering values). Then each question and kind alone, from --clients concurrent clients (httpx, one
process) for --seconds, the two systems in turn (which goes first alternates); a question whose single
answer took longer than --long seconds (a question over everything, whose answer grows with the graph) is
timed once from one client instead. With --results the tables go to RESULTS.md. Servers listen on
127.0.0.1 only; everything started is stopped and removed.
"""

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from read_path import add_worktree, check_previous, git, remove_worktree, revision_label
from sparql_throughput import free_port, machine, percentile, publish, queries, synthetic_data, wait_for

from policykg.model.questions import list_questions, parse_question

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
JSON = {"Accept": "application/sparql-results+json"}
ORDERED_BY = {
    "1 recommendations-on-concept": "title",
    "8 presented-recommendations": "date",
    "9 concept-popularity": "n",
}


@dataclass
class Timing:
    """What one system did with one question."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    rows: int = -1
    single: float = float("nan")  # the first answer's time, one client alone


def mix_texts(triples: int, closure: bool) -> dict[str, str]:
    """The first query of each kind of the mix, kind 1 written as the revision's question writes it."""
    first = dict(reversed(queries(triples)))
    if closure:
        first["1 recommendations-on-concept"] = first["1 recommendations-on-concept"].replace(
            "skos:broader*", "skos:broaderTransitive?"
        )
    return first


def question_texts(revision: str | None) -> dict[str, str]:
    """Each competency question of a revision (None: this tree), its parameters fixed to their defaults."""
    if revision is None:
        return {q.name: q.inline_sparql() for q in list_questions()}
    names = git("ls-tree", "--name-only", f"{revision}:src/policykg/queries").split()
    return {
        name[:-3]: parse_question(name[:-3], git("show", f"{revision}:src/policykg/queries/{name}")).inline_sparql()
        for name in names
        if name.endswith(".rq")
    }


def answer(url: str, query: str) -> tuple[float, list[dict] | None]:
    started = time.monotonic()
    response = httpx.get(url, params={"query": query}, headers=JSON, timeout=120)
    elapsed = time.monotonic() - started
    return elapsed, response.json()["results"]["bindings"] if response.status_code == 200 else None


def same_answers(name: str, one: list[dict] | None, other: list[dict] | None) -> bool:
    if one is None or other is None:
        return False
    if name in ORDERED_BY:
        key = ORDERED_BY[name]
        return sorted(str(r.get(key)) for r in one) == sorted(str(r.get(key)) for r in other)
    return Counter(map(repr_row, one)) == Counter(map(repr_row, other))


def repr_row(row: dict) -> str:
    return repr(
        sorted((k, v.get("type"), v.get("value"), v.get("datatype"), v.get("xml:lang")) for k, v in row.items())
    )


async def drive(url: str, query: str, clients: int, seconds: float, timing: Timing) -> None:
    deadline = time.monotonic() + seconds

    async def client(http: httpx.AsyncClient) -> None:
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                response = await http.get(url, params={"query": query}, headers=JSON)
                await response.aread()
            except httpx.HTTPError:
                timing.errors += 1
                continue
            if response.status_code == 200:
                timing.latencies.append(time.monotonic() - started)
            else:
                timing.errors += 1

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))


def serve(store: Path, environment: dict[str, str], log: Path) -> tuple[str, subprocess.Popen]:
    port = free_port()
    env = {**os.environ, **environment, "POLICYKG_STORE": str(store), "POLICYKG_PORT": str(port)}
    env["POLICYKG_QUERY_TIMEOUT"] = "60"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "policykg.cli", "serve"], env=env, cwd=ROOT, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}/sparql"
    wait_for(url, process)
    return url, process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def measure(args: argparse.Namespace) -> str:
    data = synthetic_data(args.triples)
    work = Path(tempfile.mkdtemp(prefix="heavy-questions-", dir=HERE / ".work"))
    log = work / "servers.log"
    worktree = work / "previous-src"
    processes: list[subprocess.Popen] = []
    try:
        store = work / "store"
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "policykg.cli", "load", str(data), "--store", str(store)],
            cwd=ROOT,
            check=True,
            stderr=subprocess.DEVNULL,
        )
        loaded = time.monotonic() - started
        shutil.copytree(store, work / "previous-store")
        environment = add_worktree(args.previous, worktree)
        now_url, now = serve(store, {}, log)
        processes.append(now)
        before_url, before = serve(work / "previous-store", environment, log)
        processes.append(before)
        systems = {"this revision": (now_url, None), f"{args.previous}": (before_url, args.previous)}
        texts = {
            name: {**question_texts(revision), **mix_texts(args.triples, closure=revision is None)}
            for name, (_, revision) in systems.items()
        }
        return report(args, systems, texts, loaded)
    finally:
        for process in processes:
            stop(process)
        if worktree.exists():
            remove_worktree(worktree)
        shutil.rmtree(work, ignore_errors=True)


def report(args: argparse.Namespace, systems: dict, texts: dict[str, dict[str, str]], loaded: float) -> str:
    names = list(systems)
    items = [n for n in texts[names[0]] if n in texts[names[1]]]
    timings = {item: {name: Timing() for name in names} for item in items}
    agree = {}
    load_before = os.getloadavg()[0]
    for item in items:
        answers = {}
        for name in names:
            seconds, answers[name] = answer(systems[name][0], texts[name][item])
            timings[item][name].single = seconds
            timings[item][name].rows = -1 if answers[name] is None else len(answers[name] or [])
        agree[item] = same_answers(item, answers[names[0]], answers[names[1]])
    for turn, item in enumerate(items):
        order = names if turn % 2 == 0 else names[::-1]
        long = any(timings[item][n].single > args.long for n in names)
        for name in order:
            timing = timings[item][name]
            if long:
                seconds, found = answer(systems[name][0], texts[name][item])
                if found is not None:
                    timing.latencies.append(seconds)
                else:
                    timing.errors += 1  # past the time limit, or refused
            else:
                asyncio.run(drive(systems[name][0], texts[name][item], args.clients, args.seconds, timing))
        print(f"  {item}: done", file=sys.stderr, flush=True)
    return table(args, names, items, timings, agree, loaded, load_before)


def table(args, names, items, timings, agree, loaded, load_before) -> str:  # type: ignore[no-untyped-def]
    lines = [
        f"### Competency questions and the mix's kinds at {args.triples:,} triples, embedded store, "
        f"before and after ({time.strftime('%Y-%m-%d')})",
        "",
        f"Machine: {machine()}; 1-minute load average {load_before:.1f} when the timing began, "
        f"{os.getloadavg()[0]:.1f} at its end (other work may share the machine). Systems: `policykg serve` of "
        f"{revision_label(None)} and of {revision_label(args.previous)}, each over its own copy of one store "
        f"(`policykg load` of the generated file: {loaded:.0f} s), query workers at their default, time limit "
        f"60 s. Each asks its revision's texts. {args.clients} clients (httpx, one process) for {args.seconds:.0f} s "
        f"per question and system, in turn; a question whose first answer took over {args.long:.0f} s was timed "
        "once from one client (marked *once*). Rows: of the first answer (-1: none). Same: the two systems' "
        "first answers agree (as multisets; kinds cut by LIMIT: the ordering values).",
        "",
        f"| question or kind | rows | {names[1]} p50 (ms) | {names[1]} p95 (ms) | {names[0]} p50 (ms) | "
        f"{names[0]} p95 (ms) | answers ({names[1]} / {names[0]}) | errors | same |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for item in items:
        old, new = timings[item][names[1]], timings[item][names[0]]
        once = " *once*" if len(old.latencies) + old.errors <= 1 and len(new.latencies) + new.errors <= 1 else ""
        lines.append(
            f"| {item}{once} | {new.rows:,} | {percentile(old.latencies, 0.5):,.0f} | "
            f"{percentile(old.latencies, 0.95):,.0f} | {percentile(new.latencies, 0.5):,.0f} | "
            f"{percentile(new.latencies, 0.95):,.0f} | {len(old.latencies)} / {len(new.latencies)} | "
            f"{old.errors} / {new.errors} | {'yes' if agree[item] else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=10_000_000)
    parser.add_argument("--previous", required=True, help="the earlier revision to run beside this tree")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--long", type=float, default=10.0, help="a first answer slower than this is timed once")
    parser.add_argument("--results", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args()
    check_previous(args.previous)
    publish(measure(args), args.results)


if __name__ == "__main__":
    main()
