"""The transport layer: one httpx client with mutual TLS, problem+json errors mapped to exceptions.

The friendly `HubClient` sits on top of this; nothing here knows about messages.
"""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from ggk import __version__
from ggk.client.interfaces import Conflict, Forbidden, HubError, HubUnreachable, NotFound

API_PREFIX = "/api/v1"
_ERRORS_BY_STATUS: dict[int, type[HubError]] = {403: Forbidden, 404: NotFound, 409: Conflict}


def tls_context(cert: Path, ca: Path) -> ssl.SSLContext:
    """A client TLS context: trusts only `ca`, presents `cert` (one PEM with cert and key),
    TLS 1.2 or newer."""
    for label, path in (("party certificate", cert), ("CA file", ca)):
        if not Path(path).is_file():
            raise FileNotFoundError(f"{label} not found: {path}")
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert))
    return context


def relative_path(url: str) -> str:
    """Path and query of a hub-given URL: the hub may sit behind a proxy, so hub-given absolute
    URLs are re-anchored on our own base URL."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def raise_for_problem(response: httpx.Response) -> None:
    """Raise the HubError subclass for an error answer (reads the problem document if any)."""
    if response.status_code < 400:
        return
    if not response.is_closed:
        response.read()
    code: str | None = None
    title: str | None = None
    detail = response.reason_phrase or "error"
    try:
        problem = response.json()
    except ValueError:
        problem = None
    if isinstance(problem, dict):
        code = problem.get("code")
        title = problem.get("title")
        raw_detail = problem.get("detail") or title
        if raw_detail is not None:
            detail = raw_detail if isinstance(raw_detail, str) else str(raw_detail)
    elif response.text:
        detail = response.text[:500]
    error = _ERRORS_BY_STATUS.get(response.status_code, HubError)
    raise error(response.status_code, code, detail, title)


class HubTransport:
    """Sends requests to one hub with one party certificate; maps failures to client errors."""

    def __init__(self, base_url: str, cert: Path, ca: Path, *, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.cert = Path(cert)
        self.ca = Path(ca)
        self.timeout = timeout
        self.tls = tls_context(self.cert, self.ca)
        self.http = httpx.Client(
            base_url=self.base_url,
            verify=self.tls,
            timeout=httpx.Timeout(timeout, connect=15.0),
            headers={"User-Agent": f"ggk-client/{__version__}"},
        )

    def close(self) -> None:
        self.http.close()

    def _unreachable(self, error: httpx.TransportError) -> HubUnreachable:
        cause: BaseException | None = error
        while cause is not None and not isinstance(cause, ssl.SSLError):
            cause = cause.__cause__ or cause.__context__
        if isinstance(cause, ssl.SSLError) or "[SSL" in str(error):
            return HubUnreachable(
                f"TLS handshake with the hub at {self.base_url} failed: {error}; check --ca (the "
                "CA that signed the hub's certificate) and that your certificate is valid"
            )
        return HubUnreachable(f"cannot reach the hub at {self.base_url}: {error or type(error)}")

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        timeout: float | None = None,
        raw_transport_errors: bool = False,
    ) -> httpx.Response:
        """One request; raises HubError subclasses for error answers. Transport errors become
        HubUnreachable unless `raw_transport_errors` (the transfer code retries on them)."""
        extra: dict[str, Any] = {}
        if timeout is not None:
            extra["timeout"] = httpx.Timeout(timeout, connect=15.0)
        try:
            response = self.http.request(
                method, path, json=json, params=params, headers=headers, content=content, **extra
            )
        except httpx.TransportError as error:
            if raw_transport_errors:
                raise
            raise self._unreachable(error) from error
        raise_for_problem(response)
        return response

    def bulk_connection(self) -> http.client.HTTPSConnection:
        """A keep-alive connection of the standard library's http.client with the same TLS
        context, for large request bodies (tus PATCH, see `bulk_request`)."""
        base = urlsplit(self.base_url)
        return http.client.HTTPSConnection(
            base.hostname or "127.0.0.1", base.port or 443, context=self.tls, timeout=self.timeout
        )

    def bulk_request(
        self,
        connection: http.client.HTTPSConnection,
        method: str,
        path: str,
        *,
        body: Iterable[memoryview],
        length: int,
        headers: dict[str, str],
    ) -> http.client.HTTPResponse:
        """Send one request with a large body of `length` bytes, given as blocks, on `connection`
        and read the (small) answer. Why not httpx: h11 joins every body into a new bytes object;
        http.client hands each block to the TLS socket as it is. Error answers raise like
        `request`; transport errors are raised as OSError or http.client.HTTPException (the
        caller closes the connection and retries)."""
        base = urlsplit(self.base_url)
        all_headers = {**dict(self.http.headers), **headers, "Content-Length": str(length)}
        try:
            connection.request(method, base.path.rstrip("/") + path, body=body, headers=all_headers)
        except OSError:
            # the hub may have answered (e.g. 413) and closed before taking the whole body: its
            # answer says more than the broken pipe does
            try:
                response = connection.getresponse()
            except (OSError, http.client.HTTPException):
                response = None
            if response is None:
                raise
        else:
            response = connection.getresponse()
        content = response.read()
        if response.status >= 400:
            raise_for_problem(
                httpx.Response(response.status, headers=response.getheaders(), content=content)
            )
        return response

    @contextmanager
    def bulk_get(
        self, path: str, *, headers: dict[str, str] | None = None
    ) -> Iterator[http.client.HTTPResponse]:
        """GET a large body through the standard library's http.client, on its own connection
        with the same TLS context. Why not httpx here: h11 hands over one 16 KiB TLS record per
        Python call, which caps a loopback download near 170 MB/s; http.client's buffered reader
        fills 1 MiB blocks in C. Error answers (except 416) raise like `request`; transport
        errors are raised as OSError / http.client.HTTPException for the caller to retry."""
        base = urlsplit(self.base_url)
        connection = http.client.HTTPSConnection(
            base.hostname or "127.0.0.1", base.port or 443, context=self.tls, timeout=self.timeout
        )
        try:
            connection.request(
                "GET",
                base.path.rstrip("/") + path,
                headers={**dict(self.http.headers), **(headers or {})},
            )
            response = connection.getresponse()
            if response.status >= 400 and response.status != 416:
                raise_for_problem(
                    httpx.Response(
                        response.status, headers=response.getheaders(), content=response.read()
                    )
                )
            yield response
        finally:
            connection.close()

    @contextmanager
    def stream(
        self, method: str, path: str, *, headers: dict[str, str] | None = None
    ) -> Iterator[httpx.Response]:
        """A streamed answer (for downloads); transport errors are raised as httpx errors."""
        with self.http.stream(method, path, headers=headers) as response:
            if response.status_code >= 400 and response.status_code != 416:
                raise_for_problem(response)
            yield response
