"""Many clients downloading the whole compressed dump while entries are written: first byte, last byte, memory.

One command:  .venv/bin/python benchmarks/dump_download.py --triples 1000000 --results

It serves a copy of the load mix's store (load_mix.run_copy: the model plus `policykg generate --triples N
--seed 1`, query workers at their default), waits until the service has its dump files (services that
write dumps to files say so in /ready; others stream from the store), then --clients clients each download
/dumps/policykg.nq.gz --rounds times, reading every byte, while one more client posts a valid entry (a
meeting with its participations) every --write-every seconds. Every download is checked whole (gzip
decompresses it, and it holds N-Quads lines). It reports the time to the first byte and to the last
(p50/p95/max, at the client), the entries written, and the resident memory of the server process and of
its query workers (VmRSS, sampled every 100 ms: the peak, and the peak above the idle figure).
With --from-start the downloads begin as soon as the service answers, before any dump file is written (the
first minute after a start), and the table says how many downloads the service wrote from the store on its
own (its log) and the CPU its process spent meanwhile. With --results it appends the table to
benchmarks/RESULTS.md.
"""

import argparse
import asyncio
import contextlib
import os
import sys
import threading
import time
import zlib
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

from conftest import start_service, stop  # noqa: E402
from consistency import meeting_entry  # noqa: E402
from load_mix import run_copy  # noqa: E402
from read_path import front_cpu_seconds  # noqa: E402
from service_memory import children, rss_mb  # noqa: E402
from sparql_throughput import machine, percentile, publish  # noqa: E402

B = "http://localhost:8000/"
TOKEN = "dump-download-token"


class Memory:
    """The peak resident memory of a process and of its children, sampled from a thread."""

    def __init__(self, pid: int) -> None:
        self.pid, self.server, self.workers = pid, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "Memory":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.server = max(self.server, rss_mb(self.pid))
            self.workers = max(self.workers, sum(rss_mb(child) for child in children(self.pid)))
            time.sleep(0.1)


def files_ready(url: str, seconds: float = 600) -> bool:
    """Wait until the service's dump files hold its current revision; False if it says nothing of dump files."""
    deadline = time.monotonic() + seconds
    httpx.head(url + "/dumps/policykg.nq.gz", timeout=60)  # asked for once: the service starts writing them
    while time.monotonic() < deadline:
        ready = httpx.get(url + "/ready", timeout=60).json()
        if "derived" not in ready:
            return False
        if ready["derived"].get("dumps", {}).get("revision") == ready["revision"]["tag"]:
            return True
        time.sleep(0.5)
    raise RuntimeError("the dump files were not written in time")


async def download(http: httpx.AsyncClient) -> tuple[float, float, int]:
    """One whole download: seconds to the first byte, to the last, and the bytes; checked to be whole."""
    started = time.perf_counter()
    first = None
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    size, lines = 0, 0
    async with http.stream("GET", "/dumps/policykg.nq.gz") as response:
        response.raise_for_status()
        async for chunk in response.aiter_raw():
            if first is None:
                first = time.perf_counter() - started
            size += len(chunk)
            lines += inflate.decompress(chunk).count(b"\n")
    if not inflate.eof or lines == 0:
        raise RuntimeError(f"a download ended short ({size} bytes, {lines} lines)")
    return first or 0.0, time.perf_counter() - started, size


async def writer(url: str, every: float, done: asyncio.Event, written: list[int]) -> None:
    """Post a valid entry every `every` seconds until done."""
    number = 50_000
    async with httpx.AsyncClient(base_url=url, timeout=300) as http:
        while not done.is_set():
            number += 1
            answer = await http.post(
                "/entries",
                content=meeting_entry(B, number).encode(),
                headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"},
            )
            if answer.status_code == 201:
                written.append(number)
            with contextlib.suppress(TimeoutError):  # the wait ends when the downloads are done
                await asyncio.wait_for(done.wait(), every)


