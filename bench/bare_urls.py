"""The service's URLs plus two bare views, the yardsticks of the benchmarks:

- ``POST /bench/bare`` (``bench/api.py``): the same gunicorn, middleware, database and client as the payment
  webhook, with nothing else to do than parse JSON and insert one row (``bench_bare``, created by the benchmark);
- ``GET /bench/page`` (``bench/pages.py``): the same middleware, session and login as a member page, rendering a
  one-line template with the user's name (through the context processors every page has): what any logged-in
  page costs before it reads anything.
"""

from __future__ import annotations

import json

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import engines
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from liandong.web.urls import urlpatterns as service_urls


@csrf_exempt
@require_POST
def bare_insert(request: HttpRequest) -> JsonResponse:
    body = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_bare (body) VALUES (%s) RETURNING id", [json.dumps(body)])
        row = cursor.fetchone()
    return JsonResponse({"id": row[0] if row else None})


BARE_PAGE = engines["django"].from_string("<!doctype html><title>bare</title><p>{{ user.get_username }}</p>")


@require_GET
def bare_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(BARE_PAGE.render({"user": request.user}, request))


urlpatterns = [path("bench/bare", bare_insert), path("bench/page", bare_page), *service_urls]
