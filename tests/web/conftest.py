"""A minimal application on the web foundation (one page behind login, one action) served over
real TLS on 127.0.0.1, on SQLite and on PostgreSQL (`database_url`): the foundation is tested
apart from the portal, as the CBS dashboard and operator console will use it."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse

from ggk.pki import init_ca, issue_server_cert
from ggk.web.app import CurrentUser, WebConfig, WebFoundation, client_address
from ggk.web.interfaces import Membership
from ggk.web.server import BackgroundServer
from tests.web.browser import browser, module_browser  # noqa: F401 - fixtures for this folder

PASSWORD = "wachtwoord-123!"


@dataclass
class RunningWeb:
    url: str
    web: WebFoundation
    ca: Path

    def client(self) -> httpx.Client:
        context = ssl.create_default_context(cafile=str(self.ca))
        return httpx.Client(base_url=self.url, verify=context, timeout=20, follow_redirects=False)


def demo_router() -> APIRouter:
    router = APIRouter()

    @router.get("/", response_class=HTMLResponse)
    def home(request: Request, user: CurrentUser) -> HTMLResponse:
        return request.app.state.web.render(request, "web/error.html", title="Welkom",
                                            message=f"Hallo {user.name}")

    @router.post("/actie")
    def action(request: Request, user: CurrentUser) -> PlainTextResponse:
        request.app.state.web.audit.record(user, "demo.action", "gedaan", organisation="GM0363",
                                           address=client_address(request))
        return PlainTextResponse("gedaan")

    return router


@pytest.fixture(scope="session")
def web_tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("web-pki")
    init_ca(directory / "ca")
    server = directory / "server.pem"
    server.write_bytes(issue_server_cert(directory / "ca", ["127.0.0.1"]))
    return directory / "ca" / "ca.pem", server


@pytest.fixture
def running_web(database_url: str, web_tls: tuple[Path, Path]) -> Iterator[RunningWeb]:
    web = WebFoundation(WebConfig(database_url=database_url, title="Testportaal"))
    web.migrate()
    web.accounts.create("anna@amsterdam.nl", "Anna de Vries", PASSWORD,
                        memberships=[Membership("GM0363", "medewerker")])
    yield from serve(web, [demo_router()], web_tls)


def serve(web: WebFoundation, routers: list[APIRouter], tls: tuple[Path, Path]
          ) -> Iterator[RunningWeb]:
    """Serve `web` with these routers on real TLS until the generator is closed."""
    ca, server_pem = tls
    server = BackgroundServer(web.create_app(routers), cert=server_pem)
    url = server.start()
    try:
        yield RunningWeb(url, web, ca)
    finally:
        server.stop()
        web.engine.dispose()


def free_port() -> int:
    """A free loopback port (for servers that must know their port before they start)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def csrf_of(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def log_in(client: httpx.Client, email: str = "anna@amsterdam.nl", password: str = PASSWORD,
           ) -> httpx.Response:
    page = client.get("/inloggen")
    return client.post("/inloggen", data={"csrf_token": csrf_of(page.text), "email": email,
                                          "wachtwoord": password})
