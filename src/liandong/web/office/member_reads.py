"""What the back office's members pages read (``/office/members``), from the worker's projections only: the member
rows, balances, the ledger, orders, withdrawals, the referral counts (``ReferralCount``) and the member's history of
ranks, referrers and bindings (``MemberHistory``). Nothing here writes or computes a reward.

Every list is a keyset page (join order for people, newest first for the rest): a member whose team holds 100,000
members costs the same queries as one with none; a node of the referral tree shows its counts from
``ReferralCount``, never by counting its subtree.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q, QuerySet

from ...engine.money import format_fen
from ...service.store.models import (
    Balance,
    LoggedEvent,
    MemberHistory,
    MemberState,
    OrderState,
    ReferralCount,
    WithdrawalState,
)
from ..accounts.models import MemberLogin
from ..api import reads as api_reads
from ..pages.people import display_names
from ..pages.views.earnings import named_lines

#: How many members one page of the search, of a tree level or of a team shows.
PEOPLE_PAGE = 50
#: How many lines of the statement, orders, withdrawals and history the member page shows at once.
LINES = 20
QUERY_MAX = 64
#: A query that is a phone number: digits with spaces, dashes or a leading +86 (at least 5 digits).
PHONE = re.compile(r"\+?(?:86[\s-]?)?(\d[\d\s-]{3,18}\d)")
RANK_KINDS = ("rank_gained", "promoted", "rank_lost")
BINDING_KINDS = ("bound", "reparented")
PROMOTER_KINDS = ("promoter_approved", "promoter_rejected", "promoter_revoked")
MEMBER_BOOKS = api_reads.MEMBER_BOOKS


def phone_digits(query: str) -> str | None:
    """The digits of a query written as a phone number ("138 0013 8000", "+86 138-0013-8000"), or None."""
    found = PHONE.fullmatch(query.strip())
    return re.sub(r"\D", "", found.group(1)) if found else None


#: The most members a name matches that the search lists (a query as short as "1" matches most of a big shop).
NAME_MATCHES_MAX = 2000


def search_filter(query: str) -> Q:
    """Members matching ``query``: its member id, its invite code (any case), its display name (a username holding
    the query, or "Member No. 12" for a member without a login), or its phone number written with spaces, dashes or
    +86 (its digits in the phone the member gave at registration, stored as eleven digits, or held in the username:
    members often register with their phone number). Each way is its own small query (the member and invite-code
    indexes, one pass over the logins), so the members table is read by its member index only, never scanned through
    an OR of subqueries."""
    query = query.strip()
    logins = MemberLogin.objects.all()
    wanted: set[str] = {query}
    wanted.update(logins.filter(invite_code=query.upper()).values_list("member", flat=True)[:1])
    texts = {query}
    digits = phone_digits(query)
    if digits:
        texts.add(digits)
    for text in texts:
        wanted.update(logins.filter(user__username__icontains=text).values_list("member", flat=True)
                      [:NAME_MATCHES_MAX])
    if digits:  # the stored phone: its eleven digits (the whole number through its index, a part by one pass)
        stored = logins.filter(phone=digits) if len(digits) == 11 else logins.filter(phone__contains=digits)
        wanted.update(stored.values_list("member", flat=True)[:NAME_MATCHES_MAX])
    found = Q(member__in=sorted(wanted))
    number = api_reads.MEMBER_NUMBER.fullmatch(query)
    if number is not None:  # "Member No. 12": the 12th to join, when it has no login (else it shows its username)
        index = int(number.group(1)) - 1
        nth = MemberState.objects.filter(join_index=index).values_list("member", flat=True).first()
        if nth is not None and not logins.filter(member=nth).exists():
            found |= Q(join_index=index)
    return found


def people(rows: QuerySet[MemberState], after: int | None, limit: int | None = None) -> dict[str, Any]:
    """One page of members (``PEOPLE_PAGE`` unless ``limit``) in join order after join index ``after``, each with its
    name, rank, invite code and referral counts; and the next page's cursor (None on the last)."""
    limit = limit or PEOPLE_PAGE
    window = rows.filter(join_index__gt=after) if after is not None else rows
    got = list(window.order_by("join_index").only("member", "rank", "team", "referrer", "joined_at", "join_index")
               [: limit + 1])
    page = got[:limit]
    ids = [m.member for m in page]
    names = display_names(ids)
    codes = dict(MemberLogin.objects.filter(member__in=ids).values_list("member", "invite_code"))
    counts = {c.member: c for c in ReferralCount.objects.filter(member__in=ids)}
    out = []
    for m in page:
        count = counts.get(m.member)
        out.append({"member": m.member, "name": names.get(m.member, ""), "rank": m.rank or "member",
                    "team": m.team or None, "referrer": m.referrer or None, "joined_at": m.joined_at,
                    "join_index": m.join_index, "invite_code": codes.get(m.member, ""),
                    "referrals": count.referrals if count else 0, "descendants": count.descendants if count else 0})
    return {"members": out, "next_after": page[-1].join_index if len(got) > limit else None}


