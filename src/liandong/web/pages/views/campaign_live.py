"""The live parts of a pre-sale's and a blind box's page: what changes as members join, leave and open boxes,
rendered on the server from the campaign's read model, in the page and in the campaign's stream alike.

A kind's page marks each part that changes with ``data-live-part="<name>"`` and renders it from its module's
``live_parts(kind, view)`` (``presale.LIVE_TEMPLATES``: the top card and the free winners; ``blind_box``: the top
card, the boxes opened, the open form's title and button). ``GET /api/campaigns/<id>/stream``
(``api/campaign_stream.py``) sends the same parts again whenever the worker has applied something that changed
them, and ``static/liandong/campaign-live.js`` puts each changed part in its place; once the campaign is closed it
hides the forms. Without JavaScript the page is the same at each reload: the parts are the page's own HTML, so a
figure shown live is the figure a reload shows, and no figure is computed in the browser.

Only what anyone may see is in a part: display names, never a member id, nothing of the viewer's own (their
entry, their coupons: those show at the next load).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import reverse

from . import blind_box, presale
from .draws import published_view

#: A kind's live parts by name, from its public view.
LIVE_KINDS: dict[str, Callable[[str, dict[str, Any]], dict[str, str]]] = {
    "presale": presale.live_parts,
    "blind_box": blind_box.live_parts,
}


def live_state(campaign: str) -> dict[str, Any] | None:
    """The campaign's status and live parts as its stream sends them (None: not published, or no live page)."""
    found = published_view(campaign)
    if found is None or found[0] not in LIVE_KINDS:
        return None
    kind, view = found
    return {"campaign": campaign, "kind": kind, "status": view["status"], "parts": LIVE_KINDS[kind](kind, view)}


def live_data(view: dict[str, Any], parts: dict[str, str]) -> dict[str, Any]:
    """The page's data block for ``campaign-live.js``: the stream's URL, the status and the parts as rendered."""
    return {"stream": reverse("api:campaign_stream", args=[view["id"]]), "status": view["status"],
            "parts": parts}
