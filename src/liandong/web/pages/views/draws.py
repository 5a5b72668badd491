"""The public draw page ``/draws/<campaign>`` and its record ``/draws/<campaign>/record.json`` (no login).

What anyone can see of a published campaign's fair draws (rulebook "The fair draw", ``engine/draw.py``): the
commitment published at its creation, each draw's entries in join order (by display name), and once a draw is done
its secret, its result and the winners; a **Verify in this browser** button (``static/liandong/draw-verify.js``)
recomputes every draw with WebCrypto from the page's own data (a ``<script type="application/json">`` block) and
says whether it matches. ``record.json`` is the campaign's draw records exactly as ``liandong verify-draw FILE``
reads them (a JSON list, in the order the draws happened).

A campaign may hold several draws, each shown in its own section:

* group-buy and red-envelope: one per group (``gb1/g1``), with the group's own commitment from its start
  (``sha256(group secret)``); a red-envelope group has a second record, the split (``re1/r1/envelope``). Once the
  campaign closes, its own secret is published and the page checks that every group secret is
  ``HMAC-SHA256(key=campaign secret, msg="group|<draw>")`` (``engine/campaigns/groups.py``).
* pre-sale: the free draws (a pick of one each), under the campaign's commitment; their records are published at the
  close, the winners are shown as they are drawn.
* blind box: the prize's box (a ``position`` draw), under the campaign's commitment; revealed when the set closes.

Everything comes from the campaign's read model (``CampaignState.view``, as ``GET /api/campaigns/<id>`` shows it,
with the module's private keys removed): nothing is computed here. People are shown by display name
(``people.display_names``); the draw's entries are member ids because the rulebook's draw hashes them, so they are
in the page's data block and the record (as in the public API), never in the page's text. No order id, invite code
or contact detail is on the page. A draft or unknown campaign is the shop's 404 page.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from ....service.store.models import CampaignState
from ...api.events import public_view
from ..people import display_names
from .shop import problem, shop_timezone

#: A campaign id as the API's paths take it (``ID_PATTERN``); anything else cannot be one.
CAMPAIGN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}", re.ASCII)

#: A draw's entries are listed by name up to this many (a pre-sale draws among thousands: then only the count, and
#: the record holds them all).
LISTED_ENTRIES = 200

#: Group campaign kinds: one draw per group, each group's secret derived from the campaign's.
GROUP_KINDS = ("group_buy", "red_envelope")

KIND_NAMES: dict[str, Any] = {
    "group_buy": _("Group-buy lottery"),
    "red_envelope": _("Red-envelope group"),
    "presale": _("Pre-sale tiered rebate"),
    "blind_box": _("Blind box"),
}

STATUS_NAMES: dict[str, tuple[Any, str]] = {
    "open": (_("Open"), "warn"),
    "drawn": (_("Drawn"), "good"),
    "expired": (_("Expired, paid back"), "bad"),
    "dissolved": (_("Dissolved, paid back"), "bad"),
    "closed": (_("Closed"), "good"),
}


#: What the browser's verification says (``draw-verify.js``), in the page's language; ``%(name)s`` is filled there.
VERIFY_TEXTS: dict[str, Any] = {
    "working": _("Recomputing the draws in this browser…"),
    "all_ok": _("Matches: all %(count)s draw records recompute to the results shown, and every secret hashes to "
                "its published commitment."),
    "not_ok": _("Does not match. What differs:"),
    "section_ok": _("Matches: recomputed in this browser."),
    "section_bad": _("Does not match:"),
    "record": _("Record %(number)s (%(draw)s):"),
    "problem_commitment": _("sha256 of the secret is %(computed)s, but the record's commitment is %(shown)s."),
    "problem_published": _("the record's commitment %(shown)s is not the one published for this draw, "
                           "%(computed)s."),
    "problem_result": _("recomputed %(computed)s, but the record says %(shown)s."),
    "problem_group_secret": _("from the campaign's secret this group's secret is %(computed)s, but the record "
                              "says %(shown)s."),
    "problem_campaign_secret": _("sha256 of the campaign's secret is %(computed)s, but the commitment published at "
                                 "its creation is %(shown)s."),
    "problem_no_secret": _("the record has a commitment (%(shown)s) but no secret to check it against."),
    "problem_malformed": _("the record's “%(key)s” cannot be used: %(shown)s."),
    "failed": _("The check could not run in this browser: %(detail)s"),
    "insecure": _("This browser does not offer its cryptography (WebCrypto) on this page: browsers do so only on "
                  "a secure page, one served over https:// or from this computer itself (localhost). Open the page "
                  "over https://, or download the record below and run liandong verify-draw."),
}


@dataclass
class DrawSection:
    """One draw of the campaign as the page shows it, and the data the browser verifies it from."""

    draw: str  # the draw's name in its records (``gb1/g1``; the campaign id for a pre-sale or a blind box)
    title: str
    status: str
    commitment: str
    derived: bool  # its secret is HMAC(campaign secret, "group|<draw>") (a group's)
    secret: str | None = None
    entries: list[str] = field(default_factory=list)  # member ids in join order (shown by name)
    entry_count: int | None = None  # when the read model shows only how many (a pre-sale before its close)
    records: list[dict[str, Any]] = field(default_factory=list)
    seats: int | None = None
    winners_wanted: int | None = None
    winners_so_far: list[str] = field(default_factory=list)  # pre-sale free winners drawn before the close
    window: list[int] | None = None
    opened: int | None = None
    winner: str | None = None  # blind box: who opened the prize's box

    @property
    def status_label(self) -> Any:
        return STATUS_NAMES.get(self.status, (self.status, ""))[0]

    @property
    def status_badge(self) -> str:
        return STATUS_NAMES.get(self.status, ("", ""))[1]

    def data(self) -> dict[str, Any]:
        """What the browser's verification reads."""
        return {"draw": self.draw, "commitment": self.commitment, "derived": self.derived, "records": self.records}


