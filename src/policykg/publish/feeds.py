"""Atom feeds (RFC 4287) of what changed: every change to the graph, or those that touch one concept (with the
narrower ones), organisation or recommendation, newest first, in pages linked as RFC 5005 §3 says.

Each change is an item: an entry added, revised or retracted (publish/changes.py reads them), titled by
what the entry is about, telling what it did, with a category for the kind of change, for the classes of
what it describes and for the concepts it names. Its id is the change's IRI in the change stream: the
entry's own IRI, new with every revision, or <entry>/retraction.
"""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from policykg import __version__
from policykg.errors import ResourceNotFound
from policykg.iris import THING_SPACES
from policykg.publish import atom
from policykg.publish.changes import Change, Content, changes, concepts_among, contents
from policykg.publish.ldes import AS
from policykg.store import Store

Labels = Callable[[set[str]], dict[str, str]]  # IRIs -> their labels, for those that have one
PAGE_SIZE = 50  # items per page of a feed
SHOWN = 20  # subjects an item lists at most
_PATH_SAFE = "/:@!$&'()*+,;=-._~"  # what may stay as it is in a URI path (RFC 3986 §3.3)
# What a change did: its category term (the change stream's Activity Streams class) and its words.
_ACTIONS = {"added": (AS.Create, "Added"), "revised": (AS.Update, "Revised"), "retracted": (AS.Delete, "Retracted")}


def page_of(base_iri: str, iri: str) -> str:
    """Where people read about an IRI: a resource of this graph on its page, anything else at the IRI itself."""
    if iri.startswith(base_iri) and iri[len(base_iri) :].startswith(THING_SPACES):
        return f"{base_iri}doc/{quote(iri[len(base_iri) :], safe=_PATH_SAFE)}.html"
    return iri


def feed_path(kind: str | None, iri: str = "") -> str:
    """Where a feed is, below the base: every change (kind None), or the changes of one resource of a kind."""
    return "feeds/entries.atom" if kind is None else f"feeds/{kind}.atom?{urlencode({'iri': iri})}"


def feed_page(iri: str, number: int) -> str:
    """The IRI of a page of a feed (RFC 5005 §3): the feed's own IRI for the first, `page=n` for the others."""
    if number == 1:
        return iri
    return f"{iri}{'&' if '?' in iri else '?'}{urlencode({'page': number})}"


def timestamp(text: str) -> dt.datetime:
    """The instant an xsd:dateTime (or RFC 3339 date-time) in UTC stands for."""
    return dt.datetime.fromisoformat(text)


@dataclass(frozen=True)
class Address:
    """Where a feed is and what it is called: its IRI (its first page), its HTML page, its title."""

    iri: str
    page_link: str
    title: str


def build(
    store: Store,
    base_iri: str,
    address: Address,
    entries: Sequence[str] | None,
    number: int,
    label: Labels,
    modified: dt.datetime,
    extra: Sequence[atom.Item] = (),
    size: int = PAGE_SIZE,
) -> bytes:
    """Page `number` (from 1, the newest) of the feed of the changes of the given entries (None: of all), with
    the extra items (a recommendation's trail) in time order among them; ResourceNotFound past the last page."""
    first = (number - 1) * size
    if extra:  # the first pages of both lists, merged: no item past them can come into this page
        merged: list[tuple[dt.datetime, str, Change | atom.Item]]
        merged = [(timestamp(c.time), c.member, c) for c in changes(store, base_iri, entries, first + size + 1)]
        merged += [(timestamp(item.updated), item.id, item) for item in extra]
        window = sorted(merged, key=lambda row: row[:2], reverse=True)[first : first + size + 1]
    else:
        window = [(timestamp(c.time), c.member, c) for c in changes(store, base_iri, entries, size + 1, first)]
    if number > 1 and not window:
        raise ResourceNotFound(f"the feed {address.iri} has no page {number}: it ends before")
    shown = [thing for _, _, thing in window[:size]]
    made = _change_items(store, base_iri, [c for c in shown if isinstance(c, Change)], label)
    items = tuple(made[thing.member] if isinstance(thing, Change) else thing for thing in shown)
    paging = {"first": address.iri}
    if number > 1:
        paging["previous"] = feed_page(address.iri, number - 1)
    if len(window) > size:
        paging["next"] = feed_page(address.iri, number + 1)
    # The newest item's time as it gives it (the store may write a stamp's trailing zeros or not).
    newest = max(items, key=lambda item: timestamp(item.updated)).updated if items else _rfc3339(modified)
    return atom.serialize(
        atom.Feed(
            id=address.iri,
            title=address.title,
            updated=newest,
            self_link=feed_page(address.iri, number),
            page_link=address.page_link,
            author=atom.Person("policykg", base_iri),
            items=items,
            paging=paging,
            generator=("policykg", base_iri, __version__),
        )
    )


