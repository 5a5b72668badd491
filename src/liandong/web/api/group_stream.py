"""A group's state as it changes, for its page: ``GET /api/campaigns/<campaign>/groups/<group>/stream``
(Server-Sent Events, no login; public data only).

The group page (``pages/views/campaigns.py``, ``static/liandong/group-live.js``) listens to it and updates the
member list, the seats still missing and, once the group is drawn, who won, what each got and the link to the public
draw record. Each message is the group's public state (``group_state``), sent at the start and again whenever it
changes::

    retry: 3000

    event: group
    data: {"group": "g1", "status": "open", "size": 5, "seats_left": 2, "members": [{"name": "alice", …}], …}

The stream polls the read model cheaply: one small row (the worker's position) a second, and the campaign's view
only when the worker has applied something since. It holds no transaction between polls (autocommit reads only),
sends a comment line every ``KEEPALIVE_SECONDS`` so proxies keep it open, and ends after ``LIFETIME_SECONDS`` (the
browser's EventSource reconnects by itself) or as soon as the group is closed (drawn, expired, dissolved: its state
cannot change any more). A group that does not exist (or a campaign not published) is a JSON 404 before the stream
starts. What it sends is what ``GET /api/campaigns/<id>`` shows anyone, less the member ids: members by display name
(``pages.people.display_names``), never an invite code.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import translation
from ninja import Router
from ninja.params.functions import Path

from ...service.store.models import CampaignState, WorkerPosition
from ..pages.people import display_names
from .errors import ApiCode, ApiError
from .events import ERRORS, ID_PATTERN, public_view

router = Router(tags=["campaigns"])

#: How often the stream looks at the worker's position (seconds).
POLL_SECONDS = 1.0
#: How long one stream lives before the browser reconnects (seconds): bounds a thread's time on one listener.
LIFETIME_SECONDS = 55.0
#: A comment line after this long without a message, so that proxies do not drop the connection.
KEEPALIVE_SECONDS = 15.0
#: The group kinds this stream serves.
GROUP_KINDS = ("group_buy", "red_envelope")
#: A group's statuses after which nothing changes any more.
FINAL = ("drawn", "expired", "dissolved")


def initial(name: str) -> str:
    """The letter of a member's initial avatar: the display name's first character, upper case."""
    return name[:1].upper() or "?"


def group_of(view: dict[str, Any], group: str) -> dict[str, Any] | None:
    return next((g for g in view.get("group_views", ()) if g.get("group") == group), None)


def what_each_got(kind: str, view: dict[str, Any], group: dict[str, Any], member: str) -> dict[str, Any]:
    """What one seat came to, in figures read from the campaign's published rules and the group's view (no sum is
    made here): ``outcome`` (waiting, won, lost, returned, refunded) and the amounts that outcome carries."""
    outcome = group.get("outcomes", {}).get(member, "waiting")
    got: dict[str, Any] = {"outcome": outcome}
    params = view.get("params", {})
    if outcome in ("lost", "returned"):
        got["returned"] = group.get("price")
    if kind == "group_buy":
        if outcome == "won":
            fund = params.get("winner_fund")
            got["fund"] = group.get("price") if fund == "price" else fund
        elif outcome == "lost":
            got["bonus"] = params.get("loser_bonus")
    elif kind == "red_envelope" and group.get("status") == "drawn":
        got["share"] = group.get("shares", {}).get(member)
    return got


def group_state(campaign: str, group: str) -> dict[str, Any] | None:
    """The public state of ``group`` of the published group campaign ``campaign`` (None: no such group)."""
    row = (CampaignState.objects.filter(campaign=campaign, kind__in=GROUP_KINDS).exclude(status="draft")
           .values_list("kind", "view").first())
    if row is None:
        return None
    kind, view = row[0], public_view(row[0], row[1])
    found = group_of(view, group)
    if found is None:
        return None
    members = list(found.get("members", ()))
    names = display_names(members + list(found.get("winners", ())))
    return {
        "campaign": campaign, "group": group, "kind": kind, "status": found["status"],
        "size": found["size"], "winners_count": found["winners_count"], "seats_left": found["seats_left"],
        "joined": len(members), "price": found["price"], "deadline": found["deadline"],
        "closed_at": found.get("closed_at"), "visibility": found.get("visibility", "open"),
        "split": found.get("split"), "envelope": found.get("envelope"),
        "members": [{"name": names[m], "initial": initial(names[m]), **what_each_got(kind, view, found, m)}
                    for m in members],
        "winners": [names[m] for m in found.get("winners", ())],
        "commitment": found.get("commitment"), "draw_url": f"/draws/{campaign}",
    }


def worker_position() -> int:
    return WorkerPosition.objects.filter(id=1).values_list("position", flat=True).first() or 0


def watch(read: Callable[[], dict[str, Any] | None], is_final: Callable[[dict[str, Any]], bool], *,
          poll: float = POLL_SECONDS, lifetime: float = LIFETIME_SECONDS, sleep: Callable[[float], None] = time.sleep,
          clock: Callable[[], float] = time.monotonic) -> Iterator[dict[str, Any] | None]:
    """What ``read()`` gives at the start and each time it changes; ``None`` between changes, once per poll (the
    caller's chance to send a keep-alive). ``read`` runs only when the worker has applied something since the last
    look (one small row a poll otherwise). Ends when ``read`` gives None (gone), when ``is_final`` holds, or once
    ``lifetime`` has passed. Every live stream of the pages is this loop (groups, pre-sales, blind boxes)."""
    started = clock()
    seen_position: int | None = None
    last: dict[str, Any] | None = None
    while True:
        position = worker_position()
        if position != seen_position:  # the worker applied something: the state may have changed
            seen_position = position
            state = read()
            if state is None:
                return
            if state != last:
                last = state
                yield state
            if is_final(state):
                return
        else:
            yield None
        if clock() - started >= lifetime:
            return
        sleep(poll)


def group_states(campaign: str, group: str, **options: Any) -> Iterator[dict[str, Any] | None]:
    """The group's state at the start and each time it changes (``watch``); ends when the group is closed, is
    gone, or the lifetime has passed."""
    return watch(lambda: group_state(campaign, group), lambda state: state["status"] in FINAL, **options)


def sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"


def sse_events(event: str, states: Callable[..., Iterator[dict[str, Any] | None]], language: str,
               **options: Any) -> Iterator[str]:
    """A live stream's text: ``retry``, then one ``event`` per state of ``states(**options)`` (read in
    ``language``), comment lines to keep it open."""
    keepalive = float(getattr(settings, "GROUP_STREAM_KEEPALIVE_SECONDS", KEEPALIVE_SECONDS))
    clock: Callable[[], float] = options.get("clock", time.monotonic)
    yield "retry: 3000\n\n"
    quiet_since = clock()
    with translation.override(language):  # display names ("Member No. 3") in the page's language
        for state in states(**options):
            if state is not None:
                quiet_since = clock()
                yield sse(event, state)
            elif clock() - quiet_since >= keepalive:
                quiet_since = clock()
                yield ": keepalive\n\n"


def group_events(campaign: str, group: str, language: str, **options: Any) -> Iterator[str]:
    """The group stream's text: ``retry``, then one ``group`` event per state, comment lines to keep it open."""
    return sse_events("group", lambda **o: group_states(campaign, group, **o), language, **options)


def event_stream(events: Iterator[str]) -> StreamingHttpResponse:
    """The HTTP answer of a live stream: Server-Sent Events, never cached or buffered on the way."""
    response = StreamingHttpResponse(events, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each message on at once
    return response


def stream_lifetime() -> float:
    return float(getattr(settings, "GROUP_STREAM_LIFETIME_SECONDS", LIFETIME_SECONDS))


@router.get("/campaigns/{campaign}/groups/{group}/stream", auth=None, response={200: None, **ERRORS},
            url_name="group_stream")
def group_stream(request: HttpRequest, campaign: str = Path(..., pattern=ID_PATTERN),
                 group: str = Path(..., pattern=ID_PATTERN)) -> StreamingHttpResponse:
    """The group's public state as Server-Sent Events: at once, then whenever it changes, until it is drawn or
    dissolved (or about a minute has passed: the browser reconnects)."""
    if group_state(campaign, group) is None:
        raise ApiError(404, ApiCode.NOT_FOUND, "group", group)
    language = translation.get_language() or settings.LANGUAGE_CODE
    return event_stream(group_events(campaign, group, language, lifetime=stream_lifetime()))
