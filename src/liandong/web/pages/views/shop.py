"""The shop: its products (gift packs marked) at ``/``, a product's page with what buying it does under the running
plans, and the member's orders (``/orders``, ``/orders/<order>``).

Buying acts through the REST API: the product page's form posts ``POST /api/orders`` (with ``points`` when the points
plan runs and the member pays part with points) and goes to the order's page, which offers the payment. In
``make run`` (``LIANDONG_DEBUG=1``) that is the demo provider, ``POST /api/payments/demo/<order>``; without it no
provider is set up yet and the page says so. Every figure is a read (``reads.product``, ``reads.order_view``,
``reads.order_earnings``, ``reads.points_wallet``, the plans' current config): nothing is computed here.

Member-group exclusive products (the member_groups plan, ``docs/member-groups.md``): a product exclusive to groups is
listed and shown only to the members of those groups (``reads.may_see_product``, from the plan's shop read and the
member's read), marked "Members' exclusive · <group>"; to anyone else, a visitor too, it is as if it did not exist:
not listed, and its URL is the shop's 404 page. The engine refuses an outsider's order whatever a page shows.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import select_template
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from ....engine.money import format_rate
from ....engine.plans.points import DEFAULT_RESERVE_RATE
from ....service.store.models import CampaignState, ProductState
from ...accounts.models import MemberLogin
from ...api import reads
from ...api.errors import ApiError
from ...office.models import BlindBoxOffer
from .common import member_of, member_page

#: Orders on one page of ``/orders``.
PAGE_SIZE = 20
#: An order id as the API's paths take it (``ID_PATTERN``).
ORDER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}", re.ASCII)

#: Where an order stands, in the page's words, and its badge.
STATUS: dict[str, tuple[Any, str]] = {
    "awaiting_payment": (_("Awaiting payment"), "warn"),
    "payment_processing": (_("Payment received, processing"), "warn"),
    "paid": (_("Paid"), "good"),
    "refunded": (_("Refunded"), "bad"),
    "payment_refused": (_("Payment refused"), "bad"),
}


def in_page_language(en: str, zh: str) -> str:
    """A text the engine words in both languages, in the page's."""
    return zh if (get_language() or "zh-hans").startswith("zh") else en


def shop_timezone() -> str:
    setup = reads.shop_setup()
    return setup.timezone if setup is not None else settings.TIME_ZONE


def viewer_member(request: HttpRequest) -> str | None:
    """The member looking at a public page, or None (a visitor, or an operator's login)."""
    if not request.user.is_authenticated:
        return None
    member: str | None = MemberLogin.objects.filter(user=request.user).values_list("member", flat=True).first()
    return member


def problem(request: HttpRequest, status: int, title: Any, message: Any) -> HttpResponse:
    return render(request, "pages/shop/problem.html", {"tab": "shop", "title": title, "message": message},
                  status=status)


def not_found(request: HttpRequest) -> HttpResponse:
    return problem(request, 404, _("Not found"), _("There is no such product or order here."))


def on_sale(member: str | None = None) -> list[dict[str, Any]]:
    """The products on sale that ``member`` (None: a visitor) may see, each with the groups it is exclusive to."""
    exclusive = reads.exclusive_products()
    return [{**reads.product(p), "exclusive": exclusive_names(exclusive, p.sku)}
            for p in ProductState.objects.filter(active=True).order_by("-gift_pack", "sku")
            if reads.may_see_product(p.sku, member, exclusive)]


def exclusive_names(exclusive: dict[str, list[dict[str, str]]], sku: str) -> str:
    """The names of the groups ``sku`` is exclusive to, as the mark shows them ("" when it is for everyone)."""
    return " / ".join(group["name"] for group in exclusive.get(sku, []))


def plan_effects(sku: str) -> list[dict[str, Any]]:
    """What buying ``sku`` does under each running plan: its current config, shown by the plan's own template, and
    the config values that apply to this product (distribution's rates for it, points' reserve rate)."""
    effects: list[dict[str, Any]] = []
    for kind in reads.running_plans():
        if kind == "member_groups":  # pays nothing; who may buy the product is its mark (``exclusive_names``)
            continue
        config = reads.plan_versions(kind)[-1]["config"]
        template = select_template([f"pages/shop/effects/{kind}.html", "pages/shop/effects/_generic.html"])
        effect: dict[str, Any] = {"kind": kind, "config": config, "template": template}
        if kind == "distribution":  # a product's own rates override the plan's
            rates = (config.get("product_rates") or {}).get(sku) or config["rates"]
            effect["rates"] = [{"level": level, "rate": rate} for level, rate in enumerate(rates, start=1)]
        elif kind == "points":  # neither key given: the plan's default reserve rate
            effect["reserve_rate"] = config.get("reserve_rate") or format_rate(DEFAULT_RESERVE_RATE)
        effects.append(effect)
    return effects