def _records_of(view: dict[str, Any], draw: str) -> list[dict[str, Any]]:
    """The campaign's published records of one draw (``gb1/g1`` and its split ``gb1/g1/envelope``)."""
    return [r for r in view.get("draws", ()) if r.get("campaign") == draw or str(r.get("campaign", "")).startswith(
        draw + "/")]


def _group_sections(view: dict[str, Any]) -> list[DrawSection]:
    sections = []
    for group in view.get("group_views", ()):
        draw = group.get("draw") or f"{view['id']}/{group['group']}"
        sections.append(DrawSection(
            draw=draw, title=str(_("Group %(group)s") % {"group": group["group"]}), status=group["status"],
            commitment=group["commitment"], derived=True, secret=group.get("secret"),
            entries=list(group.get("members", ())), records=_records_of(view, draw), seats=group.get("size"),
            winners_wanted=group.get("winners_count")))
    return sections


def _presale_section(view: dict[str, Any]) -> DrawSection:
    records = _records_of(view, view["id"])
    closed = view["status"] == "closed"
    return DrawSection(
        draw=view["id"], title=str(_("Free draws")), status="closed" if closed else "open",
        commitment=view["commitment"], derived=False, secret=view.get("secret"),
        entry_count=view.get("participants"), records=records, winners_so_far=list(view.get("free", ())))


def _blind_box_section(view: dict[str, Any]) -> DrawSection:
    closed = view["status"] == "closed"
    return DrawSection(
        draw=view["id"], title=str(_("The prize's box")), status="closed" if closed else "open",
        commitment=view["commitment"], derived=False, secret=view.get("secret"),
        records=_records_of(view, view["id"]), window=view.get("window"), opened=view.get("opened"),
        winner=view.get("winner"))


def draw_sections(kind: str, view: dict[str, Any]) -> list[DrawSection]:
    """The campaign's draws, in the order they were started."""
    if kind in GROUP_KINDS:
        return _group_sections(view)
    if kind == "presale":
        return [_presale_section(view)]
    if kind == "blind_box":
        return [_blind_box_section(view)]
    closed = view["status"] == "closed"
    return [DrawSection(draw=view["id"], title=str(_("The draw")), status="closed" if closed else "open",
                        commitment=view["commitment"], derived=False, secret=view.get("secret"),
                        records=list(view.get("draws", ())))]


