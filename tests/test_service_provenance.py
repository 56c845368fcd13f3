"""Provenance precision, asked of the running service: each fact sits in a graph of the kind its source makes it."""

import re

import httpx

B = "http://localhost:8000/"
PKG = "https://w3id.org/policykg/ontology#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
EUROVOC = "http://eurovoc.europa.eu/"
MEETING = B + "id/event/cultural-heritage-expert-group-meeting-11"
PREFIXES = (
    f"PREFIX pkg: <{PKG}> PREFIX skos: <{SKOS}> PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> "
    "PREFIX prov: <http://www.w3.org/ns/prov#> "
    "PREFIX schema: <https://schema.org/> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> "
)
YEAR = re.compile(r"\b(1[89]|20)\d\d\b")


def select(service, query: str) -> list[dict[str, str]]:
    """The rows of a SELECT over HTTP, each variable's value as a string."""
    response = httpx.post(
        service.sparql, data={"query": PREFIXES + query}, headers={"Accept": "application/sparql-results+json"}
    )
    assert response.status_code == 200, response.text
    return [{name: term["value"] for name, term in row.items()} for row in response.json()["results"]["bindings"]]


def test_identity_links_sit_in_graphs_derived_from_the_reference_that_verified_them(read_only_service):
    rows = select(
        read_only_service,
        """
        SELECT ?s ?p ?o ?g ?source WHERE {
          GRAPH ?g { ?s ?p ?o } VALUES ?p { pkg:authorityEntry schema:sameAs }
          OPTIONAL { GRAPH ?any { ?g prov:wasDerivedFrom ?source } } }""",
    )
    found = {
        (row["s"].removeprefix(B), row["o"], row["g"].removeprefix(B), row.get("source", "").removeprefix(B))
        for row in rows
    }
    tables, wikidata = "id/source/eu-authority-tables", "id/source/wikidata"
    assert found == {
        (
            "id/org/european-commission",
            "http://publications.europa.eu/resource/authority/corporate-body/COM",
            "graph/reference/authority-tables",
            tables,
        ),
        (
            "id/place/belgium",
            "http://publications.europa.eu/resource/authority/country/BEL",
            "graph/reference/authority-tables",
            tables,
        ),
        (
            "id/place/brussels",
            "http://publications.europa.eu/resource/authority/place/BEL_BRU",
            "graph/reference/authority-tables",
            tables,
        ),
        ("id/org/european-commission", "http://www.wikidata.org/entity/Q8880", "graph/reference/wikidata", wikidata),
        ("id/place/belgium", "http://www.wikidata.org/entity/Q31", "graph/reference/wikidata", wikidata),
        ("id/place/brussels", "http://www.wikidata.org/entity/Q239", "graph/reference/wikidata", wikidata),
    }
    # Both references are source documents, and the graphs that cite them are stated ones.
    kinds = select(
        read_only_service,
        """
        SELECT ?g ?kind WHERE { GRAPH ?any { ?g a ?kind } VALUES ?g {
          <http://localhost:8000/graph/reference/authority-tables> <http://localhost:8000/graph/reference/wikidata>
          <http://localhost:8000/id/source/eu-authority-tables> <http://localhost:8000/id/source/wikidata> } }""",
    )
    assert {(row["g"].removeprefix(B), row["kind"].removeprefix(PKG)) for row in kinds} == {
        ("graph/reference/authority-tables", "StatedAssertion"),
        ("graph/reference/wikidata", "StatedAssertion"),
        ("id/source/eu-authority-tables", "SourceDocument"),
        ("id/source/wikidata", "SourceDocument"),
    }


