"""A browser upload survives a broken line and a pause: tus-js-client resumes from the offset the
portal recorded, and the portal ends with exactly the file's bytes (then checks it)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest

from tests.portal.conftest import RunningPortal, login, new_page, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHUNK = 64 * 1024


def test_upload_broken_line_and_pause_resume(portal_only: RunningPortal, browser: Any,
                                             tmp_path: Path) -> None:
    portal_only.portal.settings.upload_chunk_bytes = CHUNK
    path = make_big(tmp_path)
    generated = path.read_bytes()
    assert len(generated) > 4 * CHUNK
    page = new_page(browser)
    login(page, portal_only.url, "anna@amsterdam.nl")
    page.goto(f"{portal_only.url}/gemeente/GM0363/aanleveren")

    patches: list[int] = []
    posts: list[str] = []
    state = {"broken": False}

    def on_tus(route: Any) -> None:
        request = route.request
        if request.method == "POST":
            posts.append(request.url)
        if request.method == "PATCH":
            offset = int(request.headers["upload-offset"])
            patches.append(offset)
            if offset >= CHUNK and not state["broken"]:
                state["broken"] = True  # the line breaks in the middle of the second chunk
                route.abort("connectionreset")
                return
        route.continue_()

    page.route(re.compile(r"/gemeente/GM0363/tus"), on_tus)
    page.get_by_label("CSV-bestand").set_input_files(str(path))
    page.get_by_role("button", name="Uploaden en controleren").click()
    page.wait_for_url(re.compile(r"/aanleveren/[0-9a-f-]{36}$"), timeout=60_000)
    page.get_by_text(re.compile(r"Controle: (goedgekeurd|afgekeurd)")).wait_for()
    screenshot(page, "20-upload-na-onderbreking")

    assert state["broken"]
    assert len(posts) == 1, "resumed, not started again"
    aborted_at = next(o for o in patches if o >= CHUNK)
    assert patches.count(aborted_at) == 2, "the broken chunk is sent again from its offset"
    upload_id = page.url.rsplit("/", 1)[1]
    upload = portal_only.portal.uploads.get("GM0363", upload_id)
    assert upload is not None and upload.offset == upload.size == len(generated)
    stored = portal_only.portal.uploads.path(upload).read_bytes()
    assert hashlib.sha256(stored).digest() == hashlib.sha256(generated).digest()


def test_pause_and_resume_by_hand(portal_only: RunningPortal, browser: Any,
                                  tmp_path: Path) -> None:
    portal_only.portal.settings.upload_chunk_bytes = CHUNK
    path = make_big(tmp_path)
    page = new_page(browser)
    login(page, portal_only.url, "anna@amsterdam.nl")
    page.goto(f"{portal_only.url}/gemeente/GM0363/aanleveren")
    gate = {"open": False}

    def on_tus(route: Any) -> None:
        # the line is down from the third chunk on until the user resumes
        if route.request.method == "PATCH" and not gate["open"] and int(
                route.request.headers["upload-offset"]) >= 2 * CHUNK:
            route.abort("internetdisconnected")
            return
        route.continue_()

    page.route(re.compile(r"/gemeente/GM0363/tus"), on_tus)
    page.get_by_label("CSV-bestand").set_input_files(str(path))
    page.get_by_role("button", name="Uploaden en controleren").click()
    page.get_by_role("button", name="Pauzeren").click()
    page.get_by_role("button", name="Hervatten").wait_for()
    assert page.get_by_text("Gepauzeerd").is_visible()
    screenshot(page, "21-upload-gepauzeerd")
    gate["open"] = True
    page.get_by_role("button", name="Hervatten").click()
    page.wait_for_url(re.compile(r"/aanleveren/[0-9a-f-]{36}$"), timeout=60_000)
    page.get_by_text(re.compile(r"Controle: (goedgekeurd|afgekeurd)")).wait_for()
    upload = portal_only.portal.uploads.get("GM0363", page.url.rsplit("/", 1)[1])
    assert upload is not None and upload.offset == upload.size == path.stat().st_size


def make_big(tmp: Path) -> Path:
    from ggk.definitions import shipped
    from ggk.testdata.generator import generate

    generated = generate(shipped().for_period("gmsd", "2026-H1"), "basis", "GM0363", "2026-H1",
                         rows=12_000, seed=11, out=tmp / "groot-bestand")
    return Path(generated.path)
