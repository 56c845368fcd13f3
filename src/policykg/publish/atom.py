"""Atom feed documents (RFC 4287), written with ElementTree, with the paging links of RFC 5005 §3.

A feed here is data (Feed, Item); `serialize` turns it into a document, so no text a contributor wrote
is ever pasted into markup: ElementTree escapes every text and attribute. What changed is told as an
HTML fragment, also built as elements and sent escaped in `content type="html"` (RFC 4287 §3.1.1.2).
"""

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml"
HTML_PAGE = "text/html"
# Paged feeds (RFC 5005 §3): the newest page is the first; "next" goes to older entries.
PAGING = ("first", "previous", "next")


@dataclass(frozen=True)
class Person:
    """An author (RFC 4287 §3.2): a name, and an IRI for it."""

    name: str
    uri: str | None = None


@dataclass(frozen=True)
class Category:
    """A category of an entry (RFC 4287 §4.2.2): an IRI as its term, and a label for people."""

    term: str  # an IRI
    label: str


@dataclass(frozen=True)
class Item:
    """One entry of a feed: something that changed or happened."""

    id: str  # a stable IRI: the same entry always gets the same one
    title: str
    updated: str  # an RFC 3339 date-time
    published: str
    link: str  # the page about it
    content: ET.Element  # what changed, as an HTML fragment (one element)
    author: Person | None = None
    categories: tuple[Category, ...] = ()


@dataclass(frozen=True)
class Feed:
    """A feed document: one page of a feed, newest entries first."""

    id: str  # the feed's IRI, the same on every page
    title: str
    updated: str
    self_link: str  # this page
    page_link: str  # the HTML page the feed is about
    author: Person
    items: tuple[Item, ...]
    paging: dict[str, str] = field(default_factory=dict)  # rel (PAGING) -> the page's IRI
    generator: tuple[str, str, str] | None = None  # name, IRI, version


def serialize(feed: Feed) -> bytes:
    """The feed as an Atom document in UTF-8."""
    # Unprefixed names under a default namespace declared on the root: what feed readers expect to see.
    root = ET.Element("feed", {"xmlns": ATOM})
    _text(root, "id", feed.id)
    _text(root, "title", feed.title)
    _text(root, "updated", feed.updated)
    _link(root, "self", feed.self_link, MEDIA_TYPE)
    _link(root, "alternate", feed.page_link, HTML_PAGE)
    for rel in PAGING:
        if rel in feed.paging:
            _link(root, rel, feed.paging[rel], MEDIA_TYPE)
    _person(root, feed.author)
    if feed.generator:
        name, uri, version = feed.generator
        _text(root, "generator", name, uri=uri, version=version)
    for item in feed.items:
        _entry(root, item)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def html(tag: str, *children: "ET.Element | str", href: str | None = None) -> ET.Element:
    """An element of an HTML fragment, with text and child elements in order (a link when href is given)."""
    element = ET.Element(tag, {"href": href} if href else {})
    last: ET.Element | None = None
    for child in children:
        if isinstance(child, str):
            if last is None:
                element.text = (element.text or "") + child
            else:
                last.tail = (last.tail or "") + child
        else:
            element.append(child)
            last = child
    return element


def _entry(root: ET.Element, item: Item) -> None:
    entry = ET.SubElement(root, "entry")
    _text(entry, "id", item.id)
    _text(entry, "title", item.title)
    _text(entry, "updated", item.updated)
    _text(entry, "published", item.published)
    _link(entry, "alternate", item.link, HTML_PAGE)
    if item.author:
        _person(entry, item.author)
    for category in item.categories:
        ET.SubElement(entry, "category", {"term": category.term, "label": category.label})
    # Escaped HTML (type="html"): the fragment is serialised, then sent as the element's text.
    _text(entry, "content", ET.tostring(item.content, encoding="unicode", method="html"), type="html")


def _text(parent: ET.Element, name: str, text: str, **attributes: str) -> None:
    ET.SubElement(parent, name, attributes).text = text


def _link(parent: ET.Element, rel: str, href: str, media_type: str) -> None:
    ET.SubElement(parent, "link", {"rel": rel, "href": href, "type": media_type})


def _person(parent: ET.Element, person: Person) -> None:
    author = ET.SubElement(parent, "author")
    _text(author, "name", person.name)
    if person.uri:
        _text(author, "uri", person.uri)
