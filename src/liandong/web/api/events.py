"""Every module's events through the API, built from the registry's declarations (``Module.verbs``): one route per
verb and sender, each with its own request schema and example in the OpenAPI document. Nothing here is written per
verb; a new module's verbs appear with no change to this file.

    POST /api/actions/join_group_buy            a member sends a verb whose senders include "member": the calling
         {"group": "g7k2m9"}                     member fills ``member_field``; ``generated`` ids are chosen here;
                                                 ``member_refs`` take another member's invite code
    POST /api/operator/actions/create_group_buy an operator with the verb's ``permission``; audit-logged
         {"campaign": "gb-spring", "params": {"sku": "TEA"}}

The answer is the event's outcome: 200 ``{"position", "verb", "status": "applied", "event", "facts"}``, 422 with the
engine's refusal naming the field and the value, or 202 with the URL to poll. Reads of what the modules show:
``GET /api/me/plans/<kind>`` (the member's own), ``GET /api/plans/<kind>`` (shop-wide, public),
``GET /api/campaigns`` and ``GET /api/campaigns/<id>`` (the published rules, groups, commitments and draw records).
"""

import secrets
from collections.abc import Callable
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.params.functions import Path
from pydantic import ConfigDict, Field, create_model

from ...engine.events import Event
from ...engine.module import Verb
from ...engine.registry import REGISTRY
from ...service.store.models import CampaignState, EventOutcome, ModuleState
from ..accounts.models import MemberLogin
from . import reads
from .actions import answer, log_event, log_operator_event
from .auth import AUTH, door, member_of, require_operator
from .errors import ApiCode, ApiError
from .idempotency import idempotent_post
from .models import PendingOrder
from .reads import without_secrets
from .schemas import ErrorOut, InviteCode, MoneyIn, OrderOut, PendingOut

router = Router()
ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422, 429)}
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
ID_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class ActionOut(Schema):
    """An applied event: its log position, its verb, the event as logged and the facts it produced."""

    position: int
    verb: str
    status: Literal["applied"]
    event: dict[str, Any]
    facts: list[dict[str, Any]] = []
    config_version: int


def new_id(prefix: str) -> str:
    """A fresh id: ``prefix`` and 10 characters that do not read alike (``g7k2m9hq4x``)."""
    return prefix + "".join(secrets.choice(ID_ALPHABET) for _ in range(10))


# --- request schemas from the event classes -------------------------------------------------------------------------


def _is_money(event: type[Event], name: str) -> bool:
    return name in event.money_fields


def body_model(verb: Verb, sender: str) -> type[Schema]:
    """The request body of ``verb`` for ``sender``: the event's fields less ``at``; for a member, less the fields
    the service fills (the member itself, generated ids); money as two-decimal strings; other members by invite
    code (``member_refs``, members only)."""
    event = verb.event
    hidden = {"at"}
    if sender == "member":
        hidden |= {verb.member_field or ""} | {name for name, _prefix in verb.generated}
    fields: dict[str, Any] = {}
    for name, info in event.model_fields.items():
        if name in hidden:
            continue
        annotation: Any = info.annotation
        if _is_money(event, name):
            annotation = MoneyIn | None if not info.is_required() else MoneyIn
        elif sender == "member" and name in verb.member_refs:
            annotation = InviteCode
        elif name in verb.required and type(None) in get_args(annotation):  # required here: not null either
            annotation = Union[tuple(a for a in get_args(annotation) if a is not type(None))]  # noqa: UP007
        optional = (not info.is_required() and name not in verb.required) or (
            sender == "operator" and name in dict(verb.generated))
        default = (None if info.is_required() else info.get_default(call_default_factory=True)) if optional else ...
        if optional and default is None and get_origin(annotation) is not type(None) and type(None) not in get_args(
                annotation):
            annotation = annotation | None
        alias = info.alias if info.alias and info.alias != name else None
        fields[name] = (annotation, Field(default, alias=alias, description=info.description))
    examples: list[Any] = [verb.example] if verb.example is not None else []
    config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_extra={"examples": examples})
    model: type[Schema] = create_model(
        f"{''.join(part.title() for part in verb.name.split('_'))}{sender.title()}In",
        __base__=Schema, __doc__=event.__doc__, **fields)
    model.model_config.update(config)
    model.model_rebuild(force=True)
    return model


# --- turning a request into the event's fields ----------------------------------------------------------------------


def member_of_invite(field: str, code: str) -> str:
    found = MemberLogin.objects.filter(invite_code=code.strip().upper()).values_list("member", flat=True).first()
    if found is None:
        raise ApiError(400, ApiCode.INVALID, field, code, why="not a valid invite code")
    return str(found)


