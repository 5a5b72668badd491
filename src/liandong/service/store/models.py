"""The event log (the source of truth), the ledger and the projections the worker commits.

Who writes what:
- the web layer appends ``LoggedEvent`` rows (``store.services.append_event``) and never writes anything else here;
- the worker (``liandong worker``, one at a time) applies events in ``position`` order and commits, in one database
  transaction per batch: ``EventOutcome`` rows, ``LedgerTransaction`` and ``LedgerEntry`` rows, every changed
  projection (``MemberState``, ``Balance``, ``StatementMonth``, ``OrderState``, ``WithdrawalState``, ``ProductState``,
  ``CampaignState``), at a day's close its proof of liabilities (``LiabilityDay``, ``LiabilityLeaf``) and
  ``WorkerPosition``.
The log, outcomes, transactions and entries are append-only (database triggers refuse UPDATE and DELETE, and a
transaction whose entries do not sum to zero per unit; see the migrations).
"""

from __future__ import annotations

from django.db import models


class LoggedEvent(models.Model):
    """One event as it entered: its verb and fields (money as two-decimal strings, ``at`` as ISO time)."""

    position = models.BigAutoField(primary_key=True)
    key = models.CharField(max_length=200, unique=True, help_text="idempotency key")
    verb = models.CharField(max_length=64)
    payload = models.JSONField(help_text="the event's fields as in a scenario file, with `at`")
    request_hash = models.CharField(max_length=64, help_text="sha256 of the request that created it")
    actor = models.CharField(max_length=150, blank=True, help_text="member:ID, operator:USERNAME, payment, system")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position"]
        # a plan's config versions (verb configure_plan) and a member's refused withdrawals (verb withdraw, actor
        # member:ID, newest first) without reading the whole log
        indexes = [models.Index(fields=["verb", "actor", "position"], name="event_verb_actor")]


class EventOutcome(models.Model):
    """What the engine did with an event: applied (with the config version it used) or refused (with the reason)."""

    event = models.OneToOneField(LoggedEvent, on_delete=models.PROTECT, primary_key=True, related_name="outcome")
    applied = models.BooleanField()
    refusal = models.JSONField(null=True, blank=True, help_text="code, field, value, reason, reason_zh")
    facts = models.JSONField(default=list, blank=True)
    config_version = models.IntegerField()
    applied_at = models.DateTimeField(auto_now_add=True)


class LedgerTransaction(models.Model):
    """One balanced movement; ``id`` is the engine's transaction number (1, 2, … in log order)."""

    id = models.BigIntegerField(primary_key=True)
    event = models.ForeignKey(LoggedEvent, on_delete=models.PROTECT, related_name="transactions")
    rule = models.CharField(max_length=64)
    plan = models.CharField(max_length=64, blank=True)
    order = models.CharField(max_length=64, blank=True, db_index=True)
    source = models.CharField(max_length=64, blank=True, help_text="the member whose purchase caused a reward")
    reverses = models.BigIntegerField(null=True, blank=True)
    ref = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()


class LedgerEntry(models.Model):
    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="entries")
    owner = models.CharField(max_length=64)
    book = models.CharField(max_length=64)
    unit = models.CharField(max_length=16, default="fen")
    amount = models.BigIntegerField(help_text="fen (or the book's unit)")
    balance_after = models.BigIntegerField()

    class Meta:
        # a book's entries in order (the bill), and a member's money statement newest first (keyset on the entry)
        indexes = [models.Index(fields=["owner", "book", "id"]),
                   models.Index(fields=["owner", "unit", "id"], name="entry_owner_unit_order")]


