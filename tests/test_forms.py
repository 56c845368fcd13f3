"""Forms read from the shapes: fields, kinds, choices, cardinality, groups and order, and nothing per class."""

import rdflib
from rdflib.namespace import SH, XSD

from policykg.views.contribution import WHOLE, one_place
from policykg.views.forms import read_form

PKG = "https://w3id.org/policykg/ontology#"
PKGSH = rdflib.Namespace("https://w3id.org/policykg/shapes#")
PROV = "http://www.w3.org/ns/prov#"


def copy_of(graph: rdflib.Graph) -> rdflib.Graph:
    copy = rdflib.Graph()
    for triple in graph:
        copy.add(triple)
    return copy


def test_read_form_merges_the_shapes_of_the_class_and_the_classes_above_it(shapes, ontology):
    form = read_form(shapes, ontology, PKG + "ExpertGroupMeeting")
    number = next(f for f in form.fields if f.path == PKG + "seriesNumber")
    # pkg:Event's shape gives the datatype and at most one; the meeting's shape makes it required.
    assert (number.kind, number.min_count, number.max_count) == ("integer", 1, 1)
    assert number.required and not number.repeatable
    assert set(number.shapes) == {str(PKGSH["Event-seriesNumber"]), str(PKGSH["ExpertGroupMeeting-seriesNumber"])}
    assert form.label == "Expert group meeting"


def test_read_form_takes_labels_help_kinds_and_pickers_from_the_shapes(shapes, ontology):
    form = read_form(shapes, ontology, PKG + "ExpertGroupMeeting")
    by_key = {f.key: f for f in form.fields}
    assert by_key["label"].name == "Name" and by_key["label"].kind == "langtext" and by_key["label"].required
    assert by_key["startDate"].kind == "date" and by_key["startMonthDay"].kind == "monthday"
    assert by_key["partOfSeries"].kind == "resource" and by_key["partOfSeries"].classes == (PKG + "EventSeries",)
    assert set(by_key["organisedBy"].classes) == {PKG + "Organisation", PKG + "Person"}
    assert by_key["organisedBy"].repeatable
    assert by_key["seriesNumber"].description.startswith("Which meeting")


def test_read_form_lays_out_groups_and_fields_in_their_order(shapes, ontology):
    form = read_form(shapes, ontology, PKG + "ExpertGroupMeeting")
    assert [g.label for g in form.groups][:2] == ["What it is", "When and where"]
    assert [f.key for f in form.groups[0].fields] == ["label", "partOfSeries", "seriesNumber"]
    assert [f.key for f in form.groups[1].fields][:2] == ["startDate", "endDate"]


def test_read_form_offers_a_text_area_for_a_source_text(shapes, ontology):
    form = read_form(shapes, ontology, PKG + "SourceDocument")
    assert {f.key: f.kind for f in form.fields}["text"] == "longtext"


def test_read_form_changes_when_the_shapes_change(shapes, ontology):
    changed = copy_of(shapes)
    shape = PKGSH["StatusRecord-date"]
    changed.set((shape, SH.name, rdflib.Literal("Day of the status", lang="en")))
    changed.set((shape, SH.minCount, rdflib.Literal(1)))
    changed.set((shape, SH.order, rdflib.Literal(0)))
    status = PKGSH["StatusRecord-status"]
    choices = rdflib.BNode()
    rdflib.collection.Collection(changed, choices, [rdflib.URIRef(PKG + "statusProposed")])
    changed.add((status, SH["in"], choices))
    before = read_form(shapes, ontology, PKG + "StatusRecord")
    after = read_form(changed, ontology, PKG + "StatusRecord")
    date_before = next(f for f in before.fields if f.key == "statusDate")
    date_after = next(f for f in after.fields if f.key == "statusDate")
    assert (date_before.name, date_before.required) == ("Date", False)
    assert (date_after.name, date_after.required) == ("Day of the status", True)
    first_group = next(g for g in after.groups if g.iri == date_after.group)
    assert first_group.fields[0].key == "statusDate"
    assert {f.key: f.kind for f in after.fields}["status"] == "choice"
    assert {f.key: f.choices for f in after.fields}["status"] == (PKG + "statusProposed",)


def test_read_form_adds_a_field_for_a_new_property_shape(shapes, ontology):
    changed = copy_of(shapes)
    new = rdflib.URIRef(PKGSH + "StatusRecord-note")
    for p, o in (
        (rdflib.RDF.type, SH.PropertyShape),
        (SH.path, rdflib.URIRef("http://www.w3.org/2004/02/skos/core#note")),
        (SH.datatype, XSD.string),
        (SH.maxCount, rdflib.Literal(3)),
        (SH.name, rdflib.Literal("Note", lang="en")),
    ):
        changed.add((new, p, o))
    changed.add((PKGSH.StatusRecord, SH.property, new))
    after = read_form(changed, ontology, PKG + "StatusRecord")
    note = next(f for f in after.fields if f.name == "Note")
    assert (note.kind, note.max_count, note.repeatable) == ("text", 3, True)
    assert note not in read_form(shapes, ontology, PKG + "StatusRecord").fields


def test_one_place_shows_each_message_once_and_where_the_form_can_show_it():
    errors = {
        "seriesNumber": ["Taken.", "Taken."],
        "provenance": ["Choose the source."],
        "nowhere": ["Odd."],
        WHOLE: ["Sign in."],
    }
    assert one_place(errors, {"seriesNumber", "provenance"}) == {
        "seriesNumber": ["Taken."],
        "provenance": ["Choose the source."],
        WHOLE: ["Odd.", "Sign in."],
    }
    # A form without a provenance part (a source document's) shows such a message with the whole form's.
    assert one_place(errors, {"seriesNumber"}) == {
        "seriesNumber": ["Taken."],
        WHOLE: ["Choose the source.", "Odd.", "Sign in."],
    }
