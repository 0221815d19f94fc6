"""The API's own documentation (Swagger UI), served from this process so it works offline.

FastAPI's default /docs page loads Swagger UI from a CDN and starts it with an inline script;
the page's Content-Security-Policy (script-src 'self') blocks both, and a community office may
have no internet. Here the assets come from the swagger-ui-bundle package and the start-up
script is a file of our own.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)
ASSETS = "/docs/assets"

PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Shouwang (守望) API</title>
  <link rel="icon" href="/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
  <script src="{ASSETS}/swagger-ui-bundle.js" defer></script>
  <script src="/static/docs.js" defer></script>
</head>
<body>
  <div id="swagger-ui"></div>
</body>
</html>
"""


@router.get("/docs", response_class=HTMLResponse)
def docs() -> HTMLResponse:
    return HTMLResponse(PAGE)