class StatementMonth(models.Model):
    """A member's money moved in one book in one month (the shop's time zone) by one rule: the sum and count of those
    ledger entries, and the book's balance after the latest of them. Written by the worker in the same database
    transaction as the entries (``service.statement_months``), filled for older entries by migration 0010, compared
    by ``liandong verify``; the monthly bill reads these rows instead of the month's entries.

    Example: in March A earns two direct rewards of 100.00 into pending (transactions 7 and 9), so
    ``StatementMonth(owner="A", book="pending", month=2026-03-01, rule="direct_reward", amount=20000, entries=2,
    last_transaction=9, balance_after=20000)``. A month's opening balance in a book is the ``balance_after`` of the
    book's row with the highest ``last_transaction`` before that month (a transaction has one instant and one
    rule, so it ends one row per book); the closing balance is the same up to the month's end.
    """

    owner = models.CharField(max_length=64)
    book = models.CharField(max_length=64)
    month = models.DateField(help_text="the first day of the month, in the shop's time zone")
    rule = models.CharField(max_length=64)
    amount = models.BigIntegerField(help_text="the sum of the entries, fen")
    entries = models.IntegerField(help_text="how many entries")
    last_transaction = models.BigIntegerField(help_text="the transaction of the latest of them")
    balance_after = models.BigIntegerField(help_text="the book's balance after the latest of them, fen")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "book", "month", "rule"],
                                               name="one_statement_month_per_rule")]
        indexes = [models.Index(fields=["owner", "month"], name="statement_month_owner")]


class Balance(models.Model):
    owner = models.CharField(max_length=64)
    book = models.CharField(max_length=64)
    amount = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "book"], name="one_balance_per_account")]


class MemberState(models.Model):
    """A member as the engine sees it (``view`` is ``Engine.member_view``: rank, team, seeds, balances, …)."""

    member = models.CharField(max_length=64, unique=True)
    referrer = models.CharField(max_length=64, blank=True, db_index=True)
    joined_at = models.DateTimeField()
    join_index = models.IntegerField()
    rank = models.CharField(max_length=16, blank=True)
    team = models.CharField(max_length=64, blank=True, db_index=True)
    bound_promoter = models.CharField(
        max_length=64, blank=True, default="",
        help_text="the promoter its distribution binding names (bound_to), expired or not")
    view = models.JSONField(default=dict)
    reads = models.JSONField(default=dict, help_text="what the member sees of each module: kind -> member_read")
    operator_reads = models.JSONField(default=dict, help_text="what an operator sees: kind -> operator_read")

    class Meta:
        # a team and one's direct referrals are read a page at a time in join order (keyset on join_index)
        indexes = [models.Index(fields=["team", "join_index"], name="member_team_join_order"),
                   models.Index(fields=["referrer", "join_index"], name="member_referrer_join_order"),
                   # a promoter's bound buyers, a page at a time in join order
                   models.Index(fields=["bound_promoter", "join_index"], name="member_bound_join_order")]


class ProductState(models.Model):
    sku = models.CharField(max_length=64, unique=True)
    price = models.BigIntegerField()
    gift_pack = models.BooleanField(default=False)
    red_envelope = models.BigIntegerField(null=True, blank=True)
    name = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    cost = models.BigIntegerField(null=True, blank=True, help_text="unit cost of the goods (fen); null: not known")


class OrderState(models.Model):
    order = models.CharField(max_length=64, unique=True)
    member = models.CharField(max_length=64, db_index=True)
    sku = models.CharField(max_length=64)
    quantity = models.IntegerField(default=1)
    amount = models.BigIntegerField()
    paid_at = models.DateTimeField()
    refunded = models.BooleanField(default=False)
    campaign = models.CharField(max_length=64, blank=True)


class WithdrawalState(models.Model):
    withdrawal = models.CharField(max_length=64, unique=True)
    member = models.CharField(max_length=64, db_index=True)
    amount = models.BigIntegerField()
    fee = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16)  # requested, approved, rejected, paid
    requested_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    reference = models.CharField(max_length=200, blank=True)
    payee = models.CharField(max_length=100, blank=True, help_text="the account the member asked the payout to go to")
    payout_pending = models.BooleanField(default=False, help_text="approved, the amount still in withdrawing")
    reason = models.CharField(max_length=200, blank=True, default="",
                              help_text="why the operator rejected it (empty: not rejected, or rejected before "
                                        "rejections had reasons)")

    class Meta:
        # the withdrawals waiting for a decision or a payout (the overview, the dashboard), without reading the
        # closed ones: a small index whatever the shop's history
        indexes = [models.Index(fields=["status"], name="withdrawal_open",
                                condition=models.Q(status__in=["requested", "approved"]))]


