"""Contributing without writing RDF: forms read from the shapes, checked as /validate, written as /entries."""

import re
from typing import NamedTuple

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from policykg.errors import ChangeRejected, EntryGone, EntryRejected, GraphNotFound, ProtocolError
from policykg.iris import agent_iri, entry_iri, operator_iri
from policykg.validation.shacl import Report
from policykg.views import contribution
from policykg.views.contribution import OFFERED, PROV, PROVENANCE, WHOLE, Filled, Provenance
from policykg.views.describe import labels_of
from policykg.views.forms import Catalogue, Form, read_catalogue
from policykg.views.readback import ReadBack, read_back
from policykg.views.sentences import split_sentences
from policykg.web import apidoc
from policykg.web.context import ServiceContext, context, read_form, run
from policykg.web.contribute_script import ScriptedPages, loads
from policykg.web.pages import page
from policykg.web.routes_signin import visitor_session, with_session
from policykg.web.sessions import Session, checked, signed_in
from policykg.writing.entries import record_of

router = APIRouter(tags=["Contributing"], default_response_class=Response, route_class=ScriptedPages)
_ENTRY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def catalogue(ctx: ServiceContext) -> Catalogue:
    """The forms of the offered classes, read from the shapes once per run of the service."""
    from policykg.validation.shacl import load_model_graph  # read once, when first asked

    def make() -> Catalogue:
        settings = ctx.settings
        shapes = load_model_graph(settings.shapes_dir, settings.base_iri)
        ontology = load_model_graph(settings.ontology_dir, settings.base_iri)
        return read_catalogue(shapes, ontology, OFFERED)

    return ctx.model("forms", make)


@router.get("/contribute", summary="Contribute: choose what to add (a page)", responses=apidoc.page())
async def contribute(request: Request) -> Response:
    """The kinds of thing a person can add, and whether they are signed in."""
    ctx = context(request)
    session, new = visitor_session(request)
    forms = catalogue(ctx).forms
    body = page(ctx, "contribute.html", "Contribute", forms=forms, session=session)
    return with_session(request, session, new, HTMLResponse(body))


@router.get(
    "/contribute/new",
    summary="The form for adding a thing of a kind; fields can be pre-filled (a page)",
    responses=apidoc.page(400),
)
async def new_form(
    request: Request, type: str = Query(..., description="the kind of thing, e.g. StatusRecord")
) -> Response:
    """An empty form, or one pre-filled from the query (a field's name = its value; source = the source)."""
    ctx = context(request)
    form = _form(ctx, type)
    session, new = visitor_session(request)
    params = request.query_params
    provenance = Provenance(source=params.get("source", ""))
    filled = Filled({f.key: params.getlist(f.key) for f in form.fields}, {}, provenance)
    body = await _render(ctx, session, form, filled, {}, notice="")
    return with_session(request, session, new, HTMLResponse(body))


@router.post(
    "/contribute/new",
    summary="Check a filled form (a dry run), or submit it as an entry",
    responses=apidoc.form_post((200, 410, 422), 400, 401, 403, 413),
)
async def post_form(request: Request) -> Response:
    """Check: every result next to its field. Submit: written as POST /entries writes, then the entry's page."""
    ctx = context(request)
    posted = await read_form(request, ctx.settings.max_body_bytes)
    session = checked(ctx.sessions, request, _one(posted, "csrf"))
    form = _form(ctx, _one(posted, "type"))
    action = _one(posted, "action") or "check"
    revises = _one(posted, "revises")
    old = _entry(ctx, revises) if revises else None
    filled = contribution.filled_from(form, lambda name: _texts(posted, name))
    filled = await _with_uploads(form, filled, posted)
    own_source = contribution.PKG + "SourceDocument" in catalogue(ctx).kinds_of([form.target]) | {form.target}
    label = next(iter(filled.values.get("label", [])), "") or form.label
    space = OFFERED[form.target]
    if old is None:
        subject = await run(ctx.executor, lambda: contribution.new_iri(ctx.store, ctx.settings.base_iri, space, label))
    else:  # a revision describes the same thing again: which one, the stored entry says (not the form)
        try:
            subject = (await _read_back(ctx, old, signed_in(session), form)).subject
        except EntryGone:
            return await _outdated(ctx, session, form, filled, revises)
    text = await run(ctx.executor, lambda: contribution.source_text(ctx.store, filled.provenance.source))
    built = contribution.build(form, filled, subject, text, own_source)
    entries = entry_iri(ctx.settings.base_iri)
    if action == "sentences" or action.startswith(("find:", "more:")):  # the form again, with what was asked for
        search = _Search.asked(form, action, _one(posted, action[len("find:") :] + ".find"))
        body = await _render(ctx, session, form, filled, {}, notice="", revises=revises, asked=action, search=search)
        return HTMLResponse(body, headers=_NO_STORE)
    if built.errors:
        body = await _render(ctx, session, form, filled, built.errors, notice="", revises=revises)
        return HTMLResponse(body, status_code=422, headers=_NO_STORE)
    if action != "submit":
        anonymous = agent_iri(ctx.settings.base_iri, "anonymous")
        agent_or_anonymous = session.agent or anonymous

        def dry_run() -> Report:
            if old is None:
                return ctx.entries.check(built.triples, agent_or_anonymous)
            return ctx.entries.check_revision(old, built.triples, agent_or_anonymous)

        report = await run(ctx.executor, dry_run)
        errors = contribution.place(form, subject, (r.as_dict() for r in report.results), entries)
        notice = "No problems found: you can submit it." if report.conforms else ""
        body = await _render(ctx, session, form, filled, errors, notice=notice, revises=revises)
        return HTMLResponse(body, status_code=200 if report.conforms else 422, headers=_NO_STORE)
    if session.agent is None:
        errors = {WHOLE: ["Sign in with your token before you submit: nothing was written."]}
        body = await _render(ctx, session, form, filled, errors, notice="", revises=revises)
        return HTMLResponse(body, 401, headers=_NO_STORE)
    agent = signed_in(session)

    def write() -> str:
        if old is None:
            return ctx.entries.submit(built.triples, agent).iri
        return ctx.entries.revise(old, built.triples, agent).iri

    try:
        written = await run(ctx.write_executor, write)
    except EntryGone:  # revised or retracted between the reading above and the writing
        return await _outdated(ctx, session, form, filled, revises)
    except (ChangeRejected, EntryRejected) as rejected:
        if isinstance(rejected, ChangeRejected):
            errors = contribution.place(form, subject, rejected.results, entries)
        else:
            errors = {WHOLE: [str(rejected)]}
        body = await _render(ctx, session, form, filled, errors, notice="", revises=revises)
        return HTMLResponse(body, 422, headers=_NO_STORE)
    return RedirectResponse("/entries/" + written.rsplit("/", 1)[-1], status_code=303, headers=_NO_STORE)


