"""The documents kept between writes: made once per revision, the most recent kept within a count and a size."""

from policykg.web.context import Documents


def counting(made: list[str], body: bytes):  # type: ignore[no-untyped-def]
    def compute() -> bytes:
        made.append(body.decode())
        return body

    return compute


def test_a_document_is_made_once_per_revision_and_anew_after_a_write():
    documents, made = Documents(), []
    assert documents.get("r1", ("doc", "a"), counting(made, b"first")) == b"first"
    assert documents.get("r1", ("doc", "a"), counting(made, b"other")) == b"first"
    assert documents.get("r2", ("doc", "a"), counting(made, b"second")) == b"second"
    assert made == ["first", "second"]


def test_the_least_recently_asked_for_documents_go_first_past_the_count():
    documents, made = Documents(), []
    documents.ENTRIES = 2
    for key in ("a", "b", "a", "c"):  # a is asked for again before c comes: b goes
        documents.get("r", (key,), counting(made, key.encode()))
    for key in ("a", "c", "b"):
        documents.get("r", (key,), counting(made, key.encode()))
    assert made == ["a", "b", "c", "b"]


def test_documents_stay_within_the_size_and_a_large_one_is_not_kept():
    documents, made = Documents(), []
    documents.BYTES = 1600  # a document above a sixteenth of it (100 bytes) is made each time
    documents.get("r", ("large",), counting(made, b"x" * 101))
    documents.get("r", ("large",), counting(made, b"x" * 101))
    for key in range(20):
        documents.get("r", (str(key),), counting(made, b"y" * 100))
    assert len(made) == 22
    assert sum(len(v) for v in documents._kept.values()) <= 1600 and len(documents._kept) == 16


def test_a_kept_document_is_found_without_making_it_and_only_for_its_revision():
    documents, made = Documents(), []
    assert documents.kept("r1", ("doc", "a")) is None
    documents.get("r1", ("doc", "a"), counting(made, b"first"))
    assert documents.kept("r1", ("doc", "a")) == b"first"
    assert documents.kept("r1", ("doc", "b")) is None
    assert documents.kept("r2", ("doc", "a")) is None  # a write came: nothing of the revision before is served
    assert documents.get("r2", ("doc", "a"), counting(made, b"second")) == b"second"
    assert made == ["first", "second"]
