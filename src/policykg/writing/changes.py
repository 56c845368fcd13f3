"""What a change holds and touches: its quads placed in a graph, its graphs, its subjects, several as one."""

import pyoxigraph as ox

from policykg.rdf.namespaces import PREFIXES
from policykg.validation.incremental import Change

_RECOMMENDATION = ox.NamedNode(PREFIXES["pkg"] + "recommendation")


def placed(triples: list[ox.Triple], graph: ox.NamedNode | None) -> tuple[ox.Quad, ...]:
    """The triples as quads of the graph (none without a graph)."""
    if graph is None:
        return ()
    return tuple(ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples)


def touched_subjects(change: Change) -> set[str]:
    """The resources whose search documents a change may alter: its subjects, and the recommendations whose
    status records it changes (a recommendation is found by the statuses it has reached)."""
    quads = (*change.added, *change.removed)
    subjects = {q.subject.value for q in quads if isinstance(q.subject, ox.NamedNode)}
    return subjects | {
        q.object.value for q in quads if q.predicate == _RECOMMENDATION and isinstance(q.object, ox.NamedNode)
    }


def graphs_of(change: Change) -> set[str]:
    """The named graphs a change touches."""
    return {q.graph_name.value for q in (*change.added, *change.removed) if isinstance(q.graph_name, ox.NamedNode)}


def net(changes: list[Change]) -> Change:
    """The one change that several applied in turn amount to."""
    added: dict[ox.Quad, None] = {}
    removed: dict[ox.Quad, None] = {}
    for change in changes:
        for quad in change.removed:
            if quad in added:
                del added[quad]
            else:
                removed[quad] = None
        for quad in change.added:
            if quad in removed:
                del removed[quad]
            else:
                added[quad] = None
    return Change(added=tuple(added), removed=tuple(removed))
