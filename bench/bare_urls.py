"""The service's URLs plus ``POST /bench/bare``: a bare Django view that inserts the request body as one row.

The yardstick of ``bench/api.py``: the same gunicorn, middleware, database and client as the payment webhook, with
nothing else to do than parse JSON and insert one row (``bench_bare``, created by the benchmark).
"""

from __future__ import annotations

import json

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from liandong.web.urls import urlpatterns as service_urls


@csrf_exempt
@require_POST
def bare_insert(request: HttpRequest) -> JsonResponse:
    body = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_bare (body) VALUES (%s) RETURNING id", [json.dumps(body)])
        row = cursor.fetchone()
    return JsonResponse({"id": row[0] if row else None})


urlpatterns = [*service_urls, path("bench/bare", bare_insert)]
