"""The shop: its products (gift packs marked), at ``/``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ....service.store.models import ProductState
from ...api import reads


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    products = [reads.product(p) for p in ProductState.objects.filter(active=True).order_by("-gift_pack", "sku")]
    return render(request, "pages/home.html", {"products": products, "tab": "shop"})


@require_GET
def product(request: HttpRequest, sku: str) -> HttpResponse:
    return render(request, "pages/base.html", {"tab": "shop"})
