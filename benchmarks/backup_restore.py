"""Time `policykg backup` (offline checkpoint, offline dump, from a running service) and `policykg restore`.

One command:  .venv/bin/python benchmarks/backup_restore.py --triples 1000000 [--results]

It loads the generated graph (`policykg generate`, seed 1, cached in benchmarks/.work/) into a fresh
on-disk store, then runs each command as a real process, one after the other, and prints wall time,
quads per second and the size of what each wrote. The online backup runs against `policykg serve` over the
same store (idle: no other client). Every restore must give back the quads the backup stated. With
--results it appends the table to benchmarks/RESULTS.md.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from sparql_throughput import free_port, machine, publish, synthetic_data, wait_for

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
_COUNT = re.compile(r"(?:backed up|restored) ([\d,]+) quads")


def policykg(*arguments: str, env: dict[str, str] | None = None) -> tuple[float, int]:
    """Run a policykg command to its end; return its wall time and the quads its summary line states."""
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "policykg.cli", *arguments],
        cwd=ROOT,
        capture_output=True,
        check=False,
        text=True,
        env=env,
    )
    seconds = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit(f"policykg {' '.join(arguments)} failed: {done.stderr}")
    found = _COUNT.findall(done.stderr)
    return seconds, int(found[-1].replace(",", "")) if found else 0


def size_mb(path: Path) -> float:
    """Bytes on disk, in MB: a file, or a folder's files (hard links counted in full)."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def served_backup(store: Path, target: Path) -> tuple[float, int]:
    """Back up a running `policykg serve` over the store through its dump."""
    port = free_port()
    env = {**os.environ, "POLICYKG_STORE": str(store), "POLICYKG_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "policykg.cli", "serve"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/sparql", process)
        return policykg("backup", "--from-url", f"http://127.0.0.1:{port}/", str(target))
    finally:
        process.terminate()
        process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--results", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args()
    data = synthetic_data(args.triples)
    work = HERE / ".work" / "backup"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    store = work / "store"
    load_before = os.getloadavg()[0]
    policykg("load", str(data), "--store", str(store))
    steps = [
        (
            "backup, offline: checkpoint folder",
            work / "checkpoint",
            lambda: policykg("backup", str(work / "checkpoint"), "--store", str(store)),
        ),
        (
            "backup, offline: dump .nq.gz",
            work / "offline.nq.gz",
            lambda: policykg("backup", str(work / "offline.nq.gz"), "--store", str(store)),
        ),
        (
            "backup, from the running service: dump .nq.gz",
            work / "online.nq.gz",
            lambda: served_backup(store, work / "online.nq.gz"),
        ),
        (
            "restore from the checkpoint folder",
            work / "from-checkpoint",
            lambda: policykg("restore", str(work / "checkpoint"), "--store", str(work / "from-checkpoint")),
        ),
        (
            "restore from the dump .nq.gz",
            work / "from-dump",
            lambda: policykg("restore", str(work / "online.nq.gz"), "--store", str(work / "from-dump")),
        ),
    ]
    rows, counts = [], set()
    for name, written, step in steps:
        seconds, quads = step()
        counts.add(quads)
        rows.append(f"| {name} | {seconds:.1f} | {quads / seconds:,.0f} | {size_mb(written):,.1f} |")
        print(rows[-1], flush=True)
    if len(counts) != 1:
        raise SystemExit(f"the steps disagree on the number of quads: {sorted(counts)}")
    table = "\n".join(
        [
            f"## Backup and restore ({args.triples:,} generated triples; {counts.pop():,} quads with the model)",
            "",
            f"Machine: {machine()}. Each command is a fresh process (its start-up included); the store and the "
            f"backups are on the same file system, in the page cache. 1-minute load average before and after: "
            f"{load_before:.1f}, {os.getloadavg()[0]:.1f} (other work shares the machine). "
            "`.venv/bin/python benchmarks/backup_restore.py --triples " + str(args.triples) + "`.",
            "",
            "| step | seconds | quads/s | MB written (a checkpoint: hard links, counted in full) |",
            "|---|---:|---:|---:|",
            *rows,
        ]
    )
    publish(table, args.results)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
