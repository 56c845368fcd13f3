"""RDF received over the network, screened before a parser sees it: what would crash, stall or mislead it.

Oxigraph's JSON-LD parser recurses once per level of nesting, on the thread's stack, so a few thousand
levels end the process; it drops nodes whose IRIs are not IRIs, without a word. Its RDF/XML parser takes
time growing with the square of the element depth, and expands entities within entities in full (a
billion laughs: a kilobyte that grows to gigabytes). Real documents nest a handful of levels and declare
entities as abbreviations (<!ENTITY xsd "http://www.w3.org/2001/XMLSchema#">), which stay allowed.
"""

import json
import re
from collections import Counter
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

import pyoxigraph as ox

from policykg.errors import RdfInputRefused, RdfSyntaxError

MAX_NESTING = 100  # levels of JSON arrays and objects, or of XML elements
MAX_ENTITIES = 1000  # entity declarations in an XML document

_NOT_IN_IRI = re.compile(r"[\x00-\x20<>\"{}|^`\\\x7f-\x9f]")  # RFC 3987: never part of an IRI, however written
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_IRI_MEMBERS = ("@id", "@type", "@vocab", "@base")

# The patterns are possessive, and every opener is known to be closed before they run: each scan is linear.
_ENTITY = re.compile(rb"""<!ENTITY\s++(?P<parameter>%\s++)?(?P<name>[^\s"'%&;<>]++)\s++(?:"(?P<value>[^"]*+)")?""")
_ENTITY_USE = re.compile(rb"""&([^\s"'%&;<>]++);""")
_CLOSERS = ((b"<!--", b"-->", "a comment"), (b"<![CDATA[", b"]]>", "a CDATA section"), (b"<", b">", "a tag"))
# What opens no level: comments, character data, declarations, instructions, elements without content.
_LEVELLESS = re.compile(
    rb"""<!--.*?-->|<!\[CDATA\[.*?\]\]>|<[?!][^>]*+>"""
    rb"""|<[^\s<>/!?]++(?:\s++[^\s<>=/]++\s*+=\s*+(?:"[^"]*+"|'[^']*+'))*+\s*+/>""",
    re.DOTALL,
)
_NOT_A_TAG_START = bytes(b for b in range(256) if b not in b"<\x00")
_LEVEL_STEP = {ord("<"): 1, 0: -1}  # an element's start opens a level, an end tag (</, made a NUL) closes one


def screen(data: bytes, format_name: str, source: str) -> None:
    """Refuse RDF that its parser would choke on, expand without bound, or read other than it says."""
    if format_name == "jsonld":
        check_jsonld(data, source)
    elif format_name == "rdfxml":
        check_entities(data)
        check_xml_nesting(data, source)


def check_jsonld(data: bytes, source: str) -> None:
    """Refuse JSON-LD that is not JSON, is a bare value, nests past MAX_NESTING, or names an IRI that is none.

    Bytes that are not JSON never reach the JSON-LD parser: it would recurse through every level it can read
    before it meets the fault, and enough levels overflow its stack.
    """
    try:
        document = json.loads(data)
    except RecursionError:  # deeper than Python's own limit (about a thousand levels)
        raise _too_deep() from None
    except json.JSONDecodeError as error:
        raise RdfSyntaxError(source, f"not JSON: {error.msg}", error.lineno, error.colno) from None
    except ValueError as error:  # not UTF-8
        raise RdfSyntaxError(source, f"not JSON: {error}") from None
    if not isinstance(document, (dict, list)):
        raise RdfSyntaxError(source, f"a JSON-LD document is an object or an array, not {json.dumps(document)[:40]}")
    for text, level in _iri_positions(document):
        if level > MAX_NESTING:
            raise _too_deep()
        if text is not None and not _may_be_iri(text):
            raise RdfSyntaxError(
                source,
                f"{text[:200]!r} stands where an IRI goes and is not one: JSON-LD would "
                "drop what it names, so the document is refused",
            )


