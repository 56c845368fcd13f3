"""Where a running service's CPU goes: its own threads by role (their names, as /proc gives them), its query workers.

The service names its thread pools for the operating system (policykg.web.app); RocksDB and tantivy name theirs.
Linux only (/proc).
"""

import os
from collections import Counter
from pathlib import Path

from read_path import cpu_seconds

# The service's threads by what they do (their names, as /proc gives them: at most 15 characters).
THREAD_ROLES = (
    ("policykg-write", "entries and updates (writer threads)"),
    ("policykg-query", "reads, pages and figures on threads"),
    ("policykg-dump", "dumps"),
    ("rocksdb", "the store's background work (RocksDB's threads)"),
    ("thread-tantivy", "the search index's threads"),
    ("thrd-tantivy", "the search index's threads"),
    ("segment_updater", "the search index's threads"),
    ("merge_thread", "the search index's threads"),
)


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of a service's own threads by role, its query workers (its children) apart, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    found: Counter[str] = Counter()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue  # the thread ended meanwhile
        role = "the event loop (HTTP, queries answered at once)" if task.name == str(pid) else "other threads"
        role = next((named for start, named in THREAD_ROLES if name.startswith(start)), role)
        found[role] += (int(fields[11]) + int(fields[12])) / tick
    found["query worker processes"] = cpu_seconds(pid) - sum(found.values())
    return dict(found)
