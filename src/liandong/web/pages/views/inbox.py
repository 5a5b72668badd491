"""消息 (inbox): every income notice of the member, newest first, a page at a time (keyset on the notice,
``?before=<id>``), unread ones marked, and "mark all read" (``POST /api/me/notices/read {"up_to": newest}`` through
pages.js). Each notice says what arrived in words: the amount, its kind (the ledger rule's label), the order
(linked) and who bought it, by display name. The same notices reach an open page live through the stream
(``api/notices.py``, pages.js): the topbar's badge counts the unread ones on every member page (``context.layout``).
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from ...api.notices import latest_id, notices_page
from .common import member_of, member_page
from .earnings import BadQuery, bad_query, shop_tz

PAGE_SIZE = 20
CURSOR = re.compile(r"[0-9]{1,18}", re.ASCII)


def parse_before(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not CURSOR.fullmatch(raw) or int(raw) < 1:
        raise BadQuery("before", raw[:20], _("not a notice number"))
    return int(raw)


@require_GET
@member_page
def inbox(request: HttpRequest) -> HttpResponse:
    member = member_of(request)
    try:
        before = parse_before(request.GET.get("before"))
    except BadQuery as bad:
        return bad_query(request, bad, request.path)
    page = notices_page(member, before, PAGE_SIZE)
    zone = shop_tz()
    notices = [{**n, "buyer": n["source_name"] if n["source"] and n["source"] != member else "",
                "at": n["at"].astimezone(zone)} for n in page["notices"]]
    older = page["next_before"]
    context = {"tab": "", "notices": notices, "unread": page["unread"], "newest": latest_id(member),
               "paged": before is not None,
               "next": reverse("pages:inbox") + f"?before={older}" if older is not None else None}
    return render(request, "pages/inbox.html", context)