def check_entities(data: bytes) -> None:
    """Refuse XML entities that are external, parameters, made of other entities, or that more than double the input."""
    if data.count(b"<!ENTITY") > MAX_ENTITIES:
        raise RdfInputRefused(
            f"the XML declares more than {MAX_ENTITIES} entities; this service reads at most {MAX_ENTITIES}"
        )
    sizes: dict[bytes, int] = {}
    for start in re.finditer(rb"<!ENTITY\b", data):
        declared = _ENTITY.match(data, start.start())
        name = (declared.group("name") if declared else b"?").decode("utf-8", "replace")
        if declared is None or declared.group("parameter") or declared.group("value") is None:
            raise RdfInputRefused(
                f"the XML declares the entity {name!r} in a form this service does not read: "
                "external (SYSTEM, PUBLIC), a parameter (%) or in single quotes; it fetches "
                'nothing: declare <!ENTITY name "text">'
            )
        if any(mark in declared.group("value") for mark in (b"&", b"%", b"<")):
            raise RdfInputRefused(
                f"the XML entity {name!r} is made of other entities or of markup: entities are "
                "read as plain text only (entities within entities can expand a small document "
                "without bound)"
            )
        sizes[declared.group("name")] = len(declared.group("value"))
    uses = Counter(_ENTITY_USE.findall(data)) if sizes else Counter()
    added = sum(uses[name] * size for name, size in sizes.items())
    if added > len(data):
        raise RdfInputRefused(
            f"the XML entities would add {added} bytes to a document of {len(data)}; "
            "this service expands them to at most twice the document's size"
        )


def check_xml_nesting(data: bytes, source: str) -> None:
    """Refuse XML cut short (the parser reads what came, and says nothing), or whose elements nest more than
    MAX_NESTING levels deep (anything unclear counts as an element)."""
    for opener, closer, what in _CLOSERS:
        last = data.rfind(opener)
        if last >= 0 and data.rfind(closer) < last + len(opener):
            raise RdfSyntaxError(source, f"the XML ends inside {what}: it is not closed")
    starts = _LEVELLESS.sub(b"", data).replace(b"</", b"\x00").translate(None, _NOT_A_TAG_START)
    steps = list(map(_LEVEL_STEP.__getitem__, starts))
    deepest = max(accumulate(steps), default=0)
    if deepest > MAX_NESTING:
        raise RdfInputRefused(
            f"the RDF/XML nests elements {deepest} levels deep; this service reads at most {MAX_NESTING}"
        )
    if not steps:
        raise RdfSyntaxError(source, "the XML has no element: an RDF/XML document is one element, rdf:RDF or a node")
    if sum(steps) > 0:
        raise RdfSyntaxError(source, f"the XML ends with {sum(steps)} element(s) not closed: it was cut short")


def _too_deep() -> RdfInputRefused:
    return RdfInputRefused(
        f"the JSON-LD nests arrays and objects more than {MAX_NESTING} levels deep; "
        f"this service reads at most {MAX_NESTING}"
    )


def _iri_positions(document: Any) -> Iterator[tuple[str | None, int]]:
    """Walk a JSON document without recursion: each string that stands for an IRI (None for other nodes),
    with how many arrays and objects deep it is.

    IRIs are the values of @id, @type, @vocab and @base, the terms a context defines, and the keys that are
    written as IRIs (compact or absolute); values of @value are text.
    """
    pending: list[tuple[Any, int, bool]] = [(document, 1, False)]
    while pending:
        node, level, in_context = pending.pop()
        yield None, level
        if isinstance(node, list):
            pending.extend((item, level + 1, in_context) for item in node if isinstance(item, (dict, list)))
            continue
        for key, value in node.items():
            if isinstance(value, str) and (key in _IRI_MEMBERS or (in_context and not key.startswith("@"))):
                yield value, level
            elif key == "@type" and isinstance(value, list):
                yield from ((item, level) for item in value if isinstance(item, str))
            if not key.startswith("@") and ":" in key and not in_context:
                yield key, level
            if isinstance(value, (dict, list)):
                pending.append((value, level + 1, in_context or key == "@context"))


def _may_be_iri(text: str) -> bool:
    """Whether a string could name an IRI: a keyword, or free of what no IRI holds (and valid if absolute)."""
    if text.startswith("@"):
        return True
    if _NOT_IN_IRI.search(text):
        return False
    if _SCHEME.match(text):
        try:
            ox.NamedNode(text)
        except ValueError:
            return False
    return True
