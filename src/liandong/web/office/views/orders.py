"""Orders and refunds (``/office/orders``): the paid orders, newest first, filtered by status, member and the day
paid, 50 a page by keyset; an order's page (its line, and what it paid whom: every ledger transaction it caused);
and its refund, whose page shows what the refund will take back from whom before it is confirmed — the engine's
answer on a copy of the shop (``order_reads.refund_preview``) — then logs the ``refund`` event through
``audit.office_act``. The engine refunds an order whole: it has no partial refund (docs/office.md).
"""

from __future__ import annotations

import re
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from ....engine.money import format_fen
from ....service.store.models import OrderState
from ...api import reads as api_reads
from ...api.errors import ApiError
from ...pages.people import display_names
from .. import order_reads, reads
from ..access import office_of, office_view, safe_next
from ..audit import office_act
from .withdrawals import BadFilter, announce, member_and_days

PERMISSION = "refund_order"
PAGE_SIZE = 50
ORDER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}", re.ASCII)


def filters_of(request: HttpRequest) -> dict[str, Any]:
    status = request.GET.get("status", "all")
    if status not in (*order_reads.ORDER_STATUSES, "all"):
        raise BadFilter("status", status[:20], _("not one of paid, refunded, all"))
    member, start, end = member_and_days(request)
    after = request.GET.get("after") or None
    if after is not None and not ORDER_ID.fullmatch(after):
        raise BadFilter("after", after[:20], _("not an order of this list"))
    return {"status": status, "member": member, "from": start, "to": end, "after": after}


@require_GET
@office_view(PERMISSION)
def orders(request: HttpRequest) -> HttpResponse:
    office = office_of(request)
    try:
        f = filters_of(request)
        rows = order_reads.filtered_orders(f["status"], f["member"], f["from"], f["to"])
        try:
            page, next_after = api_reads.keyset_page(rows, "paid_at", "order", f["after"], PAGE_SIZE, True)
        except ApiError:
            raise BadFilter("after", str(f["after"]), _("not an order of this list")) from None
    except BadFilter as bad:
        return render(request, "office/orders.html", {"bad": bad, "filters": request.GET,
                                                      "statuses": order_reads.ORDER_STATUSES}, status=400)
    names = display_names(o.member for o in page)
    products = order_reads.product_names({o.sku for o in page})
    tz = reads.shop_tz()
    listed = [{"order": o.order, "name": names.get(o.member, ""), "sku": o.sku, "product": products.get(o.sku, o.sku),
               "quantity": o.quantity, "amount": o.amount, "paid_at": o.paid_at.astimezone(tz),
               "refunded": o.refunded, "campaign": o.campaign} for o in page]
    query = {k: v for k, v in request.GET.items() if k != "after" and v}
    return render(request, "office/orders.html", {
        "filters": f, "rows": listed, "next_after": next_after, "query": query,
        "statuses": order_reads.ORDER_STATUSES, "count": rows.count(), "can_refund": office.may_act(PERMISSION)})


def _order_or_404(order: str) -> OrderState:
    state = OrderState.objects.filter(order=order).first() if ORDER_ID.fullmatch(order) else None
    if state is None:
        raise Http404(order[:64])
    return state


def _order_context(state: OrderState) -> dict[str, Any]:
    movements = order_reads.order_movements(state.order)
    product = order_reads.product_names({state.sku}).get(state.sku, state.sku)
    return {"order": state, "name": display_names([state.member])[state.member], "product": product,
            "unit_price": state.amount // state.quantity if state.quantity else state.amount,
            "paid_at": state.paid_at.astimezone(reads.shop_tz()), "movements": movements,
            "paid_to": order_reads.paid_to_members(movements)}


@require_GET
@office_view(PERMISSION)
def order(request: HttpRequest, order: str) -> HttpResponse:
    state = _order_or_404(order)
    office = office_of(request)
    return render(request, "office/order.html", {**_order_context(state), "can_refund": office.may_act(PERMISSION),
                                                 "no_refund": order_reads.no_refund_reason(state)})


@require_http_methods(["GET", "HEAD", "POST"])
@office_view(PERMISSION)
def refund(request: HttpRequest, order: str) -> HttpResponse:
    """GET: what a refund of the order would take back from whom (the engine's dry run), and the confirm button;
    POST: the refund event."""
    state = _order_or_404(order)
    if request.method == "POST":
        result = office_act(request, "refund", {"order": state.order}, permission=PERMISSION, target=state.order,
                            snapshot=lambda: order_reads.order_snapshot(state.order), key=request.POST.get("key"))
        announce(request, result, _("Refunded order %(order)s: %(amount)s to %(name)s; every reward it paid is "
                                    "taken back.") % {"order": state.order, "amount": "¥" + format_fen(state.amount),
                                                      "name": display_names([state.member])[state.member]})
        return HttpResponseRedirect(safe_next(request, reverse("office:orders_order", args=[state.order])))
    office = office_of(request)
    preview = order_reads.refund_preview(state.order) if not state.refunded else None
    return render(request, "office/order_refund.html", {
        **_order_context(state), "preview": preview, "can_refund": office.may_act(PERMISSION),
        "no_refund": order_reads.no_refund_reason(state)})
