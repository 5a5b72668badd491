"""The shop: products (read by anyone, changed by operators through ``product`` events), orders (created by a
member, awaiting payment until the payment provider's webhook logs the ``pay`` event), refunds (operators).

    POST /api/orders {"sku": "GIFT"}              -> 201 {"order": "o7hc…", "amount": "699.00",
                                                            "status": "awaiting_payment"}
    POST /api/payments/webhook (signed)            -> the pay event; the order becomes "paid" once applied
    POST /api/operator/orders/o7hc…/refund         -> the refund event; every posting of the order reversed
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from ninja import Router, Status
from ninja.params.functions import Path, Query

from ...engine.money import format_fen, parse_yuan
from ...engine.plans.points import Points
from ...service.store.models import EventOutcome, ProductState
from ..signals import log_signals
from . import reads
from .actions import answer, log_operator_event
from .auth import AUTH, may_read_member, member_of, require_operator
from .errors import ApiCode, ApiError
from .idempotency import idempotent_post
from .models import PendingOrder
from .schemas import (
    ErrorOut,
    OperatorProductOut,
    OrderIn,
    OrderOut,
    OrdersPage,
    PendingOut,
    ProductIn,
    ProductOut,
    ProductUpdateIn,
)

router = Router(tags=["shop"])
ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422, 429)}
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"


# --- products -----------------------------------------------------------------------------------------------------


@router.get("/products", auth=None, response={200: list[ProductOut], **ERRORS})
def list_products(request: HttpRequest) -> list[dict[str, Any]]:
    """Products on sale."""
    return [reads.product(p) for p in ProductState.objects.filter(active=True).order_by("sku")]


@router.get("/products/{sku}", auth=None, response={200: ProductOut, **ERRORS})
def get_product(request: HttpRequest, sku: str = Path(..., pattern=ID_PATTERN)) -> dict[str, Any]:
    found = ProductState.objects.filter(sku=sku, active=True).first()
    if found is None:
        raise ApiError(404, ApiCode.NOT_FOUND, "sku", sku)
    return reads.product(found)


@router.get("/operator/products", auth=AUTH, response={200: list[OperatorProductOut], **ERRORS})
def list_all_products(request: HttpRequest) -> list[dict[str, Any]]:
    """Every product, withdrawn ones included (operators)."""
    require_operator(request)
    return [reads.operator_product(p) for p in ProductState.objects.order_by("sku")]


def _product_event(request: HttpRequest, sku: str, fields: dict[str, Any], action: str, status: int) -> Status[Any]:
    operator = require_operator(request, "manage_products")
    fields = {"sku": sku, **fields, "price": format_fen(parse_yuan(fields["price"]))}
    if fields.get("cost") is None:  # not known: the event leaves it out
        fields.pop("cost", None)
    else:
        fields["cost"] = format_fen(parse_yuan(fields["cost"]))
    logged = log_operator_event(request, operator, "product", fields, action=action, target=sku)
    return answer(logged, lambda _o: Status(status, reads.operator_product(ProductState.objects.get(sku=sku))))


@idempotent_post(router, "/operator/products", auth=AUTH, response={201: OperatorProductOut, 202: PendingOut, **ERRORS})
def create_product(request: HttpRequest, body: ProductIn) -> Status[Any]:
    """A new product (a ``product`` event). Needs ``manage_products``."""
    require_operator(request, "manage_products")
    if ProductState.objects.filter(sku=body.sku).exists():
        raise ApiError(409, ApiCode.EXISTS, "sku", body.sku)
    return _product_event(request, body.sku, body.model_dump(exclude={"sku"}), "create_product", 201)


@router.put("/operator/products/{sku}", auth=AUTH, response={200: OperatorProductOut, 202: PendingOut, **ERRORS})
def update_product(request: HttpRequest, body: ProductUpdateIn,
                   sku: str = Path(..., pattern=ID_PATTERN)) -> Status[Any]:
    """Change a product; orders paid after the change use it. Needs ``manage_products``."""
    require_operator(request, "manage_products")
    if not ProductState.objects.filter(sku=sku).exists():
        raise ApiError(404, ApiCode.NOT_FOUND, "sku", sku)
    return _product_event(request, sku, body.model_dump(), "update_product", 200)


@router.delete("/operator/products/{sku}", auth=AUTH, response={200: OperatorProductOut, 202: PendingOut, **ERRORS})
def withdraw_product(request: HttpRequest, sku: str = Path(..., pattern=ID_PATTERN)) -> Status[Any]:
    """Take a product off sale (``active: false``); paid orders of it are untouched."""
    require_operator(request, "manage_products")
    found = ProductState.objects.filter(sku=sku).first()
    if found is None:
        raise ApiError(404, ApiCode.NOT_FOUND, "sku", sku)
    fields = {"price": format_fen(found.price), "gift_pack": found.gift_pack, "name": found.name or None,
              "active": False, "cost": None if found.cost is None else format_fen(found.cost)}
    return _product_event(request, sku, fields, "withdraw_product", 200)


# --- orders -------------------------------------------------------------------------------------------------------


@idempotent_post(router, "/orders", auth=AUTH, response={201: OrderOut, **ERRORS})
def create_order(request: HttpRequest, body: OrderIn) -> Status[Any]:
    """An order of a product on sale, at today's price, awaiting payment. No event yet: the payment is one."""
    member = member_of(request)
    product = ProductState.objects.filter(sku=body.sku, active=True).first()
    if product is None or not reads.may_see_product(body.sku, member):  # an exclusive product, to an outsider
        raise ApiError(400, ApiCode.PRODUCT_UNAVAILABLE, "sku", body.sku)
    amount = product.price * body.quantity
    fields: dict[str, Any] = {}
    if body.points is not None:  # quoted at today's NAV: the member pays the rest; the engine checks the quote
        nav = reads.points_nav()
        if nav is None:
            raise ApiError(400, ApiCode.INVALID, "points", body.points, why="this shop runs no points plan")
        value = parse_yuan(Points.value_at(format_fen(parse_yuan(body.points)), nav))
        if value >= amount:
            raise ApiError(400, ApiCode.INVALID, "points", body.points, why="worth the whole order or more")
        fields = {"amount": format_fen(amount), "points": format_fen(parse_yuan(body.points)),
                  "points_value": format_fen(value)}
        amount -= value
    try:
        with transaction.atomic():
            pending = PendingOrder.objects.create(order=new_order_id(), member=member, sku=body.sku,
                                                  quantity=body.quantity, amount=amount, fields=fields)
    except IntegrityError:  # the id is taken (by another order or a paid action's seat)
        raise ApiError(409, ApiCode.EXISTS, "order", None) from None
    log_signals(request, member)  # the fraud holds' signals, before the payment's event (web/signals.py)
    return Status(201, reads.order_view(pending, None))


