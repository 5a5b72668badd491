"""Every answer under /api/ that is an error is the documented JSON shape (``errors.py``), whoever produced it.

ninja's handlers (``api.py``) answer what the views raise; ``ApiErrorsAsJson``, the outermost middleware, takes
the rest: an exception no handler knew (a JSON 500 with no details, even with DEBUG: the traceback goes to the log,
not to the client), Django's own pages (a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a 413, a wrong method a 405,
a bad Host a 400) and anything else that is not JSON. Pages outside /api/ (the admin) are left as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from .errors import ApiCode, ApiError, error_response

log = logging.getLogger("liandong.web.api")
API_PREFIX = "/api/"


def _too_large() -> ApiError:
    return ApiError(413, ApiCode.TOO_LARGE, "body", None, limit=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def exception_response(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The JSON answer to an exception raised while answering an API request."""
    if isinstance(exc, RequestDataTooBig):
        return error_response(_too_large())
    if isinstance(exc, SuspiciousOperation):
        return error_response(ApiError(400, ApiCode.INVALID, "request", None, why="the request is malformed"))
    log.exception("unexpected error answering %s %s", request.method, request.path)
    return error_response(ApiError(500, ApiCode.INTERNAL, "request"))


def error_for_status(request: HttpRequest, status: int) -> ApiError:
    """The documented error for a status some other layer answered with a page of its own."""
    if status == 404:
        return ApiError(404, ApiCode.NOT_FOUND, "path", request.path)
    if status == 405:
        return ApiError(405, ApiCode.METHOD_NOT_ALLOWED, "method", request.method)
    if status == 413:
        return _too_large()
    if status == 401:
        return ApiError(401, ApiCode.UNAUTHORIZED, "Authorization")
    if status == 403:
        return ApiError(403, ApiCode.FORBIDDEN, "request", "permission")
    if status >= 500:
        return ApiError(status, ApiCode.INTERNAL, "request")
    return ApiError(status, ApiCode.INVALID, "request", None, why="the request is malformed")


class ApiErrorsAsJson:
    """First in ``MIDDLEWARE``: an API error response that is not JSON is replaced by the documented shape."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (request.path.startswith(API_PREFIX) and response.status_code >= 400
                and not response.get("Content-Type", "").startswith("application/json")):
            return error_response(error_for_status(request, response.status_code))
        return response

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        return exception_response(request, exc) if request.path.startswith(API_PREFIX) else None