def published_view(campaign: str) -> tuple[str, dict[str, Any]] | None:
    """A published campaign's kind and public view (drafts and unknown ids: None)."""
    if not CAMPAIGN_ID.fullmatch(campaign):
        return None
    row = CampaignState.objects.filter(campaign=campaign).exclude(status="draft").first()
    if row is None:
        return None
    return row.kind, public_view(row.kind, json.loads(json.dumps(row.view)))  # a copy: public_view drops keys


def _moment(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _people(sections: list[DrawSection]) -> set[str]:
    people: set[str] = set()
    for s in sections:
        people.update(s.entries)
        people.update(s.winners_so_far)
        if s.winner:
            people.add(s.winner)
        for record in s.records:
            people.update(record.get("entries", ()))
            if record.get("operation") == "pick":
                people.update(record.get("result", ()))
    return people


def _shown_records(section: DrawSection, names: dict[str, str]) -> list[dict[str, Any]]:
    """Each record of a section in the page's words: the entries by name, the result by name or amount."""
    shown = []
    for number, record in enumerate(section.records, start=1):
        entries = [names.get(m, m) for m in record.get("entries", ())]
        op = record.get("operation")
        item: dict[str, Any] = {"operation": op, "number": number, "entries": entries, "draw": record.get("campaign"),
                                "listed": entries if len(entries) <= LISTED_ENTRIES else []}
        if op == "pick":
            item["winners"] = [names.get(m, m) for m in record.get("result", ())]
        elif op in ("split_random", "split_equal"):
            item["amount"] = record.get("amount")
            item["shares"] = list(zip(entries, record.get("result", ()), strict=False))
        elif op == "position":
            item["box"] = record.get("result")
            item["window"] = record.get("window")
        shown.append(item)
    return shown


@require_GET
def draw(request: HttpRequest, campaign: str) -> HttpResponse:
    found = published_view(campaign)
    if found is None:
        return problem(request, 404, _("Not found"), _("There is no published campaign with this name."))
    kind, view = found
    sections = draw_sections(kind, view)
    names = display_names(_people(sections))
    shown = [{"section": s, "records": _shown_records(s, names), "entries": [names[m] for m in s.entries],
              "winners_so_far": [names[m] for m in s.winners_so_far],
              "winner": names[s.winner] if s.winner else ""} for s in sections]
    has_records = any(s.records for s in sections)
    page_data = {
        "campaign": view["id"], "kind": kind, "commitment": view["commitment"], "secret": view.get("secret"),
        "derived": kind in GROUP_KINDS, "sections": [s.data() for s in sections],
        "names": dict(names),
    }
    return render(request, "pages/draws.html", {
        "tab": "", "campaign": view, "kind_name": KIND_NAMES.get(kind, kind), "closed": view["status"] == "closed",
        "shop_tz": shop_timezone(), "published_at": _moment(view.get("published_at")),
        "sections": shown, "has_records": has_records, "page_data": page_data,
        "texts": {key: str(text) for key, text in VERIFY_TEXTS.items()},
        "record_count": sum(len(s.records) for s in sections),
    })


@require_GET
def draw_record(request: HttpRequest, campaign: str) -> HttpResponse:
    """The campaign's draw records as ``liandong verify-draw FILE`` reads them: a JSON list, oldest first."""
    found = published_view(campaign)
    if found is None:
        return JsonResponse({"code": "not_found", "field": "campaign", "value": campaign,
                             "message": "there is no published campaign with this name"}, status=404)
    _kind, view = found
    records = list(view.get("draws", ()))
    if not records:
        return JsonResponse({"code": "not_found", "field": "campaign", "value": campaign,
                             "message": "no draw of this campaign is done yet: its record is published then"},
                            status=404)
    response = HttpResponse(json.dumps(records, ensure_ascii=False, indent=1) + "\n",
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="draws-{view["id"]}.json"'
    return response
