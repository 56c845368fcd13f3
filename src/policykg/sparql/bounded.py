"""Queries whose every step of evaluation is bounded: one triple pattern anchored on a constant.

The query workers exist because a query cannot be stopped once the engine is inside it: only ending its
process bounds it. Some queries need no such bound. `SELECT ?p ?o WHERE { <iri> ?p ?o }` is one range scan
of an index: each row the engine hands over costs it a step, so a caller that reads the answer row by row
(in chunks of output) can stop it between any two steps. Such queries can be tried where they arrive,
under a budget of time and bytes, and handed to a worker only if they outgrow it (store/embedded.py and
store/atonce.py say where and why).

This module recognises them by their text, a lexical reading like syntax.py's, and errs on the side of
"no": anything but a prologue, one form, one triple pattern with a constant subject or object (no blank
node, no property path), and at most a LIMIT is not bounded here. No FILTER (a filter that refuses every
row makes one step as long as the whole scan), no OFFSET (skipped rows are steps without output), no
DISTINCT, ORDER, GROUP or aggregate (they read everything before the first row), no FROM or GRAPH.
"""

import re
from collections.abc import Iterator

from policykg.sparql.syntax import Token, prologue_end, token_stream, unescape

_LITERAL_WORDS = {"TRUE", "FALSE"}
# Characters no bounded query has outside its IRIs and strings (predicate lists, calls, collections, paths):
# a query with one anywhere is let go at once, whatever it is (an IRI holding one only misses the shortcut).
_NEVER = re.compile(r"[;,()\[\]|]")


def is_bounded(text: str) -> bool:
    """Whether a query is one triple pattern anchored on a constant, with at most a LIMIT: see the module.

    Read lazily: a query that is not is mostly told from its first few tokens.
    """
    text = unescape(text)
    rest = text[prologue_end(text) :]
    if _NEVER.search(rest):
        return False
    try:
        return _Reading(token_stream(rest)).query()
    except _Ended:
        return False


class _Ended(Exception):
    """The text ended where more was needed."""


class _Reading:
    """The tokens of one query, read once from the start; each method says whether its part was found."""

    def __init__(self, found: Iterator[Token]) -> None:
        self.found = found
        self.ahead: Token | None = next(found, None)

    def query(self) -> bool:
        self._prologue()
        form = self._keyword()
        if form == "SELECT":
            found = self._projection() and self._where() and self._limit()
        elif form == "ASK":
            found = self._where()
        elif form == "CONSTRUCT":
            token = self._peek()
            if token is not None and token.keyword == "WHERE":  # CONSTRUCT WHERE { … }: the pattern is the template
                self._next()
                found = self._group() and self._limit()
            else:
                found = self._group(template=True) and self._where() and self._limit()
        else:
            return False
        return found and self.ahead is None

    def _next(self) -> Token:
        token = self.ahead
        if token is None:
            raise _Ended
        self.ahead = next(self.found, None)
        return token

    def _peek(self) -> Token | None:
        return self.ahead

    def _keyword(self) -> str | None:
        return self._next().keyword

    def _punct(self, text: str) -> bool:
        token = self._peek()
        if token is not None and token.kind == "punct" and token.text == text:
            self._next()
            return True
        return False

    def _prologue(self) -> None:
        while (token := self._peek()) is not None and token.keyword in ("PREFIX", "BASE"):
            for _ in range(2 if token.keyword == "BASE" else 3):
                self._next()

    def _projection(self) -> bool:
        if self._punct("*"):
            return True
        count = 0
        while (token := self._peek()) is not None and token.kind == "var":
            self._next()
            count += 1
        return count > 0

    def _where(self) -> bool:
        token = self._peek()
        if token is not None and token.keyword == "WHERE":
            self._next()
        return self._group()

    def _group(self, template: bool = False) -> bool:
        """`{ s p o }` or `{ s p o . }`: in a WHERE clause anchored on a constant, in a template any triple."""
        if not self._punct("{"):
            return False
        subject, predicate = self._next(), self._next()
        object_ = self._object()
        self._punct(".")
        if not self._punct("}") or object_ is None or not (_node(subject) and _verb(predicate)):
            return False
        return template or subject.kind != "var" or object_.kind != "var"

    def _object(self) -> Token | None:
        """A node, or a literal: a number, true or false, a string with a language tag or a datatype."""
        token = self._next()
        if token.kind == "string":
            if (after := self._peek()) is not None and after.kind == "langtag":
                self._next()
            elif self._punct("^") and not (self._punct("^") and _node(self._next())):
                return None
            return token
        return token if _node(token) or token.kind == "number" or token.keyword in _LITERAL_WORDS else None

    def _limit(self) -> bool:
        token = self._peek()
        if token is None or token.keyword != "LIMIT":
            return True
        self._next()
        number = self._next()
        return number.kind == "number" and number.text.isdigit()


def _node(token: Token) -> bool:
    """An IRI, a prefixed name or a variable: no blank node, no collection."""
    return token.kind in ("iri", "var") or (
        token.kind == "word" and ":" in token.text and not token.text.startswith("_:")
    )


def _verb(token: Token) -> bool:
    return _node(token) or token.text == "a"
