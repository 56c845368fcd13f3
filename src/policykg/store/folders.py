"""The folders of an on-disk store: the store's own, opened with a clear error, and the copies kept beside it."""

import shutil
import uuid
from pathlib import Path

import pyoxigraph as ox

from policykg.errors import StoreError, StoreInUse

_FROZEN = ".frozen-"  # <store>.frozen-<id>: a checkpoint of the store (a frozen copy, a copy to merge), beside it


def open_folder(folder: Path) -> ox.Store:
    """Open (creating if needed) the store kept in folder, and remove the copies a run that ended abruptly left."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        inner = ox.Store(str(folder))
    except OSError as error:
        if "LOCK" in str(error):  # RocksDB's lock file: another process (or this one) holds the store
            raise StoreInUse(
                f"the store in {folder} is in use by another process (a running policykg serve?): "
                "one process at a time may open it"
            ) from None
        raise StoreError(f"cannot open the store in {folder}: {error}") from None
    except RuntimeError as error:  # RocksDB found its files damaged
        raise StoreError(f"cannot open the store in {folder}: {error}") from None
    for left in folder.parent.glob(f"{folder.name}{_FROZEN}*"):
        shutil.rmtree(left, ignore_errors=True)
    return inner


def copy_beside(folder: Path, purpose: str = "") -> Path:
    """A new name for a checkpoint of the store in folder, beside it (removed at the next open if left behind)."""
    return folder.with_name(f"{folder.name}{_FROZEN}{purpose}{uuid.uuid4().hex}")


def empty_snapshots(folder: Path) -> Path:
    """The folder of the query workers' snapshots of the store in folder, emptied of an earlier run's."""
    snapshots = folder.with_name(folder.name + ".snapshots")
    shutil.rmtree(snapshots, ignore_errors=True)
    snapshots.mkdir(parents=True)
    return snapshots
