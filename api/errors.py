"""One place where domain errors become HTTP answers, each a clear JSON body."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from shouwang.domain.errors import Conflict, InvalidInput, NotFound, ShouwangError


class NotAuthenticated(ShouwangError):
    pass


class Forbidden(ShouwangError):
    """Your role may not do this; the message says who may."""


class TooManyAttempts(ShouwangError):
    def __init__(self, retry_after_s: float, message: str | None = None) -> None:
        self.retry_after_s = max(1, int(retry_after_s + 0.999))
        super().__init__(message or f"too many failed sign-ins from this address; wait {self.retry_after_s} s "
                         "and try again (each further failure doubles the wait), or ask an "
                         "admin to reset your password")


def _body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"error": {"code": code, "message": message, **extra}}


def not_json(why: str) -> dict[str, object]:
    """The 400 answer to a body that is not valid JSON (`why`: the parser's words, or empty)."""
    return _body("bad_request", f"the request body is not valid JSON{f' ({why})' if why else ''}; send UTF-8 JSON")


def install(app: FastAPI) -> None:
    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse(_body("not_found", str(exc)), status_code=404)

    @app.exception_handler(Conflict)
    async def conflict(_: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse(_body("conflict", str(exc)), status_code=409)

    @app.exception_handler(InvalidInput)
    async def invalid(_: Request, exc: InvalidInput) -> JSONResponse:
        return JSONResponse(_body("invalid", str(exc)), status_code=422)

    @app.exception_handler(NotAuthenticated)
    async def unauthenticated(_: Request, exc: NotAuthenticated) -> JSONResponse:
        return JSONResponse(_body("not_authenticated", str(exc)), status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(Forbidden)
    async def forbidden(_: Request, exc: Forbidden) -> JSONResponse:
        return JSONResponse(_body("forbidden", str(exc)), status_code=403)

    @app.exception_handler(TooManyAttempts)
    async def too_many(_: Request, exc: TooManyAttempts) -> JSONResponse:
        return JSONResponse(_body("too_many_requests", str(exc)), status_code=429,
                            headers={"Retry-After": str(exc.retry_after_s)})

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error")
        message = str(exc.detail)
        if exc.status_code == 400:
            message = "the request body could not be read; send UTF-8 JSON"
        elif exc.status_code == 404 and exc.detail == "Not Found":
            message = f"there is no {request.url.path}; the API is described at /docs"
        elif exc.status_code == 405:
            allowed = (exc.headers or {}).get("Allow", "")
            message = f"{request.method} is not allowed on {request.url.path}; use {allowed}"
        return JSONResponse(_body(code, message), status_code=exc.status_code,
                            headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        unreadable = next((e for e in exc.errors() if e["type"] == "json_invalid"), None)
        if unreadable is not None:
            # Broken JSON is a malformed request (400); JSON that parses but does not fit is 422.
            return JSONResponse(not_json((unreadable.get("ctx") or {}).get("error", "")), status_code=400)
        problems = [
            {"where": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()
        ]
        return JSONResponse(_body("invalid_request", "the request is not valid; see problems",
                                  problems=problems), status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        # Starlette still logs the exception; the caller gets the envelope, not plain text.
        return JSONResponse(_body("internal", "something went wrong on the server; it has been "
                                  "logged, try again or tell the administrator"), status_code=500)