def event_fields(verb: Verb, sender: str, body: Schema, member: str | None) -> dict[str, Any]:
    """The event's fields as the log keeps them (money as strings, ids chosen, the caller filled in)."""
    fields: dict[str, Any] = body.model_dump(mode="json", by_alias=True, exclude_none=True)
    if sender == "member":
        fields = without_secrets(fields)  # a member never chooses a draw's secret: the service makes it
        assert verb.member_field is not None and member is not None
        fields[verb.member_field] = member
        for name in verb.member_refs:
            if name in fields:
                fields[name] = member_of_invite(name, str(fields[name]))
    for name, prefix in verb.generated:
        fields.setdefault(name, new_id(prefix))
    if verb.prepare is not None:
        fields = verb.prepare(fields, new_id)
    return fields


def applied_answer(verb: str, logged_fields: dict[str, Any]) -> Callable[[EventOutcome], Status[Any]]:
    def applied(outcome: EventOutcome) -> Status[Any]:
        return Status(200, {"position": outcome.event_id, "verb": verb, "status": "applied",
                            "event": without_secrets(logged_fields), "facts": without_secrets(outcome.facts),
                            "config_version": outcome.config_version})

    return applied


def find_published(kind: str, ident: str) -> dict[str, Any] | None:
    """A published campaign's view, or a group's (``kind`` "group"), as the quotes of paid actions read them."""
    if kind == "campaign":
        found = CampaignState.objects.filter(campaign=ident).exclude(status="draft").values_list("view", flat=True)
        return found.first()
    for view in CampaignState.objects.filter(status="open").values_list("view", flat=True):
        group = next((g for g in view.get("group_views", ()) if g.get("group") == ident), None)
        if group is not None:
            return dict(group)
    return None


def awaiting_payment(request: HttpRequest, verb: Verb, fields: dict[str, Any], member: str) -> Status[Any]:
    """A paid action waits for its payment: an order for its quoted price, which the provider's webhook pays by
    logging the event with ``paid`` (the engine refuses a ``paid`` that is not its price)."""
    assert verb.quote is not None
    price = verb.quote(fields, find_published)
    if price is None:
        name = "group" if "group" in fields and "campaign" not in fields else "campaign"
        raise ApiError(404, ApiCode.NOT_FOUND, name, fields.get(name))
    order = str(fields.get("order") or new_id("a"))
    fields = {**fields, "order": order} if "order" in verb.event.model_fields else fields
    try:
        with transaction.atomic():
            pending = PendingOrder.objects.create(order=order, member=member, sku="", quantity=1, amount=price,
                                                  verb=verb.name, fields=fields)
    except IntegrityError:
        raise ApiError(409, ApiCode.EXISTS, "order", order) from None
    return Status(201, reads.order_view(pending, None))


def _member_route(verb: Verb, owner: str) -> None:
    model = body_model(verb, "member")
    paid = verb.quote is not None

    def act(request: HttpRequest, body: model) -> Status[Any]:  # type: ignore[valid-type]
        member = member_of(request)
        fields = event_fields(verb, "member", body, member)
        if paid:
            return awaiting_payment(request, verb, fields, member)
        logged = log_event(request, verb.name, fields, actor=f"member:{member}")
        return answer(logged, applied_answer(verb.name, logged.payload))

    act.__name__ = act.__qualname__ = f"member_{verb.name}"
    act.__doc__ = (verb.event.__doc__ or verb.name).strip()
    if paid:
        act.__doc__ += ("\n\nPaid: the answer is an order awaiting payment (its amount is the published price); the "
                        "payment provider's confirmation logs the event.")
    responses: dict[int, Any] = {201: OrderOut} if paid else {200: ActionOut, 202: PendingOut}
    idempotent_post(router, f"/actions/{verb.name}", auth=door(member_of), tags=[f"{owner} (members)"],
                    summary=f"{verb.name} (member)", response={**responses, **ERRORS})(act)


def _operator_route(verb: Verb, owner: str) -> None:
    model = body_model(verb, "operator")

    def act(request: HttpRequest, body: model) -> Status[Any]:  # type: ignore[valid-type]
        operator = require_operator(request, verb.permission)
        fields = event_fields(verb, "operator", body, None)
        target = str(next(iter(fields.values()), "")) if fields else ""
        logged = log_operator_event(request, operator, verb.name, fields, action=verb.name, target=target)
        return answer(logged, applied_answer(verb.name, logged.payload))

    act.__name__ = act.__qualname__ = f"operator_{verb.name}"
    needs = f" Needs `accounts.{verb.permission}`." if verb.permission else ""
    act.__doc__ = (verb.event.__doc__ or verb.name).strip() + needs
    permission = verb.permission
    idempotent_post(router, f"/operator/actions/{verb.name}", auth=door(lambda r: require_operator(r, permission)),
                    tags=[f"{owner} (operators)"],
                    summary=f"{verb.name} (operator)", response={200: ActionOut, 202: PendingOut, **ERRORS})(act)


