"""The lists people browse (/recommendations, /events, /organisations, /concepts), unfiltered and filtered.

One command:  .venv/bin/python benchmarks/lists.py --triples 1000000 --previous HEAD~3 --results

It loads the model and the generated graph (benchmarks/.work/synthetic-N.nq, seed 1) into an on-disk store
(benchmarks/.work/lists-store-N, kept), then times each list's query as views/lists.py builds it for a few
choices of filter, all rows up to the 10,000 a list holds, in a process of its own per revision: this tree, and
with --previous the earlier revision's own views/lists.py (a `git worktree`), over the same store, read-only.
Each is timed --repeat times, the best kept (a list is made once per revision of the store, then kept). The
rows of the two revisions are compared (statuses as sets: GROUP_CONCAT joins them in no fixed order).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from read_path import add_worktree, check_previous, remove_worktree, revision_label
from sparql_throughput import machine, publish, synthetic_data
from worker_scaling import build_store

HERE = Path(__file__).resolve().parent
B = "http://localhost:8000/"
PKG = "https://w3id.org/policykg/ontology#"
# (list, filters): the choices a person makes most, a rare concept and the most common one among them.
CASES = [
    ("recommendations", {}),
    ("recommendations", {"concept": B + "id/concept/gen-1922"}),
    ("recommendations", {"concept": B + "id/concept/gen-0"}),
    ("recommendations", {"status": PKG + "statusPresented"}),
    ("recommendations", {"event": B + "id/event/gen-conference-13"}),
    ("events", {}),
    ("events", {"concept": B + "id/concept/gen-0"}),
    ("organisations", {}),
    ("concepts", {}),
]
# Run in the revision's own process: its views/lists.py builds the queries.
_TIMER = """
import json, sys, time
import pyoxigraph as ox
from policykg.views import lists
store = ox.Store.read_only(sys.argv[1])
found = []
for name, filters in json.loads(sys.argv[2]):
    kind = lists.KINDS[name]
    query = lists.build_query(kind, lists.read_choice(kind, filters, None, 1))
    best, rows = None, []
    for _ in range(int(sys.argv[3])):
        started = time.perf_counter()
        solutions = store.query(query, use_default_graph_as_union=True)
        names = [v.value for v in solutions.variables]
        rows = [[None if s[n] is None else s[n].value for n in names] for s in solutions]
        took = time.perf_counter() - started
        best = took if best is None else min(best, took)
    found.append({"seconds": best, "rows": rows, "names": names})
print(json.dumps(found))
"""


def timed(environment: dict[str, str], store: Path, repeat: int) -> list[dict[str, object]]:
    """Each case's best time and rows, as one revision's views/lists.py builds the queries."""
    answer = subprocess.run(
        [sys.executable, "-c", _TIMER, str(store), json.dumps(CASES), str(repeat)],
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(answer.stdout)  # type: ignore[no-any-return]


def comparable(found: dict[str, object]) -> list[tuple[object, ...]]:
    """The rows, each with its statuses (if any) as a set."""
    names = found["names"]
    assert isinstance(names, list)
    rows = found["rows"]
    assert isinstance(rows, list)
    index = names.index("statuses") if "statuses" in names else None
    return [
        tuple(frozenset((value or "").split(", ")) if column == index else value for column, value in enumerate(row))
        for row in rows
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--previous", help="also time the lists of this git revision")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--results", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args()
    store = HERE / ".work" / f"lists-store-{args.triples}"
    if not store.exists():
        build_store(store, synthetic_data(args.triples))
    systems = {"this tree": timed({}, store, args.repeat)}
    if args.previous:
        check_previous(args.previous)
        with tempfile.TemporaryDirectory(prefix="policykg-lists-") as folder:
            worktree = Path(folder) / "previous"
            try:
                systems[args.previous] = timed(add_worktree(args.previous, worktree), store, args.repeat)
            finally:
                remove_worktree(worktree)
    names = list(systems)
    beside = f" beside {revision_label(args.previous)}." if args.previous else "."
    lines = [
        f"### Lists at {args.triples:,} generated triples (" + time.strftime("%Y-%m-%d") + ")",
        "",
        f"Machine: {machine()}; 1-minute load average {os.getloadavg()[0]:.1f}. `benchmarks/lists.py`: each list's "
        f"query as its revision's views/lists.py builds it, over one on-disk store, in-process, best of "
        f"{args.repeat}; {revision_label(None)}{beside}",
        "",
        "| list | filters | rows | " + " | ".join(f"{name} (s)" for name in names) + " | same rows |",
        "|---|---|---:|" + "---:|" * len(names) + "---|",
    ]
    for number, (kind, filters) in enumerate(CASES):
        found = [systems[name][number] for name in names]
        same = all(comparable(f) == comparable(found[0]) for f in found[1:])
        shown = ", ".join(f"{key} = {value.rsplit('/', 1)[-1].rsplit('#', 1)[-1]}" for key, value in filters.items())
        rows = found[0]["rows"]
        assert isinstance(rows, list)
        lines.append(
            f"| /{kind} | {shown or 'none'} | {len(rows):,} | "
            + " | ".join(f"{f['seconds']:.3f}" for f in found)
            + f" | {'yes' if same else 'NO'} |"
        )
    publish("\n".join([*lines, ""]), args.results)


if __name__ == "__main__":
    main()
