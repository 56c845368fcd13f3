"""policykg's own JSON-LD context: published by the service, used in its answers, and resolved locally on input.

The context maps the prefixes of the vocabularies policykg uses. Its address is <base>context.jsonld. An
input document that names it gets it from here, never over the network; any other remote context is
refused by the parser.
"""

import json
from typing import Any

import rdflib

from policykg.rdf.namespaces import PREFIXES

CONTEXT_PATH = "context.jsonld"
EXTRA_PREFIXES = {
    "foaf": "http://xmlns.com/foaf/0.1/",
    "dcat": "http://www.w3.org/ns/dcat#",
    "void": "http://rdfs.org/ns/void#",
    "tree": "https://w3id.org/tree#",
    "ldes": "https://w3id.org/ldes#",
}


def context() -> dict[str, Any]:
    """The context document: the prefix of every vocabulary policykg uses, as a term."""
    return {"@context": {**{prefix: iri for prefix, iri in sorted({**PREFIXES, **EXTRA_PREFIXES}.items())}}}


def context_url(base_iri: str) -> str:
    """Where the service publishes the context."""
    return base_iri + CONTEXT_PATH


def serialize(graph: rdflib.Graph, base_iri: str) -> bytes:
    """The graph as compact JSON-LD that refers to the published context by its address."""
    document = json.loads(graph.serialize(format="json-ld", context=context()["@context"], auto_compact=True))
    document["@context"] = context_url(base_iri)
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def inline_own_context(data: bytes, base_iri: str) -> bytes:
    """Replace references to policykg's published context by the context itself, anywhere in the document.

    Anything else is left as it is: a remote context the parser would have to fetch stays, and is refused.
    Bytes that are not JSON are returned unchanged, for the parser to report.
    """
    own = context_url(base_iri)
    if own.encode("utf-8") not in data:
        return data
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return data
    inline = context()["@context"]

    def resolve(node: Any, depth: int = 0) -> Any:
        if depth > 64:
            return node
        if isinstance(node, list):
            return [resolve(item, depth + 1) for item in node]
        if not isinstance(node, dict):
            return node
        resolved = {key: resolve(value, depth + 1) for key, value in node.items()}
        if "@context" in node:
            value = node["@context"]
            items = value if isinstance(value, list) else [value]
            items = [inline if item == own else item for item in items]
            resolved["@context"] = items if isinstance(value, list) else items[0]
        return resolved

    return json.dumps(resolve(document)).encode("utf-8")
