"""What the contribution forms' script asks: the things a picker may offer whose names hold the words typed
(/contribute/choices, JSON), and the script itself (/contribute/assets/…)."""

import re

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from policykg.errors import ProtocolError
from policykg.views.pickers import MOST_CHOICES, matching
from policykg.web import apidoc
from policykg.web.assets import asset_answer
from policykg.web.context import context, run
from policykg.web.contribute_script import ASSETS_PATH, FILES
from policykg.web.routes_contribute import catalogue

router = APIRouter(tags=["Contributing"], default_response_class=Response)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class PickerChoice(BaseModel):
    """A thing a picker offers: its IRI and the name it is shown by."""

    iri: str
    label: str


class PickerChoices(BaseModel):
    """The things a picker offers for the words typed, best first, and whether there are more."""

    type: str
    field: str
    classes: list[str]
    q: str
    choices: list[PickerChoice]
    more: bool


@router.get(
    "/contribute/choices",
    summary="What a form's picker offers: the things of its classes whose names hold the words typed (JSON)",
    responses={
        **apidoc.json_answer(200, "The things offered, best first (at most limit of them)", PickerChoices),
        **apidoc.problems(400),
    },
)
async def choices(
    request: Request,
    type: str = Query(..., max_length=100, description="the form, by the kind of thing it adds, e.g. StatusRecord"),
    field: str = Query(..., max_length=100, description="the picker, by its field's name in the form, e.g. status"),
    q: str = Query(
        "",
        max_length=200,
        description="words of a name (case-blind; each must occur; the first 8 count); none: every thing, by name",
    ),
    limit: int = Query(10, ge=1, le=MOST_CHOICES, description="how many things at most"),
) -> Response:
    """Things of the field's classes (sh:class, with every subclass) only: an exact name first, then names that
    start with the words, then the others. The same words-in-names match as the form's Find button."""
    ctx = context(request)
    known = catalogue(ctx)
    form = known.forms.get(type)
    if form is None:
        raise ProtocolError(f"there is no form for {type!r}: choose one of {', '.join(known.forms)}")
    picker = next((f for f in form.fields if f.key == field and f.kind == "resource"), None)
    if picker is None:
        pickers = [f.key for f in form.fields if f.kind == "resource"]
        raise ProtocolError(f"the form {type} has no picker {field!r}: its pickers are {', '.join(pickers)}")
    if _CONTROL.search(q):
        raise ProtocolError("q: words of a name, without control characters")
    classes = known.kinds_of(picker.classes)
    found, more = await run(ctx.executor, lambda: matching(ctx.store, classes, q, limit))
    body = PickerChoices(
        type=type,
        field=field,
        classes=sorted(classes),
        q=q,
        choices=[PickerChoice(iri=c.iri, label=c.label) for c in found],
        more=more,
    )
    return JSONResponse(body.model_dump(), headers={"Cache-Control": "no-store"})


@router.get(ASSETS_PATH + "{name}", include_in_schema=False)
@router.head(ASSETS_PATH + "{name}", include_in_schema=False)
async def asset(request: Request, name: str) -> Response:
    """The contribution pages' script, by its published name; any other name is not found."""
    return asset_answer(request, FILES, ASSETS_PATH, name)
