"""Schemathesis against the OpenAPI document (``/api/openapi.json``): generated requests, valid and invalid, to
every operation, as a member (member paths and the rest) or an operator (``/api/operator/...``). No answer may be a
5xx, and every answer must be documented: its status, its content type, its headers and its body's schema.

Bounded: ``EXAMPLES`` per operation and mode (about 40 operations), through the WSGI application in this process;
marked slow (about a minute on SQLite, two on PostgreSQL).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from api_client import Register, buy, make_operator
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytest_plugins = ["api_fixtures"]
pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # about a minute on SQLite, two on PostgreSQL

#: Examples per operation and generation mode; CI may go deeper with LIANDONG_SCHEMATHESIS_EXAMPLES.
EXAMPLES = int(os.environ.get("LIANDONG_SCHEMATHESIS_EXAMPLES", "15"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@pytest.fixture
def requests_keep_the_connection() -> Iterator[None]:
    """Django's request signals would close the test's database connection mid-transaction after each request
    through the WSGI application (its test client disconnects them too)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(api_shop: None, register_member: Register) -> dict[str, str]:
    """A member with an order and some balance, and an operator."""
    alice = register_member("alice")
    buy(alice)
    buy(register_member("bob", inviter=alice))
    operator = make_operator()
    assert alice.token is not None and operator.token is not None
    return {"member": alice.token, "operator": operator.token}


#: The document as the application serves it, and the application that answers the generated requests.
SCHEMA = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
OPERATIONS = sorted((op.method.upper(), op.path) for op in (result.ok() for result in SCHEMA.get_all_operations()
                                                            if isinstance(result, Ok)))


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_answer_is_documented_and_none_is_a_server_error(method: str, path: str, tokens: dict[str, str],
                                                                requests_keep_the_connection: None) -> None:
    operation = SCHEMA[path][method]
    headers = {"Authorization": f"Bearer {tokens['operator' if path.startswith('/api/operator/') else 'member']}"}
    has_inputs = bool(operation.definition.raw.get("parameters") or operation.definition.raw.get("requestBody"))
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if has_inputs else (GenerationMode.POSITIVE,)
    for mode in modes:  # an operation without inputs has no invalid request to make

        @given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None,
                             suppress_health_check=list(HealthCheck))
        def answer_conforms(case: Any) -> None:
            if case.headers:  # a generated Host is the deployment's business (ALLOWED_HOSTS), refused before the API
                case.headers = {k: v for k, v in case.headers.items() if k.lower() != "host"}
            case.call_and_validate(headers=headers, checks=CHECKS)

        answer_conforms()
