"""The REST API: one ``NinjaAPI`` mounted at ``/api/`` (Swagger UI at ``/api/docs``, the document at
``/api/openapi.json``), its routers per domain, and the error handlers that give every error one JSON shape
(``errors.py``): a malformed body is a 400 naming the field and the value, not ninja's 422 list.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Router, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError, ValidationErrorContext

from . import (
    campaign_stream,
    events,
    group_stream,
    members,
    notices,
    operators,
    payments,
    payments_notify,
    plans,
    shop,
    withdrawals,
)
from .errors import ApiCode, ApiError, error_response
from .middleware import exception_response
from .parsing import StorableJsonParser

DESCRIPTION = """
Liandong's API. Money is a string with two decimals ("699.00"). Every POST needs an `Idempotency-Key` header
(the payment webhook is keyed on the provider's payment id instead). Every error is
`{"error": {"code", "field", "value", "message", "message_zh"}}`. Members authenticate with a bearer token
(`POST /api/auth/token`) or the session cookie (`POST /api/auth/login`, then the CSRF token on unsafe requests).
Actions are events: the answer is the applied result, a 422 with the engine's refusal, or a 202 with a URL to poll.
"""


class LiandongAPI(NinjaAPI):
    """ninja's API, keeping the offending value in validation errors (ninja drops pydantic's ``input``)."""

    def validation_error_from_error_contexts(self, error_contexts: list[ValidationErrorContext[Any]]
                                             ) -> ValidationError:
        errors: list[dict[str, Any]] = []
        for context in error_contexts:
            model = context.model
            for error in context.pydantic_validation_error.errors(include_url=False):
                inner = model.__ninja_flatten_map_reverse__.get(error["loc"], error["loc"])
                loc = (model.__ninja_param_source__, *inner)
                errors.append({"type": error["type"], "loc": loc, "msg": error["msg"], "input": error.get("input")})
        return ValidationError(errors)


# Swagger UI's files come from the project (``ninja`` in INSTALLED_APPS, served by WhiteNoise), and it asks no
# outside validator: /api/docs works without the internet.
api = LiandongAPI(title="Liandong API", version="1", description=DESCRIPTION, urls_namespace="api",
                  docs_url="/docs", openapi_url="/openapi.json", docs=Swagger(settings={"validatorUrl": None}),
                  parser=StorableJsonParser())
for module in (members, notices, shop, payments, withdrawals, plans, operators, events):
    api.add_router("", module.router)
api.add_router("", payments_notify.router)  # WeChat Pay's and Alipay's payment notifications
api.add_router("", group_stream.router)  # a group's state as it changes (SSE), for its page
api.add_router("", campaign_stream.router)  # a pre-sale's or blind box's page parts as they change (SSE)

unknown_paths = Router()


@unknown_paths.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", auth=None,
                             include_in_schema=False)
def unknown_path(request: HttpRequest, rest: str) -> HttpResponse:
    """Anything else under /api/ is a JSON 404 too, not Django's HTML page."""
    raise ApiError(404, ApiCode.NOT_FOUND, "path", request.path)


api.add_router("", unknown_paths)  # last: only what no other route matched

#: Where ninja puts a parameter, dropped from the field name we report ("body.payload.amount" -> "amount").
LOCATIONS = {"body", "query", "path", "header", "cookie", "form", "payload", "file"}


@api.exception_handler(ApiError)
def on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error_response(exc)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {"loc": ["body"], "msg": "invalid request"}
    parts = [str(p) for p in first.get("loc", ())]
    while len(parts) > 1 and parts[0] in LOCATIONS:
        parts.pop(0)
    field = ".".join(parts) or "body"
    if first.get("type") == "missing":
        return error_response(ApiError(400, ApiCode.MISSING, field))
    value = None if "password" in field else first.get("input")
    return error_response(ApiError(400, ApiCode.INVALID, field, value, why=first.get("msg", "invalid")))


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(ApiError(401, ApiCode.UNAUTHORIZED, "Authorization"))


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """ninja's own errors: a failed CSRF check (403), a body that is not JSON (400), or one our parser refused
    naming the field (``parsing.py``: ninja wraps it)."""
    if isinstance(exc.__cause__, ApiError):
        return error_response(exc.__cause__)
    if exc.status_code == 403:
        return error_response(ApiError(403, ApiCode.CSRF_FAILED, "X-CSRFToken"))
    code = ApiCode.INVALID if exc.status_code == 400 else ApiCode.NOT_FOUND
    return error_response(ApiError(exc.status_code, code, "body", None, why=exc.message))


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(ApiError(404, ApiCode.NOT_FOUND, "path", request.path))


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    """Anything else a view raised: ``exception_response`` (a body over the limit is a 413; a fault a JSON 500)."""
    return exception_response(request, exc)
