"""Crash safety, repeated: `policykg serve` SIGKILLed amid concurrent entries, restarted and audited, round after round.

One command:  .venv/bin/python benchmarks/crash_loop.py --rounds 20 --results

It starts the service on a new on-disk store in benchmarks/.work/crash-loop/ (the model and the seed,
loaded at first start), with writes allowed and its query workers at their default, on 127.0.0.1. Each
round, several client threads send new entries (meetings of the seed's expert-group series, each with its
participations); at a random moment after the round's first 201 the server's process group (the server
and its query workers) gets SIGKILL. The service is restarted on the same store, which keeps what earlier
rounds wrote, and audited (tests/consistency.py): every entry acknowledged with 201, in any round so far, is
there exactly once with all its triples and its record; no entry is partial, no record lacks its data nor
data its record; an entry whose answer never came is whole or absent; every entry is a member of the
change stream (/ldes pages) exactly once; and the dump /dumps/policykg.nq holds exactly the store's quads,
graph by graph. It prints each round and a summary; with --results it appends them to benchmarks/RESULTS.md.
"""

import argparse
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from consistency import model_quads
from crashing import CrashedService, Round, kill_first_start
from sparql_throughput import machine, publish

from policykg.config import Settings

TOKEN = "crash-loop-token-for-writes"
WORK = HERE / ".work" / "crash-loop"
ENV = {"POLICYKG_STORE": str(WORK / "store"), "POLICYKG_UPDATE_TOKEN": TOKEN}
FirstStart = tuple[float, int, list[str]]  # the kill's delay, the quads it left, the problems after the restart


def first_starts(tries: int, spread: float, seed: int) -> list[FirstStart]:
    """Kill first starts on new stores at random moments, restart, compare with the model."""
    rng, done = random.Random(seed), []
    for number in range(1, tries + 1):
        delay = rng.uniform(0, spread)
        done.append((delay, *kill_first_start(WORK, ENV, delay)))
        print(start_row(number, done[-1]), flush=True)
    return done


def start_row(number: int, start: FirstStart) -> str:
    """One first start as a table row."""
    delay, left, problems = start
    whole = len(model_quads(Settings()))
    state = (
        "nothing"
        if left == 0
        else "the whole model"
        if left == whole
        else f"**part of the model: {left} of {whole} quads**"
    )
    after = f"**{len(problems)} graphs differ from the model**, e.g. {problems[0]}" if problems else "the whole model"
    return f"| {number} | {delay:.2f} | {state} | {after} |"


def run_rounds(rounds: int, senders: int, spread: float, seed: int) -> tuple[list[Round], float]:
    """Run the rounds on a new store; return them and the seconds they took."""
    shutil.rmtree(WORK / "store", ignore_errors=True)
    started = time.monotonic()
    service = CrashedService(WORK, ENV, senders=senders, seed=seed)
    done: list[Round] = []
    try:
        for number in range(1, rounds + 1):
            outcome = service.round(spread)
            done.append(outcome)
            print(row(number, outcome), flush=True)
    finally:
        service.close()
    return done, time.monotonic() - started


def row(number: int, outcome: Round) -> str:
    """One round as a table row."""
    return (
        f"| {number} | {outcome.acknowledged} | {outcome.in_flight} | {outcome.kept} | {outcome.stored} | "
        f"{outcome.killed_after:.2f} | {outcome.restart_seconds:.1f} | {len(outcome.problems)} |"
    )


def report(
    rounds: list[Round], seconds: float, args: argparse.Namespace, load: tuple[float, float], starts: list[FirstStart]
) -> str:
    """The table of first starts, the per-round table, the problems found, and a summary."""
    problems = [f"- round {n}: {p}" for n, r in enumerate(rounds, 1) for p in r.problems]
    acknowledged = sum(r.acknowledged for r in rounds)
    lines = [
        f"### Crash loop: SIGKILL amid entry submissions, {len(rounds)} rounds ({time.strftime('%Y-%m-%d')})",
        "",
        f"Machine: {machine()}. 1-minute load average {load[0]:.2f} before, {load[1]:.2f} after (other work shares "
        f"the machine). `policykg serve` on a new on-disk store (model and seed), query workers at their default; "
        f"{args.senders} client threads send entries of 20 triples (a meeting and 3 participations); SIGKILL to "
        f"the server's process group at a random moment 0–{args.spread:g} s after each round's first 201, then a "
        f"restart on the same store and the audits of tests/consistency.py. {seconds:.0f} s in all.",
        "",
        f"First starts: a new store each time, SIGKILL a random 0–{args.start_spread:g} s after the store folder "
        "appeared (the model is loaded then, in one write), then a restart and a comparison of the store with the "
        "model (ontology, shapes, seed).",
        "",
        "| try | kill after the store opened (s) | what the kill left | the store after the restart |",
        "|---:|---:|---|---|",
        *(start_row(n, start) for n, start in enumerate(starts, 1)),
        "",
        "Rounds on one store that keeps growing:",
        "",
        "| round | acknowledged (201) | in flight at the kill | of those, in the store (whole) | "
        "entries in the store | kill after first 201 (s) | restart (s) | problems |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(row(n, r) for n, r in enumerate(rounds, 1)),
        "",
        f"Summary: {acknowledged} entries acknowledged, {sum(r.in_flight for r in rounds)} in flight at a kill "
        f"(of which {sum(r.kept for r in rounds)} were found whole, the others absent), "
        f"{rounds[-1].stored if rounds else 0} entries in the store at the end; "
        f"**{len(problems)} problems** (lost or partial entries, records without data or data without record, "
        "duplicates, change stream or dump out of step with the store). Median restart "
        f"{statistics.median(r.restart_seconds for r in rounds):.1f} s.",
        *(["", "Problems:", *problems] if problems else []),
        "",
        f"Rerun: `.venv/bin/python benchmarks/crash_loop.py --rounds {len(rounds)} --results`",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="kill rounds (at least 1)")
    parser.add_argument("--senders", type=int, default=4, help="client threads sending entries")
    parser.add_argument("--spread", type=float, default=2.0, help="the kill comes 0 to this many s after the first 201")
    parser.add_argument("--seed", type=int, default=1, help="seed of the kill moments")
    parser.add_argument("--first-starts", type=int, default=10, help="kills during a first start, before the rounds")
    parser.add_argument(
        "--start-spread",
        type=float,
        default=1.5,
        help="a first start is killed 0 to this many s after it opened the store",
    )
    parser.add_argument("--results", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    before = os.getloadavg()[0]
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    starts = first_starts(args.first_starts, args.start_spread, args.seed)
    rounds, seconds = run_rounds(args.rounds, args.senders, args.spread, args.seed)
    table = report(rounds, seconds, args, (before, os.getloadavg()[0]), starts)
    publish(table, args.results)
    failed = any(r.problems for r in rounds) or any(problems for _, _, problems in starts)
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
