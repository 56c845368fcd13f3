"""The competency questions: named, documented SPARQL queries shipped with the package."""

import re
from dataclasses import dataclass, field
from importlib import resources

from policykg.errors import UnknownQuestionError

_HEADER = re.compile(r"^# (title|description|param): (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Question:
    """A competency question: its name, wording, SPARQL and default parameter bindings."""

    name: str
    title: str
    description: str
    sparql: str
    params: dict[str, str] = field(default_factory=dict)

    def inline_sparql(self) -> str:
        """The query with each parameter fixed to its default by a VALUES block, for any SPARQL engine."""
        values = "".join(f"\n  VALUES ?{name} {{ {default} }}" for name, default in self.params.items())
        if not values:
            return self.sparql
        where = self.sparql.index("WHERE {") + len("WHERE {")
        return self.sparql[:where] + values + self.sparql[where:]


def list_questions() -> list[Question]:
    """Return every competency question, sorted by name."""
    folder = resources.files("policykg") / "queries"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".rq")), key=lambda f: f.name)
    return [parse_question(f.name[: -len(".rq")], f.read_text(encoding="utf-8")) for f in files]


def get_question(name: str) -> Question:
    """Return the competency question with this name."""
    for question in list_questions():
        if question.name == name:
            return question
    known = ", ".join(q.name for q in list_questions())
    raise UnknownQuestionError(f"no competency question named {name!r}; known: {known}")


def parse_question(name: str, text: str) -> Question:
    """A competency question from its file's name (without .rq) and text: its header lines, then the SPARQL."""
    header: dict[str, str] = {}
    params: dict[str, str] = {}
    for key, value in _HEADER.findall(text):
        if key == "param":
            param, default = value.split(maxsplit=1)
            params[param] = default.strip()
        else:
            header[key] = value.strip()
    return Question(name, header.get("title", name), header.get("description", ""), text, params)
