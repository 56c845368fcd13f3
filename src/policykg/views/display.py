"""Text for people: terms with short names, tables of solutions, readable validation reports."""

import json

import pyoxigraph as ox
import rdflib

from policykg.rdf.namespaces import PREFIXES
from policykg.store import Solutions, Term
from policykg.validation.shacl import Report, Result

_XSD = PREFIXES["xsd"]


def short_iri(iri: str, base_iri: str) -> str:
    """Write an IRI with a known prefix (pkg:Event) or relative to the base (<id/…>), else in full."""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    if iri.startswith(base_iri):
        return f"<{iri[len(base_iri) :]}>"
    return f"<{iri}>"


def show_term(term: Term | None, base_iri: str) -> str:
    """Write a term for a table cell: IRIs shortened, literals as their text."""
    if term is None:
        return ""
    if isinstance(term, ox.Literal):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return short_iri(term.value, base_iri)


def table(solutions: Solutions, base_iri: str, max_width: int = 60) -> str:
    """Lay out SELECT solutions as an aligned text table with a header row."""
    header = [f"?{name}" for name in solutions.variables]
    rows = [[_clip(show_term(term, base_iri), max_width) for term in row] for row in solutions.rows]
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)] if header else []
    lines = [_line(header, widths), _line(["-" * w for w in widths], widths)]
    lines += [_line(row, widths) for row in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


def report_text(report: Report, base_iri: str, files: int, triples: int) -> str:
    """Write a validation report for people: a summary line, then one block per result."""
    summary = (
        f"Validated {triples} triples from {files} file{'s' if files != 1 else ''}: "
        f"{report.count('Violation')} violations, {report.count('Warning')} warnings, {report.count('Info')} infos."
    )
    verdict = "Conforms." if report.conforms else "Does not conform."
    blocks = [result_block(result, base_iri) for result in report.results]
    return "\n\n".join([summary + " " + verdict, *blocks])


def report_json(report: Report) -> str:
    """Write a validation report as JSON for machines."""
    document = {
        "conforms": report.conforms,
        "counts": {s: report.count(s) for s in ("Violation", "Warning", "Info")},
        "results": [r.as_dict() for r in report.results],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def report_turtle(report: Report) -> str:
    """Write the full sh:ValidationReport graph as Turtle."""
    graph = rdflib.Graph()
    for triple in report.graph:
        graph.add(triple)
    graph.bind("sh", rdflib.Namespace(PREFIXES["sh"]))
    return graph.serialize(format="turtle")


def result_block(result: Result, base_iri: str) -> str:
    """One result as a block of lines: severity and focus, path, value, message, shape."""
    component = result.component.rsplit("#", 1)[-1].removesuffix("ConstraintComponent")
    lines = [
        f"[{result.severity}] {short_iri(result.focus, base_iri)}",
        f"  message: {result.message}",
        f"  shape:   {short_iri(result.shape, base_iri)} ({component})",
    ]
    if result.path:
        lines.insert(1, f"  path:    {_path(result.path, base_iri)}")
    if result.value is not None:
        lines.insert(2 if result.path else 1, f"  value:   {_value(result.value, base_iri)}")
    return "\n".join(lines)


def _path(path: str, base_iri: str) -> str:
    if path.startswith("^"):
        return "^" + short_iri(path[1:], base_iri)
    return path if path.startswith("(") else short_iri(path, base_iri)


def _value(value: str, base_iri: str) -> str:
    # Literal values arrive in N-Triples form; IRIs as plain text.
    if value.startswith('"'):
        return value.replace(f"<{_XSD}", "<xsd:")
    return short_iri(value, base_iri)


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _line(cells: list[str], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