@router.get(
    "/contribute/entry/{entry_id}/revise",
    summary="Revise one's own entry: its form, filled with what it says now (a page)",
    responses=apidoc.page(401, 403, 404, 410),
)
async def revise_form(request: Request, entry_id: str) -> Response:
    """The form of the thing the entry describes, filled in from the entry; Submit writes a revision."""
    ctx = context(request)
    session, new = visitor_session(request)
    old = _entry(ctx, entry_id)
    found = await _read_back(ctx, old, signed_in(session), None)
    body = await _render(ctx, session, found.form, found.filled, {}, notice="", revises=entry_id)
    return with_session(request, session, new, HTMLResponse(body, headers=_NO_STORE))


@router.get(
    "/contribute/entry/{entry_id}",
    summary="Revise or retract one's own entry: the page that offers both, or says why they are not offered (a page)",
    responses=apidoc.page(404),
)
async def entry_actions(request: Request, entry_id: str) -> Response:
    """What a contributor can do with an entry of theirs (revise it through its form, or retract it), and why not."""
    ctx = context(request)
    session, new = visitor_session(request)
    iri = _entry(ctx, entry_id)
    about = record_of(iri, await run(ctx.executor, lambda: ctx.entries.quads(iri)))
    may = session.agent is not None and session.agent in (
        about.get(PROV + "wasAttributedTo"),
        operator_iri(ctx.settings.base_iri),
    )
    body = page(
        ctx, "contribute_entry.html", f"Entry {entry_id}", session=session, entry_id=entry_id, about=about, may=may
    )
    return with_session(request, session, new, HTMLResponse(body, headers=_NO_STORE))


@router.post(
    "/contribute/entry/{entry_id}/retract",
    summary="Retract one's own entry from a signed-in session",
    responses=apidoc.form_post((), 400, 401, 403, 404, 413),
)
async def retract(request: Request, entry_id: str) -> Response:
    """Retract as DELETE /entries/{id} does (only its contributor or the operator), then back to its page."""
    ctx = context(request)
    posted = await read_form(request, 16 * 1024)
    agent = signed_in(checked(ctx.sessions, request, _one(posted, "csrf")))
    iri = _entry(ctx, entry_id)
    await run(ctx.write_executor, lambda: ctx.entries.retract(iri, agent))
    return RedirectResponse(f"/entries/{entry_id}", status_code=303, headers=_NO_STORE)


_NO_STORE = {"Cache-Control": "no-store"}


async def _outdated(ctx: ServiceContext, session: Session, form: Form, filled: Filled, revises: str) -> Response:
    """The form again, with what was sent, when the entry it revises was revised or retracted since (410)."""
    old = _entry(ctx, revises)
    about = record_of(old, await run(ctx.executor, lambda: ctx.entries.quads(old)))
    newer = about.get(contribution.PKG + "supersededBy", "").rsplit("/", 1)[-1]
    how = f"revised (its newer version is {newer})" if newer else "retracted"
    message = (
        f"Entry {revises} was {how} at {about.get(PROV + 'invalidatedAtTime', '')}, after this form was opened: "
        "nothing was written. Open the entry's page to start again from what it says now."
    )
    body = await _render(ctx, session, form, filled, {WHOLE: [message]}, notice="", revises=revises)
    return HTMLResponse(body, 410, headers=_NO_STORE)