async def run(url: str, clients: int, rounds: int, every: float) -> tuple[list[tuple[float, float, int]], int]:
    done, written = asyncio.Event(), []
    writing = asyncio.create_task(writer(url, every, done, written))

    async def one_client() -> list[tuple[float, float, int]]:
        async with httpx.AsyncClient(base_url=url, timeout=600) as http:
            return [await download(http) for _ in range(rounds)]

    try:
        results = await asyncio.gather(*(one_client() for _ in range(clients)))
    finally:
        done.set()
        await writing
    return [r for found in results for r in found], len(written)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2, help="downloads per client")
    parser.add_argument("--write-every", type=float, default=2.0, help="seconds between two entries")
    parser.add_argument("--label", default="this revision", help="what the figures are of (the table's first column)")
    parser.add_argument("--from-start", action="store_true", help="download before any dump file is written")
    parser.add_argument("--results", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args()

    folder = run_copy(args.triples)
    process, url = start_service(folder, POLICYKG_STORE=str(folder / "store"), POLICYKG_UPDATE_TOKEN=TOKEN)
    try:
        files = False if args.from_start else files_ready(url)
        idle = rss_mb(process.pid)
        with Memory(process.pid) as memory:
            started, cpu = time.perf_counter(), front_cpu_seconds(process.pid)
            downloads, written = asyncio.run(run(url, args.clients, args.rounds, args.write_every))
            elapsed, cpu = time.perf_counter() - started, front_cpu_seconds(process.pid) - cpu
    finally:
        stop(process)
    on_demand = (folder / "serve.log").read_text().count("written from the store as it was asked for")
    first, last = [d[0] for d in downloads], [d[1] for d in downloads]  # seconds (percentile gives ms)
    served = "the start" if args.from_start else "files" if files else "streamed"
    row = (
        f"| {args.label} | {served} | {len(downloads)} | {percentile(first, 0.5):,.0f} | "
        f"{percentile(first, 0.95):,.0f} | {max(first) * 1000:,.0f} | {percentile(last, 0.5) / 1000:,.1f} | "
        f"{percentile(last, 0.95) / 1000:,.1f} | {elapsed:,.0f} | {written} | {memory.server:,.0f} | "
        f"{memory.server - idle:,.0f} | {memory.workers:,.0f} |"
        + (f" {on_demand} | {cpu:,.1f} |" if args.from_start else "")
    )
    start_note = (
        " The downloads began as soon as the service answered, before any dump file was written; 'written on "
        "demand' counts the downloads the service dumped from the store for themselves (its log), and the CPU is "
        "its process's over the run."
        if args.from_start
        else ""
    )
    table = "\n".join(
        [
            f"### Dump downloads{' from the start' if args.from_start else ''}: {args.clients} clients × "
            f"{args.rounds}, entries written meanwhile, {args.triples:,} triples ({time.strftime('%Y-%m-%d')})",
            "",
            f"Machine: {machine()}; the clients run on it too; 1-minute load average {os.getloadavg()[0]:.2f} after. "
            f"Each client downloads /dumps/policykg.nq.gz whole ({downloads[0][2] / 1e6:,.1f} MB), "
            f"{args.rounds} times in a row, while one more client posts a valid entry every {args.write_every:g} s. "
            "Times at the client; memory is the server process's VmRSS (peak, and peak above idle) and the sum "
            "over its query workers (peak)." + start_note,
            "",
            "| code | dumps served from | downloads | first byte p50 (ms) | p95 (ms) | max (ms) | whole p50 (s) | "
            "p95 (s) | run (s) | entries written | server RSS peak (MB) | above idle (MB) | workers RSS peak (MB) |"
            + (" written on demand | server process CPU (s) |" if args.from_start else ""),
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
            + ("---:|---:|" if args.from_start else ""),
            row,
            "",
            f"Rerun: `.venv/bin/python benchmarks/dump_download.py --triples {args.triples}"
            f"{' --from-start' if args.from_start else ''} --results`",
            "",
        ]
    )
    publish(table, args.results)


if __name__ == "__main__":
    main()
