"""axe-core in the page: WCAG 2.1 A and AA and axe's best practice, every violation a failure.

axe-core comes from the npm registry (`npm ci --prefix tests/e2e/axe`, which .ci/run does); where
it is not installed the accessibility checks skip and say how to get it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
RUN = """async (tags) => {
  const result = await axe.run(document, { runOnly: { type: "tag", values: tags } });
  return { passes: result.passes.length, violations: result.violations.map((v) =>
    `${v.id} (${v.impact}): ${v.help} at ` + v.nodes.slice(0, 4).map((n) => n.target.join(" ")).join(", ")) };
}"""


MISSING = "axe-core is not installed; npm ci --prefix tests/e2e/axe (needs the npm registry)"


def axe_source() -> str:
    """axe-core's source, or skip the test that needs it."""
    if not AXE.exists():
        pytest.skip(MISSING)
    return AXE.read_text(encoding="utf-8")


def axe_source_if_installed() -> str | None:
    """For a test that checks accessibility on the way: None (said on stderr) when axe is absent."""
    if not AXE.exists():
        print(f"accessibility NOT CHECKED in this test: {MISSING}", file=sys.stderr)
        return None
    return AXE.read_text(encoding="utf-8")


def violations(page: Any, source: str) -> list[str]:
    """What axe finds wrong on the page as it stands (evaluated through the debugger protocol, so
    the page's own Content-Security-Policy, which refuses inline scripts, stays as it is)."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(source + "\n;0")
    result: dict[str, Any] = page.evaluate(RUN, TAGS)
    assert result["passes"] + len(result["violations"]) > 3, "axe checked next to nothing: is the page empty?"
    found: list[str] = result["violations"]
    return found
