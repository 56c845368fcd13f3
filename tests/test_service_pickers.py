"""A form's pickers over HTTP: /contribute/choices (what the script asks as a person types), the pages' script and
its policy, and "Add another" for a picker without script."""

import itertools
import re
import uuid

import httpx
import pytest

B = "http://localhost:8000/"
PKG = "https://w3id.org/policykg/ontology#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SRJ = "application/sparql-results+json"
ORGANISATION_PICKER = {"type": "Post", "field": "postIn"}  # sh:class pkg:Organisation
CONCEPT_PICKER = {"type": "ExpertGroupMeeting", "field": "mainTopic"}  # sh:class pkg:PolicyConcept
# Series numbers no other test of the shared service uses.
NUMBERS = itertools.count(75_000)


def choices(service, picker: dict[str, str], q: str, **more: object) -> dict:
    answer = httpx.get(service.url + "/contribute/choices", params={**picker, "q": q, **more})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    return answer.json()


def select(service, query: str) -> list[tuple[str, ...]]:
    answer = httpx.get(service.sparql, params={"query": query}, headers={"Accept": SRJ})
    names = answer.json()["head"]["vars"]
    return [tuple(row[n]["value"] for n in names) for row in answer.json()["results"]["bindings"]]


def of_class(service, iri: str, cls: str) -> bool:
    query = f"ASK {{ GRAPH ?g {{ <{iri}> a ?c }} GRAPH ?o {{ ?c <{RDFS}subClassOf>* <{cls}> }} }}"
    return httpx.get(service.sparql, params={"query": query}, headers={"Accept": SRJ}).json()["boolean"]


def test_the_exact_name_of_each_seed_organisation_finds_it_first(service):
    organisations = select(
        service,
        f"SELECT DISTINCT ?o ?l WHERE {{ GRAPH ?g {{ ?o a <{PKG}Organisation> }} GRAPH ?h {{ ?o <{RDFS}label> ?l }} "
        f'FILTER(STRSTARTS(STR(?o), "{B}id/org/")) }}',
    )
    assert len(organisations) >= 8  # NEMO, FARO, the European Commission, DG EAC, …
    for iri, label in organisations:
        found = choices(service, ORGANISATION_PICKER, label)
        assert found["choices"][0] == {"iri": iri, "label": label}, (label, found)
        # Case-blind, and any part of the name.
        for part in (label.upper(), label[1:-1]):
            assert iri in [c["iri"] for c in choices(service, ORGANISATION_PICKER, part, limit=50)["choices"]]


def test_every_word_must_occur_and_names_that_start_with_them_come_first(service):
    found = choices(service, ORGANISATION_PICKER, "european")["choices"]
    labels = [c["label"] for c in found]
    assert {"European Commission", "Europeana Foundation", "House of European History"} <= set(labels)
    later = labels.index("House of European History")  # "european" is not where its name starts
    assert later > labels.index("European Commission") and later > labels.index("Europeana Foundation")
    both = choices(service, ORGANISATION_PICKER, "HISTORY european")["choices"]
    assert both == [{"iri": B + "id/org/house-of-european-history", "label": "House of European History"}]
    assert choices(service, ORGANISATION_PICKER, "european nonesuchword")["choices"] == []


def test_a_picker_offers_things_of_its_class_only(service):
    organisations = choices(service, ORGANISATION_PICKER, "european", limit=50)
    concepts = choices(service, CONCEPT_PICKER, "european", limit=50)
    assert organisations["classes"] == [PKG + "ExpertGroup", PKG + "Organisation"]  # a class and its subclasses
    assert organisations["choices"] and concepts["choices"]
    assert not {c["iri"] for c in organisations["choices"]} & {c["iri"] for c in concepts["choices"]}
    for choice in organisations["choices"]:
        assert of_class(service, choice["iri"], PKG + "Organisation"), choice
    for choice in concepts["choices"]:
        assert of_class(service, choice["iri"], PKG + "PolicyConcept"), choice
    # A thing of another class, named by the exact words, is not offered.
    assert choices(service, ORGANISATION_PICKER, "Julia Pagel")["choices"] == []
    persons = choices(service, {"type": "Post", "field": "heldBy"}, "Julia Pagel")["choices"]
    assert persons == [{"iri": B + "id/person/julia-pagel", "label": "Julia Pagel"}]


