"""What the seed's recommendations say, as data an analyst filters by: asked of the running service over HTTP."""

import dataclasses
import html
import re

import httpx

from policykg.model.questions import get_question

B = "http://localhost:8000/"
REC = B + "id/recommendation/innovation-and-integrity-"
PKG = "https://w3id.org/policykg/ontology#"


def ask(service, name: str, **params: str) -> list[tuple[str | None, ...]]:
    """A competency question over HTTP, its parameters fixed inline; rows of values (None where unbound)."""
    question = get_question(name)
    question = dataclasses.replace(question, params={**question.params, **params})
    response = httpx.post(
        service.sparql,
        data={"query": f"BASE <{B}>\n" + question.inline_sparql()},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    names = body["head"]["vars"]
    return [tuple(row[n]["value"] if n in row else None for n in names) for row in body["results"]["bindings"]]


def tail(iri: str | None) -> str | None:
    return iri.removeprefix(B + "id/") if iri else iri


def said(service, ordinal: int) -> list[tuple[str, str, str]]:
    """(kind, value, the sentence's first words) for everything recommendation n says, as the question orders it."""
    rows = ask(service, "recommendation-provisions", recommendation=f"<{REC}{ordinal}>")
    assert {row[0] for row in rows} == {REC + str(ordinal)}
    return [(kind, tail(value), " ".join(quote.split()[:3])) for _, kind, value, _, quote, _ in rows]


def test_recommendation_1_is_grounded_in_trust_calls_on_three_actors_and_asks_for_a_place_in_the_rules(
    read_only_service,
):
    assert said(read_only_service, 1) == [
        ("grounded in", "premise/museums-as-pillars-of-trust", "Recognising the unique"),
        ("calls on", "audience/governments", "Collaborative efforts between"),
        ("calls on", "audience/museum-professionals", "Collaborative efforts between"),
        ("calls on", "audience/regulatory-bodies", "Collaborative efforts between"),
        ("asks for", "means/integration-into-a-regulatory-framework", "Recognising the unique"),
        ("asks for", "means/collaborative-efforts", "Collaborative efforts between"),
        ("aims at", "aim/ai-in-museums-shaped-from-within", "Artificial intelligence in"),
        ("aims at", "aim/pivotal-role-in-ethical-practices", "Collaborative efforts between"),
    ]


def test_recommendation_2_asks_for_funding_data_copyright_skills_and_commitments(read_only_service):
    assert said(read_only_service, 2) == [
        ("asks for", "means/equipment", "Financial resources must"),
        ("asks for", "means/financial-resources", "Financial resources must"),
        ("asks for", "means/highly-qualified-human-resources", "Financial resources must"),
        ("asks for", "means/infrastructure", "Financial resources must"),
        ("asks for", "means/high-quality-interoperable-data", "AI needs to"),
        ("asks for", "means/properly-described-metadata", "AI needs to"),
        ("asks for", "means/resolution-of-copyright-issues", "Copyright issues must"),
        ("asks for", "means/adequate-skills-of-museum-professionals", "Museum professionals need"),
        ("asks for", "means/expanded-support-commitments", "Furthermore, standing commitments"),
        ("aims at", "aim/enhanced-professional-capacities", "Financial resources must"),
        ("aims at", "aim/keeping-pace-with-ai", "Museum professionals need"),
        ("aims at", "aim/sector-specific-concerns-addressed", "Museum professionals need"),
        ("aims at", "aim/digitalisation-for-data-spaces-and-cloud", "Furthermore, standing commitments"),
    ]


def test_recommendation_3_proposes_the_hub_and_aligns_it_with_three_values(read_only_service):
    assert said(read_only_service, 3) == [
        ("aims at", "aim/ai-challenges-faced", "To foster creativity,"),
        ("aims at", "aim/creativity-innovation-and-collaboration", "To foster creativity,"),
        ("aims at", "aim/centralised-expertise-and-knowledge", "To foster creativity,"),
        ("aims at", "aim/digital-innovation-across-the-sector", "This space would"),
        ("aims at", "aim/expertise-and-resources-brought-together", "This space would"),
        ("aligns with", "value/human-centred-design", "This space would"),
        ("aligns with", "value/open-source-practices", "This space would"),
        ("aligns with", "value/privacy", "This space would"),
        ("proposes", "concept/european-ai-innovation-hub-for-cultural-heritage", "To foster creativity,"),
    ]


def test_an_analyst_finds_the_recommendations_that_call_on_museum_professionals(read_only_service):
    rows = ask(read_only_service, "recommendations-calling-on")
    assert [(tail(r[1]), r[2], r[4]) for r in rows] == [
        (
            "recommendation/innovation-and-integrity-1",
            "1",
            "collaborative efforts between governments, regulatory bodies and museum professionals",
        ),
        (
            "recommendation/innovation-and-integrity-1",
            "1",
            "integration of museums and cultural heritage into a regulatory framework",
        ),
    ]
    assert ask(read_only_service, "recommendations-calling-on", actor=f"<{B}id/audience/policymakers>") == []


def test_an_analyst_finds_what_is_asked_for_around_digitalisation_funding(read_only_service):
    rows = ask(read_only_service, "recommendations-asking-for")
    assert [(r[1], r[3]) for r in rows] == [
        ("2", "equipment"),
        ("2", "expanded standing commitments to support the cultural heritage sector"),
        ("2", "financial resources"),
        ("2", "highly qualified human resources"),
        ("2", "infrastructure"),
    ]
    copyright_ = ask(read_only_service, "recommendations-asking-for", concept=f"<{B}id/concept/copyright>")
    assert [(r[1], r[3]) for r in copyright_] == [("2", "resolution of copyright issues")]


def test_an_analyst_finds_the_recommendation_aligned_with_privacy_and_what_it_proposes(read_only_service):
    assert [r[1:] for r in ask(read_only_service, "recommendations-by-value")] == [
        (
            "3",
            "Establishment of a European AI innovation hub for cultural heritage",
            "European AI innovation hub for cultural heritage",
        )
    ]
    assert ask(read_only_service, "recommendations-by-value", value=f"<{B}id/means/equipment>") == []


def test_every_aim_is_listed_with_the_policy_concepts_it_touches(read_only_service):
    rows = ask(read_only_service, "recommendation-aims")
    assert [(r[0], r[1][:40], r[2]) for r in rows] == [
        ("1", "a pivotal role for museums in the develo", "ethics of emerging technologies"),
        ("1", "artificial intelligence in museums addre", "artificial intelligence"),
        ("2", "keeping pace with rapidly evolving AI ca", "skills of museum professionals"),
        ("2", "museums' professional capacities enhance", "skills of museum professionals"),
        ("2", "sector-specific concerns addressed", None),
        ("2", "the quality and quantity of digitalisati", "Common European Data Space for Cultural Heritage"),
        ("2", "the quality and quantity of digitalisati", "European Collaborative Cloud for Cultural Heritage"),
        ("3", "challenges for the sector associated wit", "artificial intelligence"),
        ("3", "creativity, innovation and collaboration", "innovation"),
        ("3", "digital innovation and development acros", "innovation"),
        ("3", "expertise and knowledge centralised", None),
        ("3", "expertise and practices, knowledge and r", None),
    ]


def test_every_sentence_of_a_recommendation_is_an_excerpt_whose_graph_states_what_it_says(read_only_service):
    # Sentence by sentence: the excerpts of each recommendation's sentences cover its full text, and each
    # sentence's stated graph says something of the recommendation beyond its text.
    for ordinal in (1, 2, 3):
        rec = f"<{REC}{ordinal}>"
        full = ask(read_only_service, "fact-provenance", subject=rec)
        text = next(r[2] for r in full if r[1] == PKG + "fullText")
        response = httpx.post(
            read_only_service.sparql,
            headers={"Accept": "application/sparql-results+json"},
            data={
                "query": f"""PREFIX pkg: <{PKG}> PREFIX prov: <http://www.w3.org/ns/prov#>
                SELECT DISTINCT ?quote ?property WHERE {{
                  ?graph a pkg:StatedAssertion ; prov:wasDerivedFrom ?excerpt .
                  ?excerpt prov:value ?quote . GRAPH ?graph {{ {rec} ?property ?value }}
                  FILTER (?property IN (pkg:groundedIn, pkg:callsOn, pkg:asksFor, pkg:aimsAt, pkg:alignsWith,
                                        pkg:proposes)) }}"""
            },
        )
        quotes = {row["quote"]["value"] for row in response.json()["results"]["bindings"]}
        assert all(quote in text for quote in quotes)
        uncovered = text
        for quote in quotes:
            uncovered = uncovered.replace(quote, "")
        assert uncovered.strip() == "", (ordinal, uncovered)


def test_the_recommendation_page_shows_what_it_says_sentence_by_sentence(read_only_service):
    page = httpx.get(read_only_service.url + "/doc/id/recommendation/innovation-and-integrity-3.html").text
    section = page.split('id="provisions"', 1)[1].split("</section>", 1)[0]
    quotes = [html.unescape(q) for q in re.findall(r"<blockquote>(.*?)</blockquote>", section, re.S)]
    assert [q.split()[:3] for q in quotes] == [["To", "foster", "creativity,"], ["This", "space", "would"]]
    second = section.split("<blockquote>")[2]
    assert re.findall(r"<dt>(.*?)</dt>", second) == ["Aims at", "Aligns with"]
    assert '<a href="/doc/id/value/privacy.html">privacy</a>' in second
    first = section.split("<blockquote>")[1]
    assert "<dt>Proposes</dt>" in first and "European AI innovation hub for cultural heritage</a>" in first
