"""What every browser test checks on every page state, and a phone to check it on.

Use from a browser test (see ``test_usability_browser.py``; the ``phone`` fixture is in
``conftest.py``)::

    from browser import assert_no_axe_violations, assert_no_horizontal_overflow

    def test_my_page(phone, live_app):
        page = phone("en")                      # 360 px wide, JavaScript on
        page.goto(f"{live_app}/my-page")
        phone.check(page, "my-page")            # all three checks below, one call
        # or one by one:
        assert_no_horizontal_overflow(page)
        assert_no_axe_violations(page)
        phone.shoot(page, "my-page")            # test-artifacts/<test name>/NN-my-page.png

The checks need the page's JavaScript on (axe-core runs inside it). axe-core comes from the
npm registry (``tests/interop/package.json``, installed outside the repository by
``tests/interop/node_env.py``) and is run inside the page through the browser's debugging
protocol, not as a script tag, so that it works under any content security policy. Browsers are Debian's
``chromium``; Playwright never downloads one.
"""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

from idp.config import ROOT

ARTIFACTS = ROOT / "test-artifacts"
#: A small phone (CSS pixels): the width the pages are made for.
PHONE = {"width": 360, "height": 740}


@cache
def axe_source() -> str:
    """axe-core's browser build, installed from the npm registry on first use."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent / "interop"))
    import node_env

    return (node_env.workdir() / "node_modules" / "axe-core" / "axe.min.js").read_text()


def axe_violations(page) -> list[dict]:
    """Every axe-core rule (WCAG 2.x A and AA, and best practices) the page breaks."""
    page.evaluate(axe_source())
    return page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary)}));
    }""")


def assert_no_axe_violations(page) -> None:
    found = axe_violations(page)
    assert not found, f"{page.url}: axe-core found " + "; ".join(
        f"{v['id']} ({v['impact']}: {v['help']}) at {v['nodes']}" for v in found)


def assert_no_horizontal_overflow(page) -> None:
    """Nothing is wider than the screen: no sideways scrolling."""
    widths = page.evaluate("""() => ({scroll: document.documentElement.scrollWidth,
                                      client: document.documentElement.clientWidth,
                                      wide: [...document.querySelectorAll('body *')]
                                        .filter(e => e.getBoundingClientRect().right >
                                                     document.documentElement.clientWidth + 1)
                                        .slice(0, 5).map(e => e.outerHTML.slice(0, 120))})""")
    assert widths["scroll"] <= widths["client"], (
        f"{page.url}: {widths['scroll']} px wide on a {widths['client']} px screen; "
        f"too wide: {widths['wide']}")


class Phone:
    """Opens pages on a 360 px phone and checks and photographs each state of them."""

    def __init__(self, browser, folder: Path):
        self.browser, self.folder, self.count = browser, folder, 0

    def __call__(self, language: str = "el", *, javascript: bool = True):
        context = self.browser.new_context(
            viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True,
            locale={"el": "el-GR", "en": "en-GB"}[language], java_script_enabled=javascript)
        return context.new_page()

    def shoot(self, page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def check(self, page, name: str) -> None:
        """No sideways scrolling, no axe-core violation, and a screenshot of this state."""
        self.shoot(page, name)
        assert_no_horizontal_overflow(page)
        assert_no_axe_violations(page)


def artifacts_folder(test_name: str) -> Path:
    """A fresh ``test-artifacts/<test name>/`` for a test's screenshots."""
    folder = ARTIFACTS / test_name.removeprefix("test_").replace("[", "-").rstrip("]")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
