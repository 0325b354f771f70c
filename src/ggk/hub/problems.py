"""RFC 9457 problem details for every error the hub answers, FastAPI's own included."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ggk.hub.interfaces import HubError, StoreUnwritable

PROBLEM_TYPE_BASE = "https://ggk.example/problems/"
MEDIA_TYPE = "application/problem+json"


class ProblemResponse(JSONResponse):
    media_type = MEDIA_TYPE


def problem(status: int, code: str, detail: str, title: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> ProblemResponse:
    body = {"type": PROBLEM_TYPE_BASE + code, "title": title or code.replace("-", " ").capitalize(),
            "status": status, "detail": detail, "code": code, **extra}
    return ProblemResponse(body, status_code=status, headers=headers)


_HTTP_CODES = {400: "bad-request", 401: "unauthenticated", 403: "forbidden", 404: "not-found",
               405: "method-not-allowed", 406: "not-acceptable", 409: "conflict",
               411: "length-required", 413: "too-large", 415: "unsupported-media-type",
               416: "range-not-satisfiable", 422: "invalid-request", 500: "internal-error"}


def install(app: FastAPI) -> None:
    @app.exception_handler(HubError)
    async def _hub_error(_request: Request, exc: HubError) -> ProblemResponse:
        return problem(exc.status, exc.code, exc.detail, exc.title, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> ProblemResponse:
        code = _HTTP_CODES.get(exc.status_code, f"http-{exc.status_code}")
        return problem(exc.status_code, code, str(exc.detail), headers=dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> ProblemResponse:
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", ""),
                   "type": e.get("type", "")} for e in exc.errors()]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(first["loc"])
        return problem(422, "invalid-request", f"{where}: {first['msg']}", "Invalid request",
                       errors=errors)

    @app.exception_handler(StoreUnwritable)
    async def _store(_request: Request, exc: StoreUnwritable) -> ProblemResponse:
        import logging

        logging.getLogger("ggk.hub").error("%s", exc)
        return problem(507, "store-unwritable", f"{exc}; nothing was stored, try again later")

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> ProblemResponse:
        import logging

        logging.getLogger("ggk.hub").exception("unexpected error", exc_info=exc)
        return problem(500, "internal-error", "the hub failed unexpectedly; see its log")
