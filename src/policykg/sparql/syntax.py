"""What policykg must know of a SPARQL text before a store sees it: its form, and what it would fetch.

A lexical reading, not a parser: comments, strings and IRIs are recognised so that a keyword inside
them is not mistaken for one outside. It errs on the side of refusing: a query it reads as calling
SERVICE is refused even if a full parser would have found the text malformed anyway.
"""

import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import pyoxigraph as ox

from policykg.errors import QueryError, QueryTooComplex, RemoteAccessRefused

# SPARQL 1.1 §19.2: \u and \U escapes may stand anywhere in a query string and are replaced first.
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")

_TOKEN = re.compile(
    r"""
    (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
               |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][\w\u00B7\u0300-\u036F\u203F-\u2040]+)
  | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<word>(?:[^\s{}()\[\];,<>"'\#=!&|*+/^.?$\\]|\\[_~.\-!$&'()*+,;=/?\#@%])+
              (?:\.+(?:[^\s{}()\[\];,<>"'\#=!&|*+/^.?$\\]|\\[_~.\-!$&'()*+,;=/?\#@%])+)*)
  | (?P<punct>\S)
  | (?P<space>\s+)
    """,
    re.VERBOSE,
)

QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")

# The usual prologue (most queries start with a dozen prefixes), passed over at a regular expression's speed:
# each declaration it takes is exactly the tokens the reading above makes of it (PREFIX, a name ending in a
# colon, an IRI; BASE, an IRI). Anything else in a prologue (a comment, an unusual name) stops it there, and
# the rest is read token by token.
_PROLOGUE = re.compile(
    r"""\s*(?:(?:PREFIX\s+(?:[A-Za-z](?:[\w.\-]*[\w\-])?)?:\s*|BASE\s*)<[^<>"{}|^`\\\x00-\x20]*>\s*)*""",
    re.IGNORECASE,
)


def prologue_end(text: str) -> int:
    """Where the usual prologue of an unescaped text ends: the first token to read after it (0: none)."""
    found = _PROLOGUE.match(text)
    return found.end() if found else 0


class Token(NamedTuple):
    """One significant piece of a SPARQL text: its kind, its text and where it starts and ends."""

    kind: str
    text: str
    start: int
    end: int

    @property
    def keyword(self) -> str | None:
        """The token in upper case if it can be a keyword (a bare word, not a prefixed name or variable)."""
        if self.kind != "word" or ":" in self.text:
            return None
        return self.text.upper()


def unescape(text: str) -> str:
    """Replace \\u and \\U codepoint escapes, as a SPARQL processor does before anything else."""
    if "\\" not in text:
        return text
    return _CODEPOINT.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def tokens(text: str) -> list[Token]:
    """Split an unescaped SPARQL text into tokens, dropping comments and white space."""
    return list(token_stream(text))


def token_stream(text: str, start: int = 0) -> Iterator[Token]:
    """The tokens of a text from start one by one, as far as they are read (enough to find its form, say)."""
    for match in _TOKEN.finditer(text, start):
        kind = match.lastgroup or "punct"
        if kind not in ("comment", "space"):
            yield Token(kind, match.group(), match.start(), match.end())


def query_form(text: str) -> str | None:
    """Return SELECT, ASK, CONSTRUCT or DESCRIBE for a query; None when the text is not a query."""
    return _form(tokens(unescape(text)))


def _form(found: Iterable[Token]) -> str | None:
    skip = 0
    for token in found:
        if skip:
            skip -= 1
            continue
        keyword = token.keyword
        if keyword == "BASE":
            skip = 1
        elif keyword == "PREFIX":
            skip = 2
        else:
            return keyword if keyword in QUERY_FORMS else None
    return None


# Belt and braces: SERVICE or LOAD anywhere outside strings, IRIs and comments, unless it is part of a
# prefixed name or a variable. It refuses a few odd but harmless texts (a local name ending in
# ".service"); it lets none through that an engine would read as the keyword.
_KEYWORD = re.compile(r"(?<![\w:?$\-])(SERVICE|LOAD)(?![\w:\-])", re.IGNORECASE)


def _scan(text: str) -> tuple[list[Token], str]:
    """The tokens of a text, and the text with every comment, string and IRI replaced by spaces: one reading."""
    found, pieces, last = [], [], 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "punct"
        if kind in ("comment", "string", "iri"):
            pieces += [text[last : match.start()], " " * (match.end() - match.start())]
            last = match.end()
        if kind not in ("comment", "space"):
            found.append(Token(kind, match.group(), match.start(), match.end()))
    pieces.append(text[last:])
    return found, "".join(pieces)


# Oxigraph's parser and evaluator recurse once per level of brackets, and once per link of a chain of
# operators (1+1+…, … UNION … UNION …), on the thread's stack: some thousands overflow it and end the
# process. Real queries use a handful of levels and some tens of operators.
MAX_NESTING = 200
MAX_OPERATORS = 2000
_OPENING, _CLOSING = "{([", "})]"
_OPERATOR_CHARACTERS = set("+-*/|&=!<>")
_OPERATOR_WORDS = {"UNION", "OPTIONAL", "MINUS"}


