"""Full-text search at scale: indexing time during `policykg load`, the index's size, and search latency.

One command:
    .venv/bin/python benchmarks/search.py --triples 1000000 --clients 1 8 --seconds 20

It generates the graph (`policykg generate`, kept in benchmarks/.work/), loads it with `policykg load` into a
new on-disk store (which builds the full-text index: its time is read from the command's own report), measures
the index folder, starts `policykg serve` over the store and sends /search?format=json requests (words of the
generated data and of the seed, some narrowed by type) from each number of concurrent clients (threads, each
its own keep-alive connection) for the given seconds, reporting requests/s and the p50 and p95 latency.
Every server listens on 127.0.0.1 only; the temporary folder is removed.
"""

import argparse
import itertools
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / ".work"
SEARCHES = [
    {"q": "data space"},
    {"q": '"cultural heritage"'},
    {"q": "digit*"},
    {"q": "meeting"},
    {"q": "recommendation", "type": "https://w3id.org/policykg/ontology#Recommendation"},
    {"q": "museum OR archive"},
]


def policykg(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the command, its report on standard error kept."""
    command = [sys.executable, "-m", "policykg.cli", *args]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True, cwd=ROOT)


def folder_size(folder: Path) -> int:
    """Bytes of every file below a folder."""
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def drive(url: str, clients: int, seconds: float) -> tuple[int, list[float], int]:
    """Send searches from this many clients for this long: how many answered, their latencies, errors."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(offset: int) -> None:
        with httpx.Client(timeout=60) as http:
            for params in itertools.islice(itertools.cycle(SEARCHES), offset, None):
                if time.monotonic() > deadline:
                    return
                start = time.monotonic()
                response = http.get(url + "/search", params={**params, "format": "json"})
                with lock:
                    if response.status_code == 200:
                        latencies.append(time.monotonic() - start)
                    else:
                        errors[0] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies), latencies, errors[0]


def main() -> int:
    """Measure indexing and search at each size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYKG_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    WORK.mkdir(parents=True, exist_ok=True)
    for triples in args.triples:
        data = WORK / f"generated-{triples}.nq.gz"
        if not data.exists():
            policykg("generate", "--triples", str(triples), "--output", str(data), env=env)
        with tempfile.TemporaryDirectory(prefix="policykg-search-") as temporary:
            store = Path(temporary) / "store"
            loaded = policykg("load", str(data), "--store", str(store), env=env)
            indexed = re.search(r"indexed (\d+) resources in .* in ([0-9.]+) s", loaded.stderr)
            assert indexed, loaded.stderr
            size = folder_size(Path(temporary) / "store.search")
            resources, seconds = int(indexed[1]), indexed[2]
            print(f"{triples:,} triples: indexed {resources:,} resources in {seconds} s; index {size / 1e6:.1f} MB")
            port = free_port()
            served = subprocess.Popen(
                [sys.executable, "-m", "policykg.cli", "serve"],
                env={**env, "POLICYKG_STORE": str(store), "POLICYKG_PORT": str(port), "POLICYKG_LOG_LEVEL": "warning"},
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            url = f"http://127.0.0.1:{port}"
            try:
                for _ in range(600):
                    try:
                        if httpx.get(url + "/health", timeout=2).status_code == 200:
                            break
                    except httpx.HTTPError:
                        time.sleep(0.2)
                for clients in args.clients:
                    answered, latencies, errors = drive(url, clients, args.seconds)
                    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 100
                    print(
                        f"  {clients} client{'s' if clients != 1 else ''}: {answered / args.seconds:,.1f} searches/s, "
                        f"p50 {quantiles[49] * 1000:.1f} ms, p95 {quantiles[94] * 1000:.1f} ms, {errors} errors"
                    )
            finally:
                served.terminate()
                served.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
