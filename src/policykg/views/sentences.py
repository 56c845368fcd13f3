"""A source's text in sentences, with offsets, and the excerpts a person's ticked sentences make.

Offsets are Python string indices, which count Unicode code points, as `pkg:startOffset` / `pkg:endOffset`
do (the W3C Web Annotation text-position selector: start inclusive, end exclusive) and as SPARQL's STRLEN
does. A sentence ends at `.`, `!`, `?` or `…` (with any closing quote or bracket) before white space, or at the
end of a line (or before a capital, when a full stop lacks its space); a line's list marker (`1.`, `-`, `•`)
and the white space around a sentence are no part of it.
"""

import re
from dataclasses import dataclass

_LINE = re.compile(r"[^\n]+")
_MARKER = re.compile(r"\s*(?:(?:\d+|[a-zA-Z])[.)]\s+|[-*•–]\s+)?")
# A missing space after a full stop still ends a sentence when a lower-case word stops and a capital follows
# ("capacities.AI needs"): initials ("U.S.") and abbreviations ("e.g.") do not.
_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|(?<=[a-z]{2})[.!?]+(?=[A-Z])")


@dataclass(frozen=True)
class Sentence:
    """One sentence: where it starts and ends in the text (code points), its text, and the line it is on."""

    start: int
    end: int
    text: str
    line: int


@dataclass(frozen=True)
class Excerpt:
    """A passage to quote: one run of ticked sentences that follow each other on one line."""

    start: int
    end: int
    value: str


def split_sentences(text: str) -> list[Sentence]:
    """The sentences of a text, in order."""
    found: list[Sentence] = []
    for number, line in enumerate(_LINE.finditer(text)):
        begin = line.start() + _MARKER.match(line.group()).end()  # type: ignore[union-attr]  # matches the empty text
        ends = [line.start() + m.end() for m in _END.finditer(line.group())] + [line.end()]
        for end in ends:
            piece = text[begin:end]
            stripped = piece.strip()
            if stripped:
                start = begin + (len(piece) - len(piece.lstrip()))
                found.append(Sentence(start, start + len(stripped), stripped, number))
            begin = end
    return found


def excerpts_of(text: str, sentences: list[Sentence], ticked: set[int]) -> list[Excerpt]:
    """The excerpts that ticked sentences (by index) make: each run of neighbours on one line is one passage."""
    runs: list[list[Sentence]] = []
    for index in sorted(i for i in ticked if 0 <= i < len(sentences)):
        sentence = sentences[index]
        if runs and index - 1 in ticked and runs[-1][-1].line == sentence.line:
            runs[-1].append(sentence)
        else:
            runs.append([sentence])
    return [Excerpt(run[0].start, run[-1].end, text[run[0].start : run[-1].end]) for run in runs]
