"""The API documents itself offline: no CDN, no inline script, every asset served here."""

from __future__ import annotations

import re

import pytest

from tests.integration.api.conftest import Community


def _assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/[^"]+)"', html)


def test_the_docs_page_loads_only_assets_this_server_serves(community: Community) -> None:
    page = community.client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assert "cdn" not in page.text.lower() and "http" not in page.text, "the docs must work offline"
    assert "<script>" not in page.text, "an inline script would be blocked by the CSP"
    assets = _assets(page.text)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert any(a.endswith("swagger-ui.css") for a in assets)
    for asset in assets:
        served = community.client.get(asset)
        assert served.status_code == 200 and served.content, asset
    csp = page.headers["content-security-policy"]
    assert "script-src 'self';" in csp, "the docs page runs only this server's scripts"


def test_the_docs_start_script_reads_this_servers_openapi(community: Community) -> None:
    script = community.client.get("/static/docs.js")
    assert script.status_code == 200 and '"/openapi.json"' in script.text
    assert community.client.get("/openapi.json").json()["info"]["title"].startswith("Shouwang")


def test_redoc_is_neither_served_nor_advertised(community: Community) -> None:
    assert community.client.get("/redoc").status_code == 404
    assert "redoc" not in community.client.get("/docs").text.lower()
    assert "redoc" not in community.client.get("/openapi.json").text.lower()


def test_the_web_page_relaxes_nothing_for_the_docs(community: Community) -> None:
    csp = community.client.get("/").headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp


@pytest.mark.parametrize("path", ["/favicon.ico", "/favicon.svg"])
def test_there_is_a_favicon(community: Community, path: str) -> None:
    icon = community.client.get(path)
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml") and b"<svg" in icon.content