def search(query: str, after: int | None) -> dict[str, Any]:
    rows = MemberState.objects.all()
    if query.strip():
        rows = rows.filter(search_filter(query))
    return people(rows, after)


def children(member: str, after: int | None) -> dict[str, Any]:
    """One level of the referral tree: the members ``member`` referred, a page at a time."""
    return people(MemberState.objects.filter(referrer=member), after)


def team(member: str, after: int | None) -> dict[str, Any]:
    """The chain21 team ``member`` leads, a page at a time (the team column's index), with its size on the first
    page (``ReferralCount.team_size``: no count of the team)."""
    page = people(MemberState.objects.filter(team=member), after)
    page["size"] = counts(member)["team_size"] if after is None else None
    return page


def counts(member: str) -> dict[str, int]:
    row = ReferralCount.objects.filter(member=member).values_list("referrals", "descendants", "team_size").first()
    return dict(zip(("referrals", "descendants", "team_size"), row or (0, 0, 0), strict=True))


def balances(member: str) -> dict[str, int]:
    held = dict(Balance.objects.filter(owner=member, book__in=MEMBER_BOOKS).values_list("book", "amount"))
    out = {book: int(held.get(book, 0)) for book in MEMBER_BOOKS}
    out["debt"] = max(-out["available"], 0)
    return out


def statement(member: str, before: int | None) -> dict[str, Any]:
    """The member's money statement, newest first, ``LINES`` at a time (older than entry ``before``), each line in
    the page's words as the member's own statement words it (``pages.views.earnings.named_lines``: the rule's label,
    the book, the order and the buyer by display name, the rule's note, the shop's time)."""
    page = api_reads.money_statement_page(member, after=before, limit=LINES)
    return {"lines": named_lines(page["lines"], member), "next_before": page["next_after"]}


def orders(member: str, limit: int = LINES) -> list[OrderState]:
    return list(OrderState.objects.filter(member=member).order_by("-paid_at", "-order")[:limit])


def withdrawals(member: str, limit: int = LINES) -> list[dict[str, Any]]:
    rows = list(WithdrawalState.objects.filter(member=member).order_by("-requested_at", "-withdrawal")[:limit])
    held = api_reads.available_of([member])
    return [{**api_reads.withdrawal(w, held), "requested_at": w.requested_at, "decided_at": w.decided_at}
            for w in rows]


def history(member: str, kinds: tuple[str, ...], limit: int = 50) -> list[MemberHistory]:
    """The member's facts of ``kinds``, newest first (the ``(member, id)`` index)."""
    return list(MemberHistory.objects.filter(member=member, kind__in=kinds).order_by("-id")[:limit])


def reparentings(member: str) -> list[dict[str, Any]]:
    """The operators' re-parentings of ``member`` as logged, newest first: who asked (the event's actor), the
    referrer before and after, the reason, and whether the engine applied it."""
    rows = (LoggedEvent.objects.filter(verb="reparent_member", payload__member=member).select_related("outcome")
            .order_by("-position")[:20])
    out = []
    for logged in rows:
        outcome = getattr(logged, "outcome", None)
        out.append({"position": logged.position, "at": logged.created_at, "actor": logged.actor,
                    "referrer": logged.payload.get("referrer"), "reason": logged.payload.get("reason"),
                    "status": "pending" if outcome is None else ("applied" if outcome.applied else "refused")})
    return out


def money(fen: int) -> str:
    return format_fen(fen)
