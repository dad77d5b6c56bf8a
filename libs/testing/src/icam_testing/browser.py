"""Browser tests of the web workspace: Playwright (from PyPI) driving Debian's Chromium.

Playwright's own browser download cannot reach its host here, so the tests launch the system's
`/usr/bin/chromium` (the test command installs it with apt-get when it is missing). Each `Visitor`
is one person in one browser context: they sign in through the local OpenID provider's page, and
every page they see can be saved as a screenshot and checked with axe-core (WCAG 2.1 A/AA rules).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from icam_platform.settings import repo_root

T = TypeVar("T")
CHROMIUM = os.environ.get("ICAM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = repo_root() / ".icam" / "test-artifacts" / "screenshots"
AXE = repo_root() / "services" / "web" / "node_modules" / "axe-core" / "axe.min.js"
AXE_RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")


@contextmanager
def chromium() -> Iterator[Any]:
    """One headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@dataclass
class Visitor:
    """One person at the workspace, in a browser context of their own (cookies, localStorage)."""

    browser: Any
    web_url: str
    subject: str
    width: int = 1280
    height: int = 900
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # bypass_csp: axe-core is injected as an inline script, which the web's CSP rightly refuses
        self.context = self.browser.new_context(
            viewport={"width": self.width, "height": self.height}, bypass_csp=True, locale="fr-BE"
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)

    def sign_in(self, path: str = "/") -> None:
        """Open `path`; the workspace sends us to the provider, we choose ourselves, and come back."""
        self.page.goto(self.web_url + path)
        self.page.locator(f'button[value="{self.subject}"]').click()
        self.page.wait_for_url(re.compile(re.escape(self.web_url) + r"/.*"))

    def visit(self, path: str) -> Any:
        response = self.page.goto(self.web_url + path)
        self.page.wait_for_load_state("load")
        return response

    def choose_language(self, code: str) -> None:
        self.page.locator(f'header button[name="language"][value="{code}"]').click()
        self.page.wait_for_load_state("load")

    def seen(self, name: str) -> None:
        """Screenshot the page and check it with axe-core; blocking violations are kept in `problems`."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{_slug(name)}.png"), full_page=True)
        for violation in self.accessibility():
            nodes = ", ".join(n["target"][0] for n in violation["nodes"][:3])
            self.problems.append(f"{name}: {violation['impact']} {violation['id']} ({nodes})")

    def accessibility(self) -> list[dict[str, Any]]:
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.add_script_tag(path=str(AXE))
        result = self.page.evaluate(
            "async (rules) => (await axe.run(document, {runOnly: {type: 'tag', values: rules}})).violations",
            AXE_RULES,
        )
        return [v for v in result if v.get("impact") in BLOCKING]

    def text(self) -> str:
        return str(self.page.inner_text("body"))

    def close(self) -> None:
        self.context.close()


def off_thread(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` on an event loop of its own thread: Playwright's sync API holds this thread's loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()


def screenshot_path(name: str) -> Path:
    return SCREENSHOTS / f"{_slug(name)}.png"
