"""The full-text index (Tantivy) of the store's readable literals, kept in step with every write.

Crash safety: before a write reaches the store, a mark is written (and flushed to disk) next to the index;
it is removed once the index has taken the write in. A mark found on opening means the store may hold a
write the index lacks, and the index is rebuilt from the store. So is an index that is missing, made by
another version of this module, or made of a store whose size has changed since it was last closed.
"""

import json
import logging
import os
import shutil
import threading
from collections.abc import Iterable
from pathlib import Path

import tantivy

from policykg.config import Settings, beside_store
from policykg.errors import StoreError
from policykg.search.documents import Document, read_documents
from policykg.store import Store

_log = logging.getLogger("policykg.search")
# Bump when the schema, the tokenizer or what a document holds changes: an older index is then rebuilt.
INDEX_VERSION = 1
TOKENIZER = "policykg"
KEYWORD_FIELDS = ("type", "concept", "event", "organisation", "status")
WRITER_HEAP_BYTES = 128 * 1024 * 1024


def make_schema() -> tantivy.Schema:
    """The index's fields: the IRI, names and texts for searching, and the values results are narrowed by."""
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("iri", stored=True, tokenizer_name="raw")
    builder.add_text_field("label", stored=True, tokenizer_name=TOKENIZER)
    builder.add_text_field("body", stored=True, tokenizer_name=TOKENIZER)
    for name in KEYWORD_FIELDS:
        builder.add_text_field(name, stored=True, tokenizer_name="raw", fast=True)
    builder.add_integer_field("year", stored=True, indexed=True, fast=True)
    return builder.build()


def make_analyzer(stem: bool = True) -> tantivy.TextAnalyzer:
    """Words lower-cased and folded to ASCII (so 'déjà' finds 'deja'), then English-stemmed.

    Text in other languages goes through the same analyzer: words are split and folded alike, and the
    English stemmer, applied the same way to the text and to the query, keeps them findable.
    """
    builder = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(64))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
    )
    if stem:
        builder = builder.filter(tantivy.Filter.stemmer("english"))
    return builder.build()


class SearchIndex:
    """A Tantivy index in a folder (or in memory), with its state file and pending mark beside it."""

    def __init__(self, folder: Path | None) -> None:
        self.schema = make_schema()
        self._folder = folder
        self._lock = threading.Lock()
        if folder is None:
            self._index = tantivy.Index(self.schema)
            self._fresh = True
        else:
            self._fresh = self._state().get("version") != INDEX_VERSION
            if self._fresh:  # another version's files may not fit this schema: start from an empty folder
                shutil.rmtree(folder / "tantivy", ignore_errors=True)
            (folder / "tantivy").mkdir(parents=True, exist_ok=True)
            self._index = tantivy.Index(self.schema, path=str(folder / "tantivy"))
        self._index.register_tokenizer(TOKENIZER, make_analyzer())
        # One writer for the index's life: it holds the index's lock, so one process at a time writes it.
        self._open_writer: tantivy.IndexWriter | None = self._index.writer(WRITER_HEAP_BYTES, 1)

    @property
    def index(self) -> tantivy.Index:
        """The Tantivy index, for searching."""
        return self._index

    def searcher(self) -> tantivy.Searcher:
        """A searcher over the last committed state."""
        return self._index.searcher()

    def needs_rebuild(self, store: Store) -> str | None:
        """Why the index must be rebuilt from the store before it is used (None: it is in step)."""
        if self._folder is None:
            return "the index is kept in memory"
        if self._fresh:
            return "there is no index, or it was made by another version"
        if self._pending_mark().exists():
            return "a write was cut short between the store and the index"
        if self._state().get("quads") != store.count():
            return "the store changed while the index was closed"
        return None

    def open_for(self, store: Store) -> str | None:
        """Make the index fit the store (rebuilding it if needed) and mark it in use; say why it was rebuilt."""
        reason = self.needs_rebuild(store)
        if reason is not None:
            _log.info("building the full-text index from the store (%s): minutes for millions of triples", reason)
            try:
                self.rebuild(store)
            except StoreError as error:
                raise StoreError(f"the full-text index could not be built from the store: {error}") from None
        self._write_state(None)  # in use: until closed, the size check cannot vouch for the index
        return reason

    def rebuild(self, store: Store) -> int:
        """Index every resource of the store afresh; return how many documents the index holds."""
        with self._lock:
            self._writer.delete_all_documents()
            count = 0
            for document in read_documents(store):
                self._writer.add_document(self._document(document))
                count += 1
            self._commit()
            self._write_state(store.count())
            self._clear_mark()
            return count

    def begin_write(self) -> None:
        """Say, durably, that a write is about to reach the store and the index does not have it yet."""
        if self._folder is None:
            return
        mark = self._pending_mark()
        with open(mark, "wb") as file:
            file.write(b"pending\n")
            file.flush()
            os.fsync(file.fileno())

    def refresh(self, store: Store, subjects: Iterable[str] | None) -> None:
        """Re-read the given subjects (None: everything) from the store into the index, then clear the mark."""
        if subjects is None:
            self.rebuild(store)
            return
        chosen = set(subjects)
        with self._lock:
            for iri in chosen:
                self._writer.delete_documents_by_term("iri", iri)
            for document in read_documents(store, chosen):
                self._writer.add_document(self._document(document))
            self._commit()
            self._clear_mark()

    def close(self, store: Store) -> None:
        """Let go of the index; record the store's size, so that a later start can tell whether it changed since."""
        self._open_writer = None  # Tantivy releases the lock with the writer
        if self._folder is not None and not self._pending_mark().exists():
            self._write_state(store.count())

    @property
    def _writer(self) -> tantivy.IndexWriter:
        if self._open_writer is None:
            raise StoreError("the full-text index has been closed")
        return self._open_writer

    def _commit(self) -> None:
        self._writer.commit()
        self._index.reload()

    def _document(self, document: Document) -> tantivy.Document:
        fields: dict[str, object] = {
            "iri": document.iri,
            "label": document.labels,
            "body": document.texts,
            "type": sorted(document.types),
            "concept": sorted(document.concepts),
            "event": sorted(document.events),
            "organisation": sorted(document.organisations),
            "status": sorted(document.statuses),
            "year": sorted(document.years),
        }
        return tantivy.Document(**{name: value for name, value in fields.items() if value})

    def _pending_mark(self) -> Path:
        assert self._folder is not None
        return self._folder / "pending"

    def _clear_mark(self) -> None:
        if self._folder is not None:
            self._pending_mark().unlink(missing_ok=True)

    def _state(self) -> dict[str, object]:
        assert self._folder is not None
        try:
            state = json.loads((self._folder / "state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def _write_state(self, quads: int | None) -> None:
        if self._folder is None:
            return
        path = self._folder / "state.json"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"version": INDEX_VERSION, "quads": quads}), encoding="utf-8")
        os.replace(temporary, path)


def open_index(settings: Settings, store: Store) -> SearchIndex:
    """The configured store's index, made to fit the store (rebuilt if it is missing or behind)."""
    index = SearchIndex(index_folder(settings.store, settings.search_index))
    reason = index.open_for(store)
    if reason is not None:
        _log.info("the full-text index was rebuilt: %s", reason)
    return index


def index_folder(store_location: str, configured: str | None) -> Path | None:
    """Where the index of a store lives: as configured, else beside an on-disk store, in memory for 'memory',
    and var/search for a remote store."""
    return beside_store(store_location, configured, ".search")