class CampaignState(models.Model):
    """A campaign's public view (rules, commitment, groups, draw records) as the engine shows it."""

    campaign = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=32)
    status = models.CharField(max_length=16)
    view = models.JSONField(default=dict)


class ModuleState(models.Model):
    """A module's shop-wide read model (``Module.shop_read``: a pool, the NAV history), as the worker last wrote it."""

    kind = models.CharField(max_length=64, unique=True)
    view = models.JSONField(default=dict, help_text="shop_read: what anyone may read")
    end_state = models.JSONField(default=dict, help_text="a plan's end-state keys, as replay --json shows them")


class WorkerPosition(models.Model):
    """The last event position whose effects are committed. One row (id 1)."""

    id = models.SmallIntegerField(primary_key=True, default=1)
    position = models.BigIntegerField(default=0)
    transactions = models.BigIntegerField(default=0, help_text="the engine's transaction count at that position")
    updated_at = models.DateTimeField(auto_now=True)


class ShopSetup(models.Model):
    """The shop's plans (kind -> config), time zone and start: what the engine is built from before event 1.
    Plan config changes after that are ``configure_plan`` events in the log (versioned)."""

    id = models.SmallIntegerField(primary_key=True, default=1)
    name = models.CharField(max_length=100, blank=True, help_text="the shop's name, as its pages show it")
    plans = models.JSONField(default=dict)
    timezone = models.CharField(max_length=64, default="Asia/Shanghai")
    start = models.DateTimeField()
    auto_close_days = models.BooleanField(
        default=False,
        help_text="the worker logs close_day at the end of each business day, and holds events logged after a "
        "day's end (without an explicit at) at that day's end until the close is applied",
    )


class MemberNotice(models.Model):
    """Money that arrived for a member: one row per (ledger transaction, member) whose money books the transaction
    credited on balance (a reward, a commission, a rebate, points cashed out, a refunded payment returned), or whose
    help fund it released. Written by the worker in the same database transaction as the ledger rows it comes from
    (``service.notices``); the member's pages show it live (the stream) and keep it in the inbox. ``read_at`` is the
    one column the web layer writes (the member marking it read).

    Example: B's gift pack pays A a 100.00 direct reward in transaction 7 (into pending) ->
    ``MemberNotice(transaction_id=7, member="A", kind="direct_reward", amount=10000, order="o1", source="B")``.
    """

    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="notices")
    member = models.CharField(max_length=64)
    kind = models.CharField(max_length=64, help_text="the ledger rule that moved the money")
    plan = models.CharField(max_length=64, blank=True)
    amount = models.BigIntegerField(help_text="fen that arrived (or were released), always above zero")
    book = models.CharField(max_length=64, help_text="the book the money arrived in (the largest credit)")
    order = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=64, blank=True, help_text="the member whose purchase caused it")
    ref = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(help_text="the event's instant (the transaction's)")
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["transaction", "member"], name="one_notice_per_credit")]
        indexes = [models.Index(fields=["member", "-id"], name="notice_member_newest"),
                   models.Index(fields=["member", "id"], condition=models.Q(read_at__isnull=True),
                                name="notice_member_unread")]


