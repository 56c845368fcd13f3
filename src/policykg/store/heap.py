"""The process's heap: free pages given back to the system after work that needed many."""

import ctypes
import functools
from collections.abc import Callable


def return_free_memory() -> None:
    """Give the heap's free pages back to the system, where the C library allows it (glibc's malloc_trim).

    A dump's working memory grows with the store (about 160 MB at 10M quads); once freed, glibc keeps it in
    the arena of the thread that ran the dump, so the process would hold one such block per dump thread.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to do
        return None