def new_order_id() -> str:
    return "o" + secrets.token_hex(6)


@router.get("/orders/{order}", auth=AUTH, response={200: OrderOut, **ERRORS})
def get_order(request: HttpRequest, order: str = Path(..., pattern=ID_PATTERN)) -> dict[str, Any]:
    """An order: its owner or an operator may read it (anyone else gets 404, as if it did not exist)."""
    found = reads.find_order(order)
    if found is None or not may_read_member(request, found["member"]):
        raise ApiError(404, ApiCode.NOT_FOUND, "order", order)
    return found


@router.get("/operator/orders", auth=AUTH, response={200: OrdersPage, **ERRORS})
def list_orders(request: HttpRequest, member: str | None = Query(None, pattern=ID_PATTERN),
                after: str | None = Query(None, pattern=ID_PATTERN),
                limit: int = Query(100, ge=1, le=500)) -> dict[str, Any]:
    """Orders, newest first (of one member with ``?member=``); the next page ``?after=<next_after>``."""
    require_operator(request)
    return reads.orders(member, after, limit)


@idempotent_post(router, "/operator/orders/{order}/refund", auth=AUTH,
                 response={200: OrderOut, 202: PendingOut, **ERRORS})
def refund_order(request: HttpRequest, order: str = Path(..., pattern=ID_PATTERN)) -> Status[Any]:
    """Refund a paid order (a ``refund`` event): the engine reverses every posting it caused. Needs
    ``refund_order``; the engine's refusal (not paid, already refunded) is a 422 naming the order."""
    operator = require_operator(request, "refund_order")
    if reads.find_order(order) is None:
        raise ApiError(404, ApiCode.NOT_FOUND, "order", order)
    logged = log_operator_event(request, operator, "refund", {"order": order}, action="refund_order",
                                target=order)

    def refunded(_outcome: EventOutcome) -> Status[Any]:
        found = reads.find_order(order)
        assert found is not None
        return Status(200, found)

    return answer(logged, refunded)