def check_request(text: str, allowed: tuple[str, ...] = ()) -> str | None:
    """Refuse a request that would reach elsewhere or nest too deep; return its query form (None: an update).

    The form is SELECT, ASK, CONSTRUCT or DESCRIBE; text, checks and form all come from one reading.
    """
    source = unescape(text)
    if _plainly_harmless(source):
        return _form(token_stream(source, prologue_end(source)))
    found, blanked = _scan(source)
    _check_nesting(found)
    _check_operators(found)
    _check_remote_access(blanked, found, allowed)
    return _form(found)


def _plainly_harmless(source: str) -> bool:
    """True when counts over the raw text show that no check can refuse it, so that they need not read it.

    For an ASCII text (where case folding is plain): no more brackets than the nesting limit, no more operator
    characters and words than the operator limit, no SERVICE or LOAD at all. Each count is at least what the
    token-based check counts. A closing bracket without its opening one is then left to the engine's parser,
    which refuses it as a syntax error (400) all the same.
    """
    if not source.isascii():  # some letters beyond ASCII fold to s, i, l … in other ways
        return False
    lower = source.lower()
    return (
        "service" not in lower
        and "load" not in lower
        and sum(map(source.count, _OPENING)) <= MAX_NESTING
        and sum(map(source.count, _OPERATOR_CHARACTERS)) + sum(lower.count(w.lower()) for w in _OPERATOR_WORDS)
        <= MAX_OPERATORS
    )


def check_remote_access(text: str, allowed: tuple[str, ...] = ()) -> None:
    """Refuse a query or update that would make the server fetch a URL (SERVICE, LOAD) not allowed."""
    found, blanked = _scan(unescape(text))
    _check_remote_access(blanked, found, allowed)


def _check_nesting(found: list[Token]) -> None:
    depth = 0
    for token in found:
        if token.kind != "punct":
            continue
        if token.text in _OPENING:
            depth += 1
            if depth > MAX_NESTING:
                raise QueryTooComplex(
                    f"the request nests brackets more than {MAX_NESTING} levels deep "
                    f"(at character {token.start}); this service takes at most {MAX_NESTING}"
                )
        elif token.text in _CLOSING:
            depth -= 1
            if depth < 0:
                raise QueryError(f"the bracket at character {token.start} closes one that was never opened")


def _check_operators(found: list[Token]) -> None:
    chained = sum(
        1
        for t in found
        if (t.kind == "punct" and t.text in _OPERATOR_CHARACTERS)
        or (t.kind == "number" and t.text[0] in "+-")  # 1+1 reads as the numbers 1 and +1
        or t.keyword in _OPERATOR_WORDS
    )
    if chained > MAX_OPERATORS:
        raise QueryTooComplex(
            f"the request chains {chained} operators (+, -, *, /, |, &&, =, <, >, UNION, OPTIONAL, "
            f"MINUS …); this service takes at most {MAX_OPERATORS}"
        )


def _check_remote_access(blanked: str, found: list[Token], allowed: tuple[str, ...]) -> None:
    keywords = [t for t in found if t.keyword in ("SERVICE", "LOAD")]
    if len(_KEYWORD.findall(blanked)) > len(keywords):
        raise RemoteAccessRefused(
            "the request names SERVICE or LOAD in a way this server does not run; "
            "SERVICE and LOAD reach only the endpoints the operator allows (none by default)"
        )
    for index, token in enumerate(found):
        if token.keyword not in ("SERVICE", "LOAD"):
            continue
        target = _target(found, index + 1)
        if target is None or target not in allowed:
            what = f"{token.keyword} {('<' + target + '>') if target else ''}".strip()
            raise RemoteAccessRefused(
                f"{what} would make this server send a request elsewhere; "
                "SERVICE and LOAD reach only the endpoints the operator allows (none by default)"
            )


def _target(found: list[Token], index: int) -> str | None:
    """The IRI a SERVICE or LOAD names, skipping SILENT; None when it is a variable or a prefixed name."""
    while index < len(found) and found[index].keyword == "SILENT":
        index += 1
    if index < len(found) and found[index].kind == "iri":
        return found[index].text[1:-1]
    return None


def quads_text(quads: Iterable[ox.Quad]) -> str:
    """Quads as the body of an INSERT DATA or DELETE DATA (no blank nodes: they would match anything in a DELETE)."""
    return " ".join(_quad_text(q) for q in quads)


def _quad_text(quad: ox.Quad) -> str:
    triple = f"{quad.subject} {quad.predicate} {quad.object} ."
    return triple if isinstance(quad.graph_name, ox.DefaultGraph) else f"GRAPH {quad.graph_name} {{ {triple} }}"
