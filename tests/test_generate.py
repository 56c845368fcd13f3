"""The synthetic graph: deterministic, of the size asked, conforming to the shapes, skewed like real data."""

import gzip
import io
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import oxigraph_serve

from policykg.config import Settings
from policykg.iris import closure_graph_iri
from policykg.model.closure import BROADER, BROADER_TRANSITIVE
from policykg.model.files import data_graph_iri, initialise, load_model
from policykg.model.loading import progress_bar
from policykg.model.synthetic import generate
from policykg.rdf.input import parse_bytes, to_rdflib_graph
from policykg.rdf.namespaces import ONTOLOGY_IRI
from policykg.store import EmbeddedStore, RemoteStore, Store
from policykg.validation.shacl import validate

B = "http://localhost:8000/"
CLOSURE = closure_graph_iri(B)
ROOT = Path(__file__).resolve().parents[1]


def generated(triples: int, seed: int) -> str:
    out = io.StringIO()
    generate(out, triples, seed, B)
    return out.getvalue()


def test_the_same_seed_gives_the_same_graph_and_another_seed_another():
    assert generated(5000, 1) == generated(5000, 1)
    assert generated(5000, 1) != generated(5000, 2)


def test_it_writes_at_least_the_quads_asked_and_not_many_more():
    quads = list(ox.parse(generated(20_000, 4).encode(), format=ox.RdfFormat.N_QUADS))
    assert 20_000 <= len(quads) <= 21_000
    assert len(set(quads)) == len(quads)


def test_the_generated_graph_conforms_to_the_shapes(shapes, ontology):
    quads = ox.parse(generated(3_500, 5).encode(), format=ox.RdfFormat.N_QUADS)
    report = validate(to_rdflib_graph(quads), shapes, ontology)
    assert report.results == ()


