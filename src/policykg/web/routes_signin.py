"""Signing in and out for people who contribute through forms: the token once, then a session cookie."""

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from policykg.web import apidoc
from policykg.web.context import agent_of_token, context, read_form
from policykg.web.pages import page
from policykg.web.sessions import Session, checked, clear_cookie, current, set_cookie

router = APIRouter(tags=["Contributing"], default_response_class=Response)
_FORM_BYTES = 16 * 1024  # a token and two short fields


def local_path(target: str | None, default: str = "/contribute") -> str:
    """Where to go after signing in: a path of this site only (never another site, never '//host')."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default


def visitor_session(request: Request) -> tuple[Session, bool]:
    """The request's session, or a new one for a visitor (True: its cookie must be set on the answer)."""
    sessions = context(request).sessions
    found = current(sessions, request)
    return (found, False) if found is not None else (sessions.start(), True)


def with_session(request: Request, session: Session, new: bool, answer: Response) -> Response:
    """The answer, with the session's cookie when the session is new; never kept by a cache."""
    if new:
        set_cookie(answer, request, session)
    answer.headers["Cache-Control"] = "no-store"
    return answer


@router.get("/signin", summary="The sign-in form for contributors (a page)", responses=apidoc.page())
async def signin_form(request: Request, next: str | None = Query(None)) -> Response:
    """The form that takes a contributor's token once and opens a session."""
    session, new = visitor_session(request)
    body = page(context(request), "signin.html", "Sign in", session=session, next=local_path(next), failed=False)
    return with_session(request, session, new, HTMLResponse(body))


@router.post(
    "/signin",
    summary="Sign in with a contributor's token: a session cookie, then back to the form",
    responses=apidoc.form_post((401,), 400, 403, 413),
)
async def signin(request: Request) -> Response:
    """Check the token as the API does; on success a new session (new id) replaces the visitor's."""
    ctx = context(request)
    form = await read_form(request, _FORM_BYTES)
    visitor = checked(ctx.sessions, request, _text(form.get("csrf")))

    agent = agent_of_token(ctx.settings, _text(form.get("token")).strip())
    target = local_path(_text(form.get("next")))
    if agent is None:
        body = page(ctx, "signin.html", "Sign in", session=visitor, next=target, failed=True)
        return with_session(request, visitor, False, HTMLResponse(body, status_code=401))
    ctx.sessions.end(visitor.id)  # a fresh id on sign-in: a planted id never becomes a signed-in one
    session = ctx.sessions.start(agent)
    return with_session(request, session, True, RedirectResponse(target, status_code=303))


@router.post(
    "/signout",
    summary="Sign out: the session ends on the server and its cookie is cleared",
    responses=apidoc.form_post((), 400, 403, 413),
)
async def signout(request: Request) -> Response:
    """End the session (with its CSRF token) and send the person to the home page."""
    ctx = context(request)
    form = await read_form(request, _FORM_BYTES)
    session = checked(ctx.sessions, request, _text(form.get("csrf")))
    ctx.sessions.end(session.id)
    answer = RedirectResponse("/", status_code=303)
    clear_cookie(answer, request)
    answer.headers["Cache-Control"] = "no-store"
    return answer


def _text(value: object) -> str:
    """A form field's text ('' for a missing field or an upload)."""
    return value if isinstance(value, str) else ""
