"""The synthetic graph: deterministic, of the size asked, conforming to the shapes, skewed like real data."""

import io
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyoxigraph as ox

from policykg.generate import generate
from policykg.rdfinput import to_rdflib_graph
from policykg.store import EmbeddedStore
from policykg.validation import validate

B = "http://localhost:8000/"
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
    made = subprocess.run([*run, "generate", "--triples", "30000", "--seed", "9", "--output", str(data)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    written = int(made.stderr.split()[1])
    loaded = subprocess.run([*run, "load", str(data), "--store", str(tmp_path / "store")],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert loaded.returncode == 0, loaded.stderr
    assert f"loaded {written} quads from 1 file" in loaded.stderr and "quads/s" in loaded.stderr
    assert "loading synthetic.nq.gz: 100%" in loaded.stderr
    store = EmbeddedStore.on_disk(tmp_path / "store")
    assert store.count() == written
    store.close()


def test_a_broken_file_loads_nothing(tmp_path):
    broken = tmp_path / "broken.nq"
    broken.write_text(generated(2_000, 3) + "<http://example.org/a> <http://example.org/b> oops .\n")
    run = subprocess.run([sys.executable, "-m", "policykg.cli", "load", str(broken), "--store", str(tmp_path / "s")],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 2 and "broken" not in run.stdout
    store = EmbeddedStore.on_disk(tmp_path / "s")
    assert store.count() == 0
    store.close()