def _change_items(store: Store, base_iri: str, found: list[Change], label: Labels) -> dict[str, atom.Item]:
    """An item for each change: what its entry states, with labels for what it names."""
    stated = contents(store, base_iri, {change.entry for change in found})
    concepts = concepts_among(
        store, {iri for content in stated.values() for iri in (*content.subjects[:SHOWN], *content.named)}
    )
    types = {t for content in stated.values() for found_types in content.types.values() for t in found_types}
    shown = {subject for content in stated.values() for subject in content.subjects[:SHOWN]}
    labels = label(shown | types | concepts | {change.agent for change in found})
    return {change.member: _item(base_iri, change, stated[change.entry], concepts, labels) for change in found}


def _item(base_iri: str, change: Change, content: Content, concepts: set[str], labels: dict[str, str]) -> atom.Item:
    """The item of a change: titled by what the entry is about, telling what it did, with its categories."""

    def name(iri: str) -> str:
        return content.names.get(iri) or labels.get(iri) or _tail(iri)

    term, verb = _ACTIONS[change.action]
    about = ", ".join(name(subject) for subject in content.subjects[:3]) or f"entry {_tail(change.entry)}"
    if len(content.subjects) > 3:
        about += f" and {len(content.subjects) - 3} more"
    kinds = sorted({t for subject in content.subjects[:SHOWN] for t in content.types.get(subject, ())})
    mentioned = sorted(concepts & {*content.named, *content.subjects})[:SHOWN]
    return atom.Item(
        id=change.member,
        title=f"{verb}: {about}",
        updated=change.time,
        published=change.time,
        link=change.entry,
        content=_told(base_iri, change, content, name),
        author=atom.Person(name(change.agent), change.agent),
        categories=(
            atom.Category(str(term), change.action),
            *(atom.Category(t, name(t)) for t in kinds),
            *(atom.Category(c, name(c)) for c in mentioned),
        ),
    )


def _told(base_iri: str, change: Change, content: Content, name: Callable[[str], str]) -> atom.ET.Element:
    """What a change did, for people: who, to which entry, how many statements about which resources."""

    def link(iri: str, text: str | None = None) -> atom.ET.Element:
        return atom.html("a", text or name(iri), href=page_of(base_iri, iri))

    def classes(subject: str) -> str:
        return f" ({', '.join(name(t) for t in content.types[subject])})" if subject in content.types else ""

    entry, statements = link(change.entry, _tail(change.entry)), _count(content.statements, "statement")
    told: list[atom.ET.Element | str]
    if change.action == "retracted":
        told = ["Entry ", entry, " was retracted by ", link(change.agent), f": its {statements} about"]
    elif change.previous:
        previous = link(change.previous, _tail(change.previous))
        told = ["Entry ", entry, " by ", link(change.agent), " revises ", previous, f"; it makes {statements} about"]
    else:
        told = ["Entry ", entry, " by ", link(change.agent), f" makes {statements} about"]
    subjects = content.subjects[:SHOWN]
    listed = [atom.html("li", link(subject), classes(subject)) for subject in subjects]
    parts = [atom.html("p", *told), atom.html("ul", *listed)]
    if len(content.subjects) > len(subjects):
        parts.append(atom.html("p", f"and {_count(len(content.subjects) - len(subjects), 'other subject')}."))
    if change.action == "retracted":
        parts.append(atom.html("p", "are no longer in the graph; the entry keeps them on record."))
    return atom.html("div", *parts)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _tail(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _rfc3339(moment: dt.datetime) -> str:
    """An instant as the registry writes its stamps: UTC, to the microsecond."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