class DailyFigure(models.Model):
    """One of the shop's figures on one business day (the shop's time zone): sales, refunds, a plan's rewards by
    rule, the change of the pools and of the members' books, what members owe, joins and ranks reached. Written by
    the worker in the same database transaction as the entries (``service.daily_figures``), built for the events
    applied before by migration 0011, compared by ``liandong verify``; the back office's dashboard reads these rows
    instead of the ledger.

    Example: on 2026-03-01 two gift packs of 699.00 are paid and one refunded ->
    ``DailyFigure(day=2026-03-01, figure="sales", plan="", key="", amount=139800, count=2)`` and
    ``DailyFigure(day=2026-03-01, figure="refunds", plan="", key="", amount=69900, count=1)``.
    """

    day = models.DateField(help_text="the business day, in the shop's time zone")
    figure = models.CharField(max_length=32)
    plan = models.CharField(max_length=64, blank=True)
    key = models.CharField(max_length=64, blank=True, help_text="a rule, a rank or a book")
    amount = models.BigIntegerField(default=0, help_text="fen")
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "figure", "plan", "key"], name="one_daily_figure")]
        indexes = [models.Index(fields=["figure", "day"], name="daily_figure_by_figure")]


class LiabilityDay(models.Model):
    """The proof of liabilities of one closed business day (``service.liabilities``, docs/proof-of-liabilities.md):
    the root of the Merkle sum tree over what the shop owed every member right after the day's close, and the root's
    sums (fen; ``debt`` apart, never netted). Written by the worker in the same database transaction as the close,
    once per day (a day closed again keeps its first proof). Append-only, like the ledger (migration 0012).

    Example: two members, A with 100.00 available, B owing 20.00 with 5.00 pending -> ``members=2,
    available=10000, pending=500, debt=2000`` (the shop owes 105.00) and the root's hash."""

    day = models.DateField(unique=True)
    root = models.CharField(max_length=64, help_text="the tree's root hash, hex")
    members = models.IntegerField(help_text="the leaves: every member at the close")
    available = models.BigIntegerField()
    pending = models.BigIntegerField()
    help_fund = models.BigIntegerField()
    withdrawing = models.BigIntegerField()
    locked_fund = models.BigIntegerField()
    other = models.BigIntegerField(help_text="the members' other money books (a module's own), fen")
    points = models.BigIntegerField(help_text="the members' points at the close's NAV, fen")
    debt = models.BigIntegerField(help_text="what members owe the shop (negative balances), never netted")
    position = models.BigIntegerField(help_text="the log position of the close_day event")
    closed_at = models.DateTimeField(help_text="the close's instant")

    class Meta:
        ordering = ["-day"]


class LiabilityLeaf(models.Model):
    """One member's leaf of a day's tree: its salt and amounts (fen), from which the page rebuilds the tree and
    serves the member its path. Append-only (migration 0012)."""

    day = models.DateField()
    member = models.CharField(max_length=64)
    salt = models.CharField(max_length=64, help_text="HMAC-SHA256(secret, day and member), hex")
    available = models.BigIntegerField()
    pending = models.BigIntegerField()
    help_fund = models.BigIntegerField()
    withdrawing = models.BigIntegerField()
    locked_fund = models.BigIntegerField()
    other = models.BigIntegerField()
    points = models.BigIntegerField()
    debt = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "member"], name="one_liability_leaf_per_day")]


class ReferralCount(models.Model):
    """How many members a member referred (``referrals``) and how many are in its whole referral subtree
    (``descendants``, itself excluded), as the engine counts them at each join and re-parenting
    (``Member.descendants``), and how many members have it as their team (``team_size``, chain21's capability).
    Written by the worker for the members whose counts a batch changed; a member with no row has referred nobody
    and leads nobody. The back office's referral tree and team read it instead of counting a subtree or a team.

    Example: A referred B and C, and B referred D -> ``ReferralCount(member="A", referrals=2, descendants=3)``
    (and ``team_size=3`` once A is a partner leading all three).
    """

    member = models.CharField(max_length=64, unique=True)
    referrals = models.IntegerField(default=0)
    descendants = models.IntegerField(default=0)
    team_size = models.IntegerField(default=0, help_text="members whose team it is (chain21's team_size)")