def product_names(skus: set[str]) -> dict[str, str]:
    return {p.sku: p.name or p.sku for p in ProductState.objects.filter(sku__in=skus)}


def with_status(order: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    label, badge = STATUS.get(order["status"], (order["status"], ""))
    return {**order, "status_label": label, "status_badge": badge, "product_name": names.get(order["sku"], "")}


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    member = viewer_member(request)
    context = {"products": on_sale(member), "tab": "shop", "chain21": "chain21" in reads.running_plans(),
               "member": member,
               "campaigns_running": CampaignState.objects.filter(status="open").exists()
               or BlindBoxOffer.objects.filter(status="published").exists()}  # a blind box to start
    return render(request, "pages/home.html", context)


@require_GET
def product(request: HttpRequest, sku: str) -> HttpResponse:
    """A product on sale: price, gift-pack mark, what buying it does under the running plans, and the Buy form."""
    found = ProductState.objects.filter(sku=sku, active=True).first()
    member = viewer_member(request)
    exclusive = reads.exclusive_products()
    if found is None or not reads.may_see_product(sku, member, exclusive):  # an outsider: as if it did not exist
        return not_found(request)
    rank = reads.rank(member)["rank"] if member else None
    effects = plan_effects(sku)
    context = {"tab": "shop", "product": {**reads.product(found), "exclusive": exclusive_names(exclusive, sku)},
               "effects": effects, "member": member,
               "chain21": any(effect["kind"] == "chain21" for effect in effects),
               "rank": rank or "member", "wallet": reads.points_wallet(member) if member else None,
               "nav": reads.points_nav()}
    return render(request, "pages/shop/product.html", context)


@require_GET
@member_page
def orders(request: HttpRequest) -> HttpResponse:
    """The member's orders, newest first, a page at a time (``?after=<the last order of the page before>``)."""
    after = request.GET.get("after") or None
    if after is not None and not ORDER_ID.fullmatch(after):
        return problem(request, 400, _("This page does not exist"), _("The link to the next page is not valid."))
    try:
        page = reads.orders(member_of(request), after, PAGE_SIZE)
    except ApiError:  # ``after`` is not one of the member's orders
        return problem(request, 400, _("This page does not exist"), _("The link to the next page is not valid."))
    names = product_names({o["sku"] for o in page["orders"]})
    context = {"tab": "me", "orders": [with_status(o, names) for o in page["orders"]],
               "next_after": page["next_after"], "paged": after is not None, "shop_tz": shop_timezone()}
    return render(request, "pages/shop/orders.html", context)


@require_GET
@member_page
def order(request: HttpRequest, order: str) -> HttpResponse:
    """One of the member's orders: where it stands, what it cost, how to pay it, and what it earned the member."""
    member = member_of(request)
    found = reads.find_order(order) if ORDER_ID.fullmatch(order) else None
    if found is not None and found["member"] != member:  # another member's order: only what it paid this member
        from .earnings import order_for_earner

        return order_for_earner(request, member, found)
    if found is None:
        return not_found(request)
    view = with_status(found, product_names({found["sku"]}))
    refusal = found.get("refusal")
    earnings = [{**line, "label_shown": in_page_language(line["label"], line["label_zh"]),
                 "book_shown": in_page_language(line["book_label"], line["book_label_zh"])}
                for line in reads.order_earnings(member, order)]
    from .campaigns import campaign_entry_link, entry_link  # a campaign entry's order links back to it

    context = {"tab": "me", "order": view, "earnings": earnings, "shop_tz": shop_timezone(),
               "group_link": entry_link(found.get("action")) if found.get("verb", "pay") != "pay" else None,
               "campaign_link": campaign_entry_link(found.get("verb"), found.get("action")),
               "refusal": in_page_language(refusal["message"], refusal["message_zh"]) if refusal else None,
               "demo_provider": bool(settings.DEBUG), "awaiting": found["status"] == "awaiting_payment"}
    return render(request, "pages/shop/order.html", context)
