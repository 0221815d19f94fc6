"""The web page: a dashboard served by the API itself, no build step."""

from __future__ import annotations

from html import escape
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from api.deps import Context

router = APIRouter(include_in_schema=False)
WEB = resources.files("api") / "web"


@router.get("/", response_class=HTMLResponse)
def page(context: Context) -> HTMLResponse:
    html = (WEB / "index.html").read_text(encoding="utf-8")
    html = html.replace("{{community}}", escape(context.settings.community))
    html = html.replace("{{timezone}}", escape(context.settings.timezone))
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@router.get("/favicon.svg")
@router.get("/favicon.ico")
def favicon() -> Response:
    """A small icon, so browsers stop asking for one that is not there."""
    return Response((WEB / "favicon.svg").read_bytes(), media_type="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=86400"})
