"""推广海报 (the invite poster): a PNG made on the server (``web/posters``) with the member's name and a QR code of
the invite link, for the shop or for one product. Cached by everything it shows: a new name, link, product price
or language makes a new poster; the same poster is never drawn twice."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from ....service.store.models import ProductState
from ...accounts.models import MemberLogin
from ...api import reads
from ...posters import InvitePoster, PosterProduct, poster_png
from ..context import shop_name
from ..people import display_name
from ..templatetags.liandong import yuan
from .common import member_page
from .me import invite_link


def _poster(request: HttpRequest, login: MemberLogin, sku: str | None) -> InvitePoster:
    product = None
    if sku:
        found = ProductState.objects.filter(sku=sku, active=True).first()
        if found is None:
            raise Http404(sku)
        shown = reads.product(found)
        product = PosterProduct(name=shown["name"][:100], price=yuan(shown["price"]))
    link = invite_link(request, login)
    if sku:
        link += "?" + "sku=" + sku
    return InvitePoster(shop_name=shop_name()[:100], member_name=display_name(login.member)[:100],
                        member_username=login.user.get_username()[:100], invite_url=link,
                        invite_code=login.invite_code, headline=_("invites you to join"),
                        language=get_language() or settings.LANGUAGE_CODE, product=product)


def _sku(request: HttpRequest) -> str | None:
    sku = request.GET.get("sku", "")
    return sku if sku and len(sku) <= 64 else None


@require_GET
@member_page
def poster_page(request: HttpRequest) -> HttpResponse:
    login: MemberLogin = request.member_login  # type: ignore[attr-defined]
    sku = _sku(request)
    _poster(request, login, sku)  # a 404 for a product not on sale, before the page links to its image
    products = [reads.product(p) for p in ProductState.objects.filter(active=True).order_by("-gift_pack", "sku")]
    return render(request, "pages/poster.html", {"tab": "me", "sku": sku, "products": products,
                                                 "invite_link": invite_link(request, login)})


@require_GET
@member_page
def poster_image(request: HttpRequest) -> HttpResponse:
    login: MemberLogin = request.member_login  # type: ignore[attr-defined]
    png = poster_png(_poster(request, login, _sku(request)), settings.HOME / "posters")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, no-cache"  # the name or the link may change: revalidate every time
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="invite-{login.invite_code}.png"'
    return response
