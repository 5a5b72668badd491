"""My income notices: the inbox (newest first, read or unread) and the live stream (server-sent events).

The worker writes a ``MemberNotice`` for each credit of a member's money (``service.notices``); here a member reads
its own, marks them read, and follows new ones as they are committed::

    GET  /api/me/notices?before=<id>&limit=20   newest first; the next page ?before=<next_before>
    GET  /api/me/notices/unread                 {"unread": 3}
    POST /api/me/notices/read {"ids": [7, 9]} or {"up_to": 9}   -> {"marked": 2, "unread": 1}
    GET  /api/me/notices/stream?after=<id>      text/event-stream, one event per new notice:

        id: 12
        event: notice
        data: {"id": 12, "kind": "direct_reward", "amount": "100.00", "text": "+¥100.00 direct reward: …", "unread": 3}

The stream starts after ``Last-Event-ID`` (what EventSource sends when it reconnects), else after ``?after=``, else
after the member's newest notice; it polls one indexed query every ``LIANDONG_NOTICE_POLL_SECONDS`` in autocommit
(no transaction is held open), sends a comment line as a heartbeat, and ends after
``LIANDONG_NOTICE_STREAM_SECONDS`` (EventSource reconnects after the ``retry`` it was told), so a thread is never
held forever. Texts are rendered here in the request's language: the page's script shows them as they come.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Annotated, Any

from django.conf import settings
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.params.functions import Query

from ...engine.labels import label
from ...engine.money import format_fen
from ...service.store.models import MemberNotice
from ..pages.people import display_names
from .auth import AUTH, member_of
from .errors import ApiCode, ApiError
from .idempotency import idempotent_post
from .schemas import ErrorOut, MoneyOut, StrictIn

router = Router(tags=["members"])
ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 409, 422, 429)}
LANGUAGES = ("en", "zh-hans")


# --- reading ---------------------------------------------------------------------------------------------------------


def notice_text(notice: MemberNotice, member: str, names: dict[str, str]) -> str:
    """The notice in words, in the active language: ``+¥100.00 direct reward: order o1 by bea``."""
    fields = {"amount": "+¥" + format_fen(notice.amount), "kind": label(notice.kind, translation.get_language() or
                                                                          "zh-hans")}
    buyer = notice.source if notice.source and notice.source != member else ""
    if notice.order and buyer:
        return _("%(amount)s %(kind)s: order %(order)s by %(name)s") % {**fields, "order": notice.order,
                                                                         "name": names.get(buyer, "")}
    if notice.order:
        return _("%(amount)s %(kind)s: order %(order)s") % {**fields, "order": notice.order}
    if buyer:
        return _("%(amount)s %(kind)s from %(name)s") % {**fields, "name": names.get(buyer, "")}
    return _("%(amount)s %(kind)s") % fields


def names_of(notices: Iterable[MemberNotice]) -> dict[str, str]:
    """The display names of the members whose purchases caused ``notices``, in the active language."""
    return display_names({n.source for n in notices if n.source})


def notice_out(notice: MemberNotice, member: str, names: dict[str, str]) -> dict[str, Any]:
    return {"id": notice.id, "kind": notice.kind, "label": label(notice.kind, translation.get_language() or "zh-hans"),
            "amount": format_fen(notice.amount), "book": notice.book, "order": notice.order or None,
            "source": notice.source or None, "source_name": names.get(notice.source, "") if notice.source else "",
            "at": notice.created_at, "read": notice.read_at is not None, "text": notice_text(notice, member, names)}


def unread_count(member: str) -> int:
    return MemberNotice.objects.filter(member=member, read_at__isnull=True).count()


def latest_id(member: str) -> int:
    found = MemberNotice.objects.filter(member=member).order_by("-id").values_list("id", flat=True).first()
    return int(found or 0)


def notices_page(member: str, before: int | None, limit: int) -> dict[str, Any]:
    """One page of the member's notices, newest first, before notice ``before`` (keyset on the id)."""
    rows = MemberNotice.objects.filter(member=member)
    if before:
        rows = rows.filter(id__lt=before)
    got = list(rows.order_by("-id")[: limit + 1])
    page = got[:limit]
    names = names_of(page)
    return {"member": member, "notices": [notice_out(n, member, names) for n in page],
            "next_before": page[-1].id if len(got) > limit else None, "unread": unread_count(member)}


def mark_read(member: str, ids: list[int] | None, up_to: int | None) -> int:
    """Mark the member's unread notices read (those of ``ids``, or every one up to ``up_to``); how many."""
    rows = MemberNotice.objects.filter(member=member, read_at__isnull=True)
    rows = rows.filter(id__in=ids) if ids is not None else rows.filter(id__lte=up_to or 0)
    return rows.update(read_at=timezone.now())


# --- the stream --------------------------------------------------------------------------------------------------


