"""The table files of an on-disk store: whether they are as its last compaction left them, and merging a copy.

Every write the service makes ends with a checkpoint for the query workers, and a checkpoint writes what
was written into new small table files (RocksDB's level 0) beside the large ones. Until the files are
merged again, every step of a query looks into them too (writing/compaction.py says what that costs and
how the service serves its queries from a merged copy). A compaction of the store itself (a load, a
restore) notes the names of the files it left in a file of the store's folder, NOTE (RocksDB leaves alone
the files it did not name, and the note goes where the folder goes); any table file written since has
another name. So a service that starts can tell, without reading the store, whether its files need
merging: a note that is missing or stale costs one merge more, never an answer.
"""

import os
from pathlib import Path

import pyoxigraph as ox

_TABLE = "*.sst"
NOTE = "policykg-compacted"
PASSES = 3  # compactions at the most, each only if the one before changed a file


def compact(store: ox.Store, folder: Path) -> None:
    """Compact the store kept in folder until a pass leaves its table files as they were (PASSES at the most).

    One pass of Oxigraph's optimize may leave a bulk load's files in several runs: at 10,000,000 quads a second
    pass merged 65 table files into 44 and made the heavy questions 20 % faster; a third changed nothing.
    """
    for _ in range(PASSES):
        before = _tables(folder)
        store.optimize()
        if _tables(folder) == before:
            return


def note_compacted(folder: Path) -> None:
    """Note the store's table files as they are now, just compacted (written whole or not at all)."""
    note = _note(folder)
    partial = note.with_name(note.name + ".partial")
    partial.write_text("".join(f"{name}\n" for name in sorted(_tables(folder))), encoding="utf-8")
    os.replace(partial, note)


def as_compacted(folder: Path) -> bool:
    """Whether the store's table files are those its last compaction noted (False with no note)."""
    try:
        noted = set(_note(folder).read_text(encoding="utf-8").split())
    except OSError:
        return False
    return noted == _tables(folder)


def merge_files(folder: Path) -> None:
    """Merge the table files of the copy of a store in folder (a checkpoint no other process holds) into one run."""
    copy = ox.Store(str(folder))
    compact(copy, folder)
    del copy  # closes it: its folder is then read by others


def _note(folder: Path) -> Path:
    return folder / NOTE


def _tables(folder: Path) -> set[str]:
    return {path.name for path in folder.glob(_TABLE)}