class MemberHistory(models.Model):
    """What happened to a member's rank, referrer and bindings, one row per engine fact (``service.member_history``):
    ``rank_gained`` (a first gift pack: agent), ``promoted``, ``rank_lost``, ``bound`` (a distribution binding: the
    promoter, the channel, the promoter before), ``reparented`` (the operator's move: from, to, why),
    ``promoter_approved``, ``promoter_rejected``, ``promoter_revoked``. Written by the worker with the batch's
    outcomes; the back office's member page reads it newest first.

    Example: B opens P's poster at 10:00 (event 41) -> ``MemberHistory(member="B", position=41, kind="bound",
    detail={"promoter": "P", "via": "poster", "previous": None})``.
    """

    member = models.CharField(max_length=64)
    position = models.BigIntegerField(help_text="the event's position in the log")
    at = models.DateTimeField(help_text="the event's instant")
    kind = models.CharField(max_length=32)
    detail = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["member", "id"], name="history_member_order")]
# --- leaderboards (排行榜): kept by the worker, read by the members' /leaderboards (service.leaderboards) -----------


class LeaderboardFigure(models.Model):
    """A member's running figure on one board for one period: ``board`` commission (fen of reward rules credited,
    less reversals), sales (fen of its bound buyers' orders, less refunds) or invites (members who joined with it as
    the referrer); ``period`` day, week, month or all, with ``bucket`` its day (``2026-03-01``), the Monday of its
    ISO week (``2026-W09`` as ``2026-02-23``), its month (``2026-03``) or ``all``, in the shop's time zone.

    ``precedence`` is minus the log position of the event that last changed the figure: of two equal figures the
    one reached first (the larger precedence) ranks higher, so the index on (board, period, bucket, figure,
    precedence) serves both the top N (read backwards) and a member's rank (one count of the rows ahead of it).
    """

    board = models.CharField(max_length=16)
    period = models.CharField(max_length=8)
    bucket = models.CharField(max_length=10)
    member = models.CharField(max_length=64)
    figure = models.BigIntegerField(default=0)
    precedence = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["board", "period", "bucket", "member"],
                                               name="one_leaderboard_figure")]
        indexes = [models.Index(fields=["board", "period", "bucket", "figure", "precedence"],
                                name="leaderboard_rank")]


class LeaderboardSetting(models.Model):
    """The operator's choices for the leaderboards: ``hide_names`` shows members by their initials only."""

    id = models.SmallIntegerField(primary_key=True, default=1)
    hide_names = models.BooleanField(default=False)
    top = models.PositiveSmallIntegerField(default=20, help_text="how many members a board shows")


class LeaderboardTally(models.Model):
    """How many ranked members (figure above zero) a board's bucket holds at each figure, per block of precedence
    (``precedence // 2**22``, floor: about four million log positions): a member's rank is the tally above its
    (figure, block) plus the rows of its own figure and block ahead of it, so the count never walks a million rows
    (``service.leaderboards.rank_of``). Kept by the worker with the figures, in the same transaction
    (``service.leaderboards.write``)."""

    board = models.CharField(max_length=16)
    period = models.CharField(max_length=8)
    bucket = models.CharField(max_length=10)
    figure = models.BigIntegerField()
    block = models.BigIntegerField()
    members = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["board", "period", "bucket", "figure", "block"],
                                               name="one_leaderboard_tally")]


class ContestNotice(models.Model):
    """A team contest's standings at a day's close, kept for each member of its teams (the engine's fact
    ``contest_day_standings``, ``engine/plans/contests.py``), written by the worker with the close's batch and shown
    on the member's contest pages. ``standings``: ``[{"rank": 1, "team": "red", "name": "红队", "figure": "300.00"},
    …]`` as the engine read them; ``team`` is the member's."""

    member = models.CharField(max_length=64)
    contest = models.CharField(max_length=64)
    day = models.DateField(help_text="the business day closed")
    team = models.CharField(max_length=32)
    standings = models.JSONField(default=list)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "contest", "day"], name="one_contest_notice")]
        indexes = [models.Index(fields=["member", "-id"], name="contest_notice_newest")]