def stream_settings() -> tuple[float, float, float]:
    """(seconds a stream lasts, seconds between polls, seconds between heartbeats)."""
    return (float(getattr(settings, "NOTICE_STREAM_SECONDS", 55.0)),
            float(getattr(settings, "NOTICE_POLL_SECONDS", 0.5)),
            float(getattr(settings, "NOTICE_HEARTBEAT_SECONDS", 15.0)))


def sse_event(notice: MemberNotice, member: str, names: dict[str, str], unread: int) -> str:
    data = {"id": notice.id, "kind": notice.kind, "amount": format_fen(notice.amount), "order": notice.order or None,
            "text": notice_text(notice, member, names), "unread": unread}
    return f"id: {notice.id}\nevent: notice\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def notice_events(member: str, after: int, language: str, seconds: float, poll: float, heartbeat: float,
                  clock: Callable[[], float] = time.monotonic,
                  sleep: Callable[[float], None] = time.sleep) -> Iterator[str]:
    """The stream's text: ``retry``, then each notice of ``member`` after id ``after`` as it is committed, a
    heartbeat comment every ``heartbeat`` seconds, until ``seconds`` have passed. Each poll is one indexed query,
    outside any transaction (autocommit)."""
    yield "retry: 1000\n\n"
    started = last_sent = clock()
    while True:
        rows = list(MemberNotice.objects.filter(member=member, id__gt=after).order_by("id")[:50])
        if rows:
            with translation.override(language):
                names = names_of(rows)
                unread = unread_count(member)
                text = "".join(sse_event(n, member, names, unread) for n in rows)
            after = rows[-1].id
            last_sent = clock()
            yield text
            continue  # more may be waiting behind these 50
        now = clock()
        if now - started >= seconds:
            return
        if now - last_sent >= heartbeat:
            last_sent = now
            yield ": heartbeat\n\n"
        sleep(poll)


def _stream_start(request: HttpRequest, member: str, after: int | None) -> int:
    raw = request.headers.get("Last-Event-ID", "").strip()
    if raw:
        if not raw.isdigit() or len(raw) > 18:
            raise ApiError(400, ApiCode.INVALID, "Last-Event-ID", raw, why="not a notice id")
        return int(raw)
    return after if after is not None else latest_id(member)


# --- the routes -----------------------------------------------------------------------------------------------------


class NoticeOut(Schema):
    id: int
    kind: str = Field(description="the ledger rule that moved the money, e.g. direct_reward")
    label: str
    amount: MoneyOut
    book: str
    order: str | None
    source: str | None = Field(description="the member whose purchase caused it")
    source_name: str
    at: Any
    read: bool
    text: str = Field(description="the notice in words, in the request's language")


class NoticesPage(Schema):
    member: str
    notices: list[NoticeOut]
    next_before: int | None = Field(description="pass as `before` to read the next (older) page")
    unread: int


class UnreadOut(Schema):
    unread: int


NoticeId = Annotated[int, Field(ge=1, le=2**62)]


class MarkReadIn(StrictIn):
    ids: list[NoticeId] | None = Field(None, max_length=500, description="these notices")
    up_to: int | None = Field(None, ge=1, le=2**62, description="every notice up to this id")


class MarkedOut(Schema):
    marked: int
    unread: int


@router.get("/me/notices", auth=AUTH, response={200: NoticesPage, **ERRORS})
def my_notices(request: HttpRequest, before: int | None = Query(None, ge=1, le=2**62),
               limit: int = Query(20, ge=1, le=100)) -> dict[str, Any]:
    """My income notices, newest first, each read or not; the next page ``?before=<next_before>``."""
    return notices_page(member_of(request), before, limit)


@router.get("/me/notices/unread", auth=AUTH, response={200: UnreadOut, **ERRORS})
def my_unread(request: HttpRequest) -> dict[str, Any]:
    return {"unread": unread_count(member_of(request))}


@idempotent_post(router, "/me/notices/read", auth=AUTH, response={200: MarkedOut, **ERRORS})
def read_notices(request: HttpRequest, body: MarkReadIn) -> dict[str, Any]:
    """Mark my notices read: ``ids``, or every one up to ``up_to`` (the page's "mark all read")."""
    member = member_of(request)
    if (body.ids is None) == (body.up_to is None):
        raise ApiError(400, ApiCode.INVALID, "ids", None, why="give ids or up_to, one of them")
    marked = mark_read(member, body.ids, body.up_to)
    return {"marked": marked, "unread": unread_count(member)}


@router.get("/me/notices/stream", auth=AUTH, response={200: None, **ERRORS})
def notice_stream(request: HttpRequest, after: int | None = Query(None, ge=0, le=2**62)) -> StreamingHttpResponse:
    """Server-sent events: each new notice of mine as it is committed (``text/event-stream``; see the module)."""
    member = member_of(request)
    start = _stream_start(request, member, after)
    language = translation.get_language() or settings.LANGUAGE_CODE
    seconds, poll, heartbeat = stream_settings()
    events = notice_events(member, start, language, seconds, poll, heartbeat)
    response = StreamingHttpResponse(events, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # a proxy in front must pass each event on at once
    return response
