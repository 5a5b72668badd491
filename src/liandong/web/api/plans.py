"""Plans: operators read the running plans' config, change it (a ``configure_plan`` event, validated before it is
logged), read its versions, and transpose a chain21 seed.

A change names only the keys it changes; the event carries the whole resulting config, so the log alone says
what each version was. Versions count from 1 (the shop's initial config); each applied change is the next, and
every applied event's outcome records the version it used::

    POST /api/operator/plans/chain21 {"config": {"team_reward": "150.00"}}   -> 200 {"version": 2, ...}
    POST /api/operator/plans/chain21 {"config": {"peer_rate": "1.5"}}
      -> 400 {"error": {"code": "invalid", "field": "config.peer_rate", "value": "1.5", ...}}
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status
from ninja.params.functions import Path

from ...engine.module import ConfigError, validate_config
from . import reads
from .actions import answer, log_operator_event
from .auth import AUTH, require_operator
from .errors import ApiCode, ApiError
from .idempotency import idempotent_post
from .schemas import ErrorOut, PendingOut, PlanOut, PlanUpdateIn, PlanVersionOut

router = Router(tags=["plans"])
ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422, 429)}
PLAN_PATTERN = r"^[a-z0-9_]{1,64}$"


def _current(kind: str) -> dict[str, Any]:
    latest = reads.plan_versions(kind)[-1]
    return {"plan": kind, "version": latest["version"], "config": latest["config"]}


@router.get("/operator/plans", auth=AUTH, response={200: list[PlanOut], **ERRORS})
def list_plans(request: HttpRequest) -> list[dict[str, Any]]:
    """The plans this shop runs, each with its current config and the version it took effect with."""
    require_operator(request)
    return [_current(kind) for kind in reads.running_plans()]


@router.get("/operator/plans/{plan}", auth=AUTH, response={200: PlanOut, **ERRORS})
def get_plan(request: HttpRequest, plan: str = Path(..., pattern=PLAN_PATTERN)) -> dict[str, Any]:
    require_operator(request)
    return _current(plan)


@router.get("/operator/plans/{plan}/versions", auth=AUTH, response={200: list[PlanVersionOut], **ERRORS})
def plan_versions(request: HttpRequest, plan: str = Path(..., pattern=PLAN_PATTERN)) -> list[dict[str, Any]]:
    """Every config the plan has had, oldest first, with who changed it and the event that did."""
    require_operator(request)
    return reads.plan_versions(plan)


def _control_character(value: Any, key: str) -> tuple[str, Any] | None:
    """The first key whose text holds a control character (a NUL cannot even be stored), with its value."""
    if isinstance(value, str):
        return (key, value) if any(ord(ch) < 32 or ord(ch) == 127 for ch in value) else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for sub, item in items:
        found = _control_character(str(sub), key) or _control_character(item, f"{key}.{sub}")
        if found:
            return found
    return None


def merged_config(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` over ``current``; a mapping value (``direct_reward: {agent: …}``) merges one level down."""
    merged = dict(current)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


@idempotent_post(router, "/operator/plans/{plan}", auth=AUTH, response={200: PlanOut, 202: PendingOut, **ERRORS})
def configure_plan(request: HttpRequest, body: PlanUpdateIn,
                   plan: str = Path(..., pattern=PLAN_PATTERN)) -> Status[Any]:
    """Change a plan's config (needs ``configure_plan``); it applies to events logged after it."""
    operator = require_operator(request, "configure_plan")
    bad = _control_character(body.config, "config")
    if bad is not None:
        raise ApiError(400, ApiCode.INVALID, bad[0], bad[1], why="control characters are not allowed")
    config = merged_config(_current(plan)["config"], body.config)
    try:
        validate_config(plan, reads.module_type(plan).Config, config)
    except ConfigError as exc:
        key, value, why = exc.problems[0]
        raise ApiError(400, ApiCode.INVALID, f"config.{key}", value, why=why) from None
    logged = log_operator_event(request, operator, "configure_plan", {"plan": plan, "config": config},
                                action="configure_plan", target=plan)
    return answer(logged, lambda _o: Status(200, _current(plan)))
