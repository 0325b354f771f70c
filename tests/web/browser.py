"""Browser helpers for the web tests: Playwright driving Debian's chromium (no browser download;
in CI a missing chromium fails the test, elsewhere it skips), screenshots kept under
test-artifacts/, and axe-core (shipped inside axe-playwright-python) for WCAG 2.1 A/AA."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

TEST_ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARTIFACTS = TEST_ARTIFACTS / "portal"
CHROMIUM = os.environ.get("GGK_CHROMIUM", "/usr/bin/chromium")


def chromium_path() -> str:
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        message = f"chromium not found at {CHROMIUM} (make system-deps installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless chromium per test module; each test opens its own context (`new_page`:
    cookies and storage of its own), so tests still do not see each other's sessions."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=path, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--lang=nl-NL"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def module_browser(browser: Any) -> Any:
    """The module's chromium under the name module-scoped fixtures use."""
    return browser


def new_page(browser: Any, width: int = 1366, height: int = 768) -> Any:
    context = browser.new_context(ignore_https_errors=True, locale="nl-NL",
                                  viewport={"width": width, "height": height})
    page = context.new_page()
    # the browser's console and failed requests end up in the test output when a test fails
    page.on("console", lambda message: print(f"[browser {message.type}] {message.text}"))
    page.on("requestfailed", lambda request: print(f"[request failed] {request.url}"))
    page.on("response", lambda response: response.status >= 400 and print(
        f"[http {response.status}] {response.request.method} {response.url}"))
    page.set_default_timeout(30_000)
    return page


def log_in_page(page: Any, url: str, email: str, password: str) -> None:
    """Log in through the login form, as a person would."""
    page.goto(f"{url}/inloggen")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_load_state()


def screenshot(page: Any, name: str, folder: str = "portal") -> Path:
    """A full-page screenshot under test-artifacts/<folder>/ (the portal's by default)."""
    directory = TEST_ARTIFACTS / folder
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core (shipped by axe-playwright-python) on the current page, WCAG 2.1 A/AA rules."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": [
        "wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
    return [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in results.response["violations"]]