def test_the_count_is_bounded_and_says_when_there_are_more(service):
    every = choices(service, ORGANISATION_PICKER, "", limit=50)
    assert len(every["choices"]) >= 8
    labels = [c["label"].lower() for c in every["choices"]]
    assert labels == sorted(labels)  # no words: by name
    first = choices(service, ORGANISATION_PICKER, "", limit=3)
    assert first["choices"] == every["choices"][:3] and first["more"] is True
    assert len(choices(service, ORGANISATION_PICKER, "")["choices"]) <= 10  # the default


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"type": "Post"},
        {"type": "NoSuchForm", "field": "postIn"},
        {"type": "Post", "field": "noSuchField"},
        {"type": "Post", "field": "label"},  # a field, not a picker
        {**ORGANISATION_PICKER, "q": "x" * 201},
        {**ORGANISATION_PICKER, "q": "nemo\x00"},
        {**ORGANISATION_PICKER, "q": "nemo\nfaro"},
        {**ORGANISATION_PICKER, "limit": "0"},
        {**ORGANISATION_PICKER, "limit": "51"},
        {**ORGANISATION_PICKER, "limit": "ten"},
    ],
)
def test_bad_input_is_refused_with_400(service, params):
    answer = httpx.get(service.url + "/contribute/choices", params=params, headers={"Accept": "application/json"})
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


def test_words_are_only_ever_words_never_part_of_a_query(service):
    for words in ('" ) } } DELETE WHERE { ?s ?p ?o } #', "') } #", "\\u0022", "*", ".*"):
        assert choices(service, ORGANISATION_PICKER, words)["choices"] == []
    assert select(service, f"SELECT ?l WHERE {{ GRAPH ?g {{ <{B}id/org/nemo> <{RDFS}label> ?l }} }}")


def test_a_thing_added_a_moment_ago_is_offered_at_once(service):
    name = f"Picker test organisation {next(NUMBERS)} {uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=service.url, timeout=60) as client:
        csrf = csrf_of(client.get("/signin"))
        client.post("/signin", data={"csrf": csrf, "token": "contributor-token-alice", "next": "/contribute"})
        csrf = csrf_of(client.get("/contribute/new", params={"type": "Organisation"}))
        data = {"csrf": csrf, "type": "Organisation", "action": "submit", "label": name, "label.lang": "en"}
        data |= {"source": B + "id/source/wikidata", "kind": "editorial"}
        assert client.post("/contribute/new", data=data).status_code == 303
    found = choices(service, ORGANISATION_PICKER, name.split()[-1])["choices"]
    assert [c["label"] for c in found] == [name]


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, "the page has no CSRF field"
    return found.group(1)


def test_the_contribution_pages_run_our_script_only(service):
    page = httpx.get(service.url + "/contribute/new", params={"type": "Post"})
    policy = page.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["connect-src"] == "'self'"
    assert directives["default-src"] == "'none'" and "unsafe-eval" not in policy
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page.text, re.S)
    assert len(scripts) == 1 and scripts[0][1] == ""  # nothing inline
    src = re.search(r'src="(/contribute/assets/contribute\.[0-9a-f]{12}\.js)"', scripts[0][0]).group(1)
    script = httpx.get(service.url + src)
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "immutable" in script.headers["cache-control"] and script.headers["x-content-type-options"] == "nosniff"
    assert httpx.get(service.url + "/contribute/assets/contribute.000000000000.js").status_code == 404
    # The pickers name what the script asks; other pages keep the site's policy, which runs no script at all.
    assert 'data-choices="/contribute/choices?type=Post&amp;field=postIn"' in page.text
    for other in ("/", "/signin", "/search"):
        assert "script-src" not in httpx.get(service.url + other).headers["content-security-policy"]


def test_add_another_without_script_keeps_a_pickers_choice_and_gives_it_one_more_box(service):
    with httpx.Client(base_url=service.url, timeout=60) as client:
        form = client.get("/contribute/new", params={"type": "Post"})
        assert 'value="more:heldBy"' in form.text and 'value="more:postIn"' not in form.text  # at most one
        data = {
            "csrf": csrf_of(form),
            "type": "Post",
            "action": "more:heldBy",
            "heldBy": B + "id/person/julia-pagel",
            "postIn": B + "id/org/nemo",
        }
        more = client.post("/contribute/new", data=data)
    assert more.status_code == 200
    boxes = re.findall(r'<select id="heldBy-(\d+)" name="heldBy"[^>]*>(.*?)</select>', more.text, re.S)
    chosen = [re.findall(r'<option value="([^"]+)" selected>', options) for _, options in boxes]
    assert [n for n, _ in boxes] == ["0", "1", "2"] and chosen == [[B + "id/person/julia-pagel"], [], []]
    assert re.search(rf'<option value="{B}id/org/nemo" selected>', more.text)