def build_routes() -> None:
    """One route per declared verb and sender (members, operators); system verbs have none."""
    for owner, verb in REGISTRY.verbs():
        if "member" in verb.senders:
            _member_route(verb, owner)
        if "operator" in verb.senders:
            _operator_route(verb, owner)


build_routes()


# --- reading what the modules show ----------------------------------------------------------------------------------

KindPath = Annotated[str, Path(..., pattern=r"^[a-z0-9_]{1,64}$")]


def _module_or_404(kind: str) -> None:
    if REGISTRY.module(kind) is None:
        raise ApiError(404, ApiCode.NOT_FOUND, "plan", kind)


@router.get("/me/plans/{kind}", auth=AUTH, response={200: dict[str, Any], **ERRORS}, tags=["members"])
def my_plan(request: HttpRequest, kind: KindPath) -> dict[str, Any]:
    """What I see of one plan or campaign module (its ``member_read``): e.g. chain21's rank, progress, seeds and
    help fund; distribution's binding and commissions by level; points and the next release."""
    _module_or_404(kind)
    state = reads.member_state(member_of(request))
    read = reads.plan_read(state, kind)
    if not read:
        raise ApiError(404, ApiCode.NOT_FOUND, "plan", kind)
    return read


@router.get("/plans/{kind}", auth=None, response={200: dict[str, Any], **ERRORS}, tags=["shop"])
def shop_plan(request: HttpRequest, kind: KindPath) -> dict[str, Any]:
    """A module's shop-wide figures anyone may read (its ``shop_read``): chain21's bonus pool and what each rank
    earns, the points NAV history."""
    _module_or_404(kind)
    found = ModuleState.objects.filter(kind=kind).values_list("view", flat=True).first()
    if found is None:
        raise ApiError(404, ApiCode.NOT_FOUND, "plan", kind)
    view: dict[str, Any] = found
    return view


def public_view(kind: str, view: dict[str, Any]) -> dict[str, Any]:
    """A campaign's view as members may see it: the module's ``private_keys`` (paths such as
    ``groups.*.invite_code``) are removed."""
    module = REGISTRY.module(kind)
    for path in getattr(module, "private_keys", ()):
        _drop(view, path.split("."))
    return view


def _drop(node: Any, path: list[str]) -> None:
    head, rest = path[0], path[1:]
    children = (node.values() if isinstance(node, dict) else node) if head == "*" else None
    if children is not None:
        for child in list(children):
            if rest:
                _drop(child, rest)
        return
    if isinstance(node, dict) and head in node:
        if rest:
            _drop(node[head], rest)
        else:
            node.pop(head)


@router.get("/campaigns", auth=None, response={200: list[dict[str, Any]], **ERRORS}, tags=["campaigns"])
def list_campaigns(request: HttpRequest) -> list[dict[str, Any]]:
    """Published campaigns (drafts are not shown), newest first, with their frozen rules and commitments."""
    rows = CampaignState.objects.exclude(status="draft").order_by("-id")[:200]
    return [public_view(row.kind, row.view) for row in rows]


@router.get("/campaigns/{campaign}", auth=None, response={200: dict[str, Any], **ERRORS}, tags=["campaigns"])
def get_campaign(request: HttpRequest, campaign: str = Path(..., pattern=ID_PATTERN)) -> dict[str, Any]:
    """One published campaign: its rules, groups, commitment, and once drawn the draw records and the secret."""
    row = CampaignState.objects.filter(campaign=campaign).exclude(status="draft").first()
    if row is None:
        raise ApiError(404, ApiCode.NOT_FOUND, "campaign", campaign)
    return public_view(row.kind, row.view)


@router.get("/operator/plans/{kind}/state", auth=AUTH, response={200: dict[str, Any], **ERRORS}, tags=["plans"])
def plan_state(request: HttpRequest, kind: KindPath) -> dict[str, Any]:
    """A running plan's figures as ``liandong replay --json`` shows them (its end-state keys: pools, commissions by
    level, the points NAV history, …), as the worker last committed them."""
    require_operator(request)
    found = ModuleState.objects.filter(kind=kind).values_list("end_state", flat=True).first()
    if found is None:
        raise ApiError(404, ApiCode.NOT_FOUND, "plan", kind)
    state: dict[str, Any] = found
    return state


@router.get("/operator/campaigns/{campaign}", auth=AUTH, response={200: dict[str, Any], **ERRORS},
            tags=["campaigns"])
def operator_campaign(request: HttpRequest, campaign: str = Path(..., pattern=ID_PATTERN)) -> dict[str, Any]:
    """A campaign as the operator sees it (drafts too, and every figure)."""
    require_operator(request)
    row = CampaignState.objects.filter(campaign=campaign).first()
    if row is None:
        raise ApiError(404, ApiCode.NOT_FOUND, "campaign", campaign)
    view: dict[str, Any] = row.view
    return view