def test_no_stated_or_reference_graph_gives_the_meeting_a_year_or_a_full_date(read_only_service):
    rows = select(
        read_only_service,
        f"""
        SELECT ?g ?kind ?s ?p ?o WHERE {{
          GRAPH ?g {{ ?s ?p ?o }}
          {{ GRAPH ?any {{ ?g a ?kind }} VALUES ?kind {{ pkg:StatedAssertion pkg:InferredAssertion }} }}
          FILTER (?s = <{MEETING}> || isLiteral(?o)) }}""",
    )
    stated = [row for row in rows if row["kind"] == PKG + "StatedAssertion"]
    assert any(row["g"] == B + "graph/reference/ai-act" for row in stated)  # the reference graphs are stated ones
    dates = [row for row in stated if row["s"] == MEETING and YEAR.search(row["o"])]
    assert dates == []
    about_the_meeting = [row for row in stated if "11th meeting" in row["o"] and YEAR.search(row["o"])]
    assert about_the_meeting == []
    # The year is given where it belongs: by the inferred graph, for the dates and for the AI Act's timing.
    inferred = {
        (row["s"].removeprefix(B), row["p"].rsplit("/", 1)[-1].rsplit("#", 1)[-1], row["o"])
        for row in rows
        if row["kind"] == PKG + "InferredAssertion" and YEAR.search(row["o"])
    }
    assert ("id/event/cultural-heritage-expert-group-meeting-11", "startDate", "2024-04-09") in inferred
    assert any(s == "id/concept/ai-act" and "April 2024" in o for s, _, o in inferred)


def test_editors_text_sits_in_editorial_graphs_and_no_unsourced_organiser_is_claimed(read_only_service):
    rows = select(
        read_only_service,
        """
        SELECT ?g ?s ?p WHERE {
          GRAPH ?g { ?s ?p ?o } { GRAPH ?any { ?g a pkg:StatedAssertion } }
          FILTER (?p IN (skos:definition, skos:hasTopConcept, skos:inScheme, skos:topConceptOf)
                  || (?p = rdf:type && ?o = skos:ConceptScheme)) }""",
    )
    assert rows == []
    audience = select(
        read_only_service,
        """
        SELECT ?g ?kind WHERE { GRAPH ?g { <http://localhost:8000/id/audience/policymakers> skos:definition ?d }
                                GRAPH ?any { ?g a ?kind } }""",
    )
    assert audience == [{"g": B + "graph/seed/audiences", "kind": PKG + "EditorialAssertion"}]
    organisers = select(
        read_only_service,
        """
        SELECT ?g WHERE { GRAPH ?g { <http://localhost:8000/id/series/cultural-heritage-expert-group-meetings>
                                     schema:organizer ?who } }""",
    )
    assert organisers == []


def test_every_eurovoc_mapping_says_exactly_what_holds(read_only_service):
    rows = select(
        read_only_service,
        """
        SELECT ?concept ?kind ?target WHERE { GRAPH ?g { ?concept ?kind ?target }
          VALUES ?kind { skos:exactMatch skos:closeMatch skos:broadMatch skos:narrowMatch skos:relatedMatch }
          FILTER STRSTARTS(STR(?concept), "http://localhost:8000/id/concept/") }""",
    )
    mappings = sorted(
        (
            row["concept"].removeprefix(B + "id/concept/"),
            row["kind"].removeprefix(SKOS),
            row["target"].removeprefix(EUROVOC),
        )
        for row in rows
    )
    assert mappings == sorted(
        [
            ("cultural-heritage", "exactMatch", "2278"),  # cultural heritage
            ("museums", "exactMatch", "2022"),  # museum
            ("artificial-intelligence", "exactMatch", "3030"),  # artificial intelligence
            ("copyright", "exactMatch", "529"),  # copyright
            ("regional-and-urban-policy", "narrowMatch", "2515"),  # regional policy: a part of ours
            ("regional-and-urban-policy", "closeMatch", "4619"),  # town planning, nearest to urban policy
            ("regional-and-urban-policy", "relatedMatch", "431"),  # regional development
            ("regional-and-urban-policy", "relatedMatch", "1056"),  # European Regional Development Fund
            ("digitalisation-funding", "relatedMatch", "6191"),  # digitisation
            ("digitalisation-funding", "relatedMatch", "c_658ff033"),  # digital transformation
            ("common-european-data-space-for-cultural-heritage", "relatedMatch", "c_eaccd9f4"),  # data sharing
            ("european-collaborative-cloud-for-cultural-heritage", "relatedMatch", "c_433922a6"),  # cloud computing
            ("interoperable-data-and-metadata", "relatedMatch", "c_40f54e0c"),  # metadata
            ("ethics-of-emerging-technologies", "broadMatch", "1989"),  # ethics, broader than ours
            ("innovation", "broadMatch", "1439"),  # innovation in general, broader than ours (the sector's)
        ]
    )