def test_participation_is_skewed_and_recommendations_vary_in_number():
    quads = list(ox.parse(generated(60_000, 6).encode(), format=ox.RdfFormat.N_QUADS))
    organisers = Counter(q.object.value for q in quads if q.predicate.value.endswith("#organisedBy"))
    counts = sorted(organisers.values(), reverse=True)
    assert counts[0] >= 5 * counts[len(counts) // 2]
    per_conference = Counter(q.object.value for q in quads if q.predicate.value.endswith("#issuedAt"))
    assert len(set(per_conference.values())) >= 5


def test_generate_and_load_from_the_command_line(tmp_path):
    data = tmp_path / "synthetic.nq.gz"
    run = [sys.executable, "-m", "policykg.cli"]
    made = subprocess.run(
        [*run, "generate", "--triples", "30000", "--seed", "9", "--output", str(data)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    written = int(made.stderr.splitlines()[-1].split()[1])  # the summary follows the progress lines
    loaded = subprocess.run(
        [*run, "load", str(data), "--store", str(tmp_path / "store")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert f"loaded {written} quads from 1 file" in loaded.stderr and "quads/s" in loaded.stderr
    assert "loading synthetic.nq.gz: 100%" in loaded.stderr
    assert "loaded the ontology, shapes and seed data" in loaded.stderr  # a new store gets the model too
    store = EmbeddedStore.on_disk(tmp_path / "store")
    assert without_closure(store) == written + model_quads()
    assert store.ask(f"ASK {{ GRAPH <{ONTOLOGY_IRI}> {{ ?s ?p ?o }} }}")
    store.close()


def model_quads() -> int:
    """How many quads the model (ontology, shapes, seed) adds to a new store, the closure of skos:broader apart."""
    store = EmbeddedStore.in_memory()
    load_model(store, Settings(store="memory"))
    return without_closure(store)


def without_closure(store: Store) -> int:
    """The store's quads but those of the closure of skos:broader (which grows with the generated concepts), after
    checking that the closure is there and is the closure of the store's skos:broader."""
    closure = {(q.subject, q.object) for q in store.graph_quads(CLOSURE) if q.predicate == BROADER_TRANSITIVE}
    defined = store.select(f"SELECT DISTINCT ?n ?b WHERE {{ ?n {BROADER}+ ?b }}").rows
    assert closure == set(defined) != set()
    return store.count() - len(store.graph_quads(CLOSURE))


def test_a_broken_file_loads_nothing(tmp_path):
    broken = tmp_path / "broken.nq"
    broken.write_text(generated(2_000, 3) + "<http://example.org/a> <http://example.org/b> oops .\n")
    run = subprocess.run(
        [sys.executable, "-m", "policykg.cli", "load", str(broken), "--store", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert run.returncode == 2 and "broken" not in run.stdout
    store = EmbeddedStore.on_disk(tmp_path / "s")
    assert store.count() == 0
    store.close()


def test_generate_reports_its_progress_without_changing_what_it_writes():
    reports: list[int] = []
    out = io.StringIO()
    written = generate(out, 20_000, 1, B, reports.append)
    assert out.getvalue() == generated(20_000, 1)
    assert len(reports) > 10 and reports == sorted(reports) and reports[-1] == written


def test_generate_shows_progress_on_the_command_line(tmp_path):
    made = subprocess.run(
        [sys.executable, "-m", "policykg.cli", "generate", "--triples", "20000", "--output", str(tmp_path / "g.nq.gz")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    assert "writing g.nq.gz: 50%" in made.stderr and "writing g.nq.gz: 100%" in made.stderr
    assert gzip.decompress((tmp_path / "g.nq.gz").read_bytes()).decode() == generated(20_000, 0)


def test_the_progress_display_writes_a_line_every_ten_percent_when_not_a_terminal():
    out = io.StringIO()
    show = progress_bar(out)
    for done in range(1001):
        show("loading x.nq", done, 1000)
    assert out.getvalue().splitlines() == [f"loading x.nq: {p}%" for p in range(0, 101, 10)]


class _Terminal(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def test_the_progress_display_redraws_a_terminal_line_only_when_its_text_changes():
    out = _Terminal()
    show = progress_bar(out)
    for done in range(1000, 2000):  # a thousand reports within the same tenth of a MB
        show("loading x.nq", done, 10_000_000)
    show("loading x.nq", 10_000_000, 10_000_000)
    assert out.writes == 2
    assert out.getvalue() == "\rloading x.nq:   0% (0.0 of 10.0 MB)\rloading x.nq: 100% (10.0 of 10.0 MB)\n"


def test_a_syntax_error_names_the_file_and_line(tmp_path):
    broken = tmp_path / "broken.nq"
    broken.write_text(generated(2_000, 3) + "<http://example.org/a> <http://example.org/b> oops .\n")
    lines = len(broken.read_text().splitlines())
    run = subprocess.run(
        [sys.executable, "-m", "policykg.cli", "load", str(broken), "--store", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert run.returncode == 2 and f"{broken}:{lines}:" in run.stderr


def test_a_truncated_gzip_file_loads_nothing_and_says_so(tmp_path):
    whole = gzip.compress(generated(30_000, 3).encode())
    truncated = tmp_path / "truncated.nq.gz"
    truncated.write_bytes(whole[: len(whole) // 2])
    run = subprocess.run(
        [sys.executable, "-m", "policykg.cli", "load", str(truncated), "--store", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert run.returncode == 2 and f"{truncated}: cannot decompress" in run.stderr
    store = EmbeddedStore.on_disk(tmp_path / "s")
    assert store.count() == 0
    store.close()


@pytest.fixture
def empty_oxigraph(tmp_path):
    """A fresh `oxigraph serve` of its own (the session's shared one must not receive a load); yields its URL."""
    yield from oxigraph_serve(tmp_path / "oxigraph")


def _load_remote(url: str, path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYKG_")}
    env.update(POLICYKG_REMOTE_UPDATE_URL=url + "/update", POLICYKG_REMOTE_STORE_URL=url + "/store")
    return subprocess.run(
        [sys.executable, "-m", "policykg.cli", "load", str(path), "--store", url + "/query"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env=env,
    )


def test_load_streams_a_gzip_file_into_a_remote_store_in_batches(tmp_path, empty_oxigraph):
    data = tmp_path / "synthetic.nq.gz"
    data.write_bytes(gzip.compress(generated(120_000, 7).encode()))  # more than two batches
    loaded = _load_remote(empty_oxigraph, data)
    assert loaded.returncode == 0, loaded.stderr
    assert "checking synthetic.nq.gz: 100%" in loaded.stderr and "loading synthetic.nq.gz: 100%" in loaded.stderr
    remote = RemoteStore(empty_oxigraph + "/query")
    assert without_closure(remote) == len(generated(120_000, 7).splitlines()) + model_quads()
    remote.close()


def test_a_broken_file_sends_nothing_to_a_remote_store(tmp_path, empty_oxigraph):
    broken = tmp_path / "broken.nq"
    broken.write_text(generated(60_000, 3) + "<http://example.org/a> <http://example.org/b> oops .\n")
    loaded = _load_remote(empty_oxigraph, broken)
    assert loaded.returncode == 2 and f"{broken}:" in loaded.stderr
    remote = RemoteStore(empty_oxigraph + "/query")
    assert remote.count() == 0
    remote.close()


def test_a_store_loaded_without_its_model_gets_it_at_the_next_start(settings):
    # As `policykg load` leaves a new store killed after the data, before the model: serve adds the model.
    store = EmbeddedStore.in_memory()
    data = set(parse_bytes(generated(2_000, 5).encode(), "nquads", B))
    store.add(data, data_graph_iri(settings))
    assert initialise(store, settings) is True
    assert without_closure(store) == len(data) + model_quads()
    assert initialise(store, settings) is False and without_closure(store) == len(data) + model_quads()
