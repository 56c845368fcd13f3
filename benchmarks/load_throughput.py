"""Bulk-load throughput of `policykg load` next to `oxigraph load`, on the same generated file.

One command:  .venv/bin/python benchmarks/load_throughput.py --triples 10000000

It generates the synthetic graph once (`policykg generate`, cached in benchmarks/.work/), then loads it
into a fresh on-disk store with `policykg load` and with `oxigraph load` (the Rust command of the
`oxigraph` package, from the [bench] or [test] extra), one after the other in the same run, and prints
quads per second, the peak memory of each loader's process and the ratio to policykg. `policykg load`
also compacts the store at its end (`optimize`); `oxigraph load` does not, so the table adds `oxigraph
load` followed by `oxigraph optimize` as the like-for-like figure. With --results it appends the table
to benchmarks/RESULTS.md.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
from sparql_throughput import machine, publish, synthetic_data

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclass(frozen=True)
class Run:
    """One loader process run to its end: wall time, its peak resident memory, what it wrote to stderr."""

    seconds: float
    peak_rss_mb: float
    stderr: str


@dataclass(frozen=True)
class Load:
    """One load into a fresh store: the load, the compaction after it (oxigraph only), the store's size after each."""

    load: Run
    optimize: Run | None
    store_mb: float
    optimized_mb: float | None


def run_measured(command: list[str]) -> Run:
    """Run a command to its end; return its wall time and its process's peak RSS (from wait4)."""
    with tempfile.TemporaryFile() as errors:
        start = time.monotonic()
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        text = errors.read().decode("utf-8", "replace")
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited with {process.returncode}:\n{text[-2000:]}")
    return Run(seconds, usage.ru_maxrss / 1024, text)  # ru_maxrss is in KiB on Linux


def folder_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


def count_lines(path: Path) -> int:
    """The number of quads of a generated N-Quads file (one a line); reading it also warms the page cache."""
    lines = 0
    with path.open("rb") as data:
        while chunk := data.read(1 << 24):
            lines += chunk.count(b"\n")
    return lines


def load_policykg(data: Path, store: Path, quads: int) -> Load:
    shutil.rmtree(store, ignore_errors=True)
    run = run_measured([sys.executable, "-m", "policykg.cli", "load", str(data), "--store", str(store)])
    reported = re.search(r"loaded (\d+) quads", run.stderr)
    if reported is None or int(reported.group(1)) != quads:
        raise SystemExit(f"policykg load reported {reported and reported.group(1)} quads, the file has {quads}")
    return Load(run, None, folder_mb(store), None)


def load_oxigraph(data: Path, store: Path, quads: int) -> Load:
    executable = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or "oxigraph"
    shutil.rmtree(store, ignore_errors=True)
    run = run_measured([executable, "load", "--location", str(store), "--file", str(data)])
    loaded = len(pyoxigraph.Store.read_only(str(store)))  # counted after the timing
    if loaded != quads:
        raise SystemExit(f"oxigraph load left {loaded} quads, the file has {quads}:\n{run.stderr[-1000:]}")
    size = folder_mb(store)
    optimized = run_measured([executable, "optimize", "--location", str(store)])
    return Load(run, optimized, size, folder_mb(store))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1, help="loads per loader (alternating); the median is shown")
    parser.add_argument("--results", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args()

    work = HERE / ".work"
    work.mkdir(exist_ok=True)
    data = synthetic_data(args.triples)
    quads = count_lines(data)
    stores = {"policykg": work / "load-bench-policykg", "oxigraph": work / "load-bench-oxigraph"}
    loads: dict[str, list[Load]] = {"policykg": [], "oxigraph": []}
    load_averages = []
    for number in range(args.runs):
        for name, load in (("policykg", load_policykg), ("oxigraph", load_oxigraph)):
            load_averages.append(os.getloadavg()[0])
            done = load(data, stores[name], quads)
            loads[name].append(done)
            extra = f", then optimize {done.optimize.seconds:.1f} s" if done.optimize else ""
            print(
                f"run {number + 1}: {name} load {done.load.seconds:.1f} s{extra}, "
                f"peak RSS {done.load.peak_rss_mb:,.0f} MB",
                file=sys.stderr,
            )
    for store in stores.values():
        shutil.rmtree(store, ignore_errors=True)

    ours, theirs = loads["policykg"], loads["oxigraph"]
    rows = [  # name, seconds, peak RSS, store size
        (
            "`policykg load` (bulk load, then compaction)",
            statistics.median(r.load.seconds for r in ours),
            max(r.load.peak_rss_mb for r in ours),
            ours[-1].store_mb,
        ),
        (
            "`oxigraph load` (bulk load)",
            statistics.median(r.load.seconds for r in theirs),
            max(r.load.peak_rss_mb for r in theirs),
            theirs[-1].store_mb,
        ),
        (
            "`oxigraph load`, then `oxigraph optimize`",
            statistics.median(r.load.seconds + r.optimize.seconds for r in theirs if r.optimize),
            max(max(r.load.peak_rss_mb, r.optimize.peak_rss_mb) for r in theirs if r.optimize),
            theirs[-1].optimized_mb or 0.0,
        ),
    ]
    ours_seconds = rows[0][1]
    ratio = rows[1][1] / ours_seconds
    settings = (
        f"Machine: {machine()}. The same N-Quads file ({data.stat().st_size / 1e9:.2f} GB, `policykg generate "
        f"--triples {args.triples} --seed 1`, in the page cache) loaded into a fresh on-disk store by each command, "
        f"{args.runs} run{'s' if args.runs > 1 else ''} each, alternating (median shown); wall time of the whole "
        "process; peak RSS of the loader's process (wait4). 1-minute load average before each run: "
        f"{', '.join(f'{a:.1f}' for a in load_averages)} (other work shares the machine)."
    )
    lines = [
        f"### Bulk load throughput, {quads:,} generated quads ({time.strftime('%Y-%m-%d')})",
        "",
        settings,
        "",
        "| loader | seconds | quads/s | peak RSS (MB) | store on disk (MB) | policykg ÷ loader (quads/s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, seconds, rss, size in rows:
        lines.append(
            f"| {name} | {seconds:,.1f} | {quads / seconds:,.0f} | {rss:,.0f} | {size:,.0f} | "
            f"{seconds / ours_seconds:.2f} |"
        )
    verdict = "met" if ratio >= 0.5 else "not met"
    lines += ["", f"policykg loads at {ratio:.2f}× the rate of `oxigraph load` (target ≥ 0.5×: {verdict}).", ""]
    table = "\n".join(lines)
    publish(table, args.results)


if __name__ == "__main__":
    main()
