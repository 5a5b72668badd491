"""A pre-sale's or a blind box's page, live: ``GET /api/campaigns/<campaign>/stream`` (Server-Sent Events, no login;
public data only).

Each message is the campaign's status and its page's live parts, rendered on the server from the read model in the
page's language (``pages/views/campaign_live.py``), sent at the start and again whenever they change::

    retry: 3000

    event: campaign
    data: {"campaign": "p1", "kind": "presale", "status": "open", "parts": {"status": "<div class=\"card\" …", …}}

The loop is the group stream's (``group_stream.watch``): one small row (the worker's position) a second, the
campaign's view only when the worker has applied something since, a comment line every ``KEEPALIVE_SECONDS`` of
quiet, an end after the lifetime (the browser reconnects) or once the campaign is closed. A campaign not published,
or of a kind without a live page, is a JSON 404 before the stream starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import translation
from ninja import Router
from ninja.params.functions import Path

from .errors import ApiCode, ApiError
from .events import ERRORS, ID_PATTERN
from .group_stream import event_stream, sse_events, stream_lifetime, watch

router = Router(tags=["campaigns"])


def campaign_state(campaign: str) -> dict[str, Any] | None:
    from ..pages.views.campaign_live import live_state  # the pages render the parts (they import this package)

    return live_state(campaign)


def campaign_states(campaign: str, **options: Any) -> Iterator[dict[str, Any] | None]:
    """The campaign's live state at the start and each time it changes; ends once it is closed (or gone, or the
    lifetime has passed)."""
    return watch(lambda: campaign_state(campaign), lambda state: state["status"] != "open", **options)


def campaign_events(campaign: str, language: str, **options: Any) -> Iterator[str]:
    """The stream's text: ``retry``, then one ``campaign`` event per state, comment lines to keep it open."""
    return sse_events("campaign", lambda **o: campaign_states(campaign, **o), language, **options)


@router.get("/campaigns/{campaign}/stream", auth=None, response={200: None, **ERRORS}, url_name="campaign_stream")
def campaign_stream(request: HttpRequest, campaign: str = Path(..., pattern=ID_PATTERN)) -> StreamingHttpResponse:
    """A pre-sale's or a blind box's page parts as Server-Sent Events: at once, then whenever they change, until it
    closes (or about a minute has passed: the browser reconnects)."""
    if campaign_state(campaign) is None:
        raise ApiError(404, ApiCode.NOT_FOUND, "campaign", campaign)
    language = translation.get_language() or settings.LANGUAGE_CODE
    return event_stream(campaign_events(campaign, language, lifetime=stream_lifetime()))