async def _read_back(ctx: ServiceContext, old: str, agent: str, form: Form | None) -> ReadBack:
    """An entry the agent may revise, read back into its form (which must be `form`, when one is given)."""
    known = catalogue(ctx)

    def read() -> ReadBack | None:
        quads = ctx.entries.editable(old, agent)
        forms = {f.target: f for f in known.forms.values()}
        return read_back(old, quads, forms.get, lambda source: contribution.source_text(ctx.store, source))

    found = await run(ctx.executor, read)
    if found is None:
        raise ProtocolError(f"the entry <{old}> describes nothing the forms offer: revise it through /entries")
    if form is not None and found.form.target != form.target:
        raise ProtocolError(f"the entry <{old}> describes a {found.form.label}, not a {form.label}")
    return found


async def _render(
    ctx: ServiceContext,
    session: Session,
    form: Form,
    filled: Filled,
    errors: dict[str, list[str]],
    notice: str,
    revises: str = "",
    asked: str = "",
    search: "_Search | None" = None,
) -> str:
    """The form page: every field with its values, pickers' choices, sentences to tick, errors in place."""
    known = catalogue(ctx)

    def gather() -> tuple[dict[str, list[tuple[str, str]]], list[tuple[str, str]], str | None, dict[str, str]]:
        choices = {
            f.key: contribution.candidates(
                ctx.store, known.kinds_of(f.classes), search.words if search and search.key == f.key else ""
            )
            for f in form.fields
            if f.classes
        }
        sources = contribution.candidates(ctx.store, known.kinds_of([contribution.PKG + "SourceDocument"]))
        text = contribution.source_text(ctx.store, filled.provenance.source)
        named = {c for f in form.fields for c in f.choices}
        labels = {iri: label.text.value for iri, label in labels_of(ctx.store, named).items()}
        return choices, sources, text, labels

    choices, sources, text, labels = await run(ctx.executor, gather)
    own_source = contribution.PKG + "SourceDocument" in known.kinds_of([form.target]) | {form.target}
    shown = {f.key for f in form.fields} | (set() if own_source else {PROVENANCE})
    return page(
        ctx,
        "contribute_form.html",
        f"Revise entry {revises}: {form.label}" if revises else f"Add: {form.label}",
        loads=loads(),
        revises=revises,
        asked=asked,
        found=search and _Found(search.key, search.words, len(choices.get(search.key, []))),
        form=form,
        filled=filled,
        errors=contribution.one_place(errors, shown),
        notice=notice,
        session=session,
        choices=choices,
        labels=labels,
        sources=sources,
        sentences=split_sentences(text) if text else [],
        own_source=own_source,
        type_key=form.target.rsplit("#", 1)[-1].rsplit("/", 1)[-1],
        provenance_key=PROVENANCE,
        whole_key=WHOLE,
    )


async def _with_uploads(form: Form, filled: Filled, posted: FormData) -> Filled:
    """The form's values with an uploaded text file in place of an empty text field (UTF-8 text only)."""
    values = dict(filled.values)
    for f in form.fields:
        upload = posted.get(f.key + ".file")
        if f.kind == "longtext" and isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read()
            if not any(v.strip() for v in values.get(f.key, [])) and data:
                try:
                    values[f.key] = [data.decode("utf-8-sig")]
                except UnicodeDecodeError as error:
                    raise ProtocolError(f"the file {upload.filename!r} is not UTF-8 text") from error
    return Filled(values, filled.languages, filled.provenance)


class _Search(NamedTuple):
    """Words to find a picker's choices by (its field's key, the words)."""

    key: str
    words: str

    @staticmethod
    def asked(form: Form, action: str, words: str) -> "_Search | None":
        """The search a "find:<key>" action asks for, if it names a picker of the form and gives words."""
        key = action[len("find:") :] if action.startswith("find:") else ""
        if not any(f.key == key and f.kind == "resource" for f in form.fields) or not words.strip():
            return None
        return _Search(key, " ".join(words.split()[: contribution.MOST_WORDS]))


class _Found(NamedTuple):
    """What a picker's search found: its field, the words, and how many things match them."""

    key: str
    words: str
    matches: int


def _form(ctx: ServiceContext, name: str) -> Form:
    """The form of a kind of thing offered, by its name; 404 for any other."""
    forms = catalogue(ctx).forms
    if name not in forms:
        raise GraphNotFound(f"there is no form for {name!r}: choose one of {', '.join(forms)}")
    return forms[name]


def _entry(ctx: ServiceContext, entry_id: str) -> str:
    if not _ENTRY_ID.fullmatch(entry_id):
        raise GraphNotFound(f"there is no entry {entry_id!r}")
    return entry_iri(ctx.settings.base_iri, entry_id)


def _one(posted: FormData, name: str) -> str:
    value = posted.get(name)
    return value if isinstance(value, str) else ""


def _texts(posted: FormData, name: str) -> list[str]:
    return [v for v in posted.getlist(name) if isinstance(v, str)]
