"""The back office, under /office/ (namespace ``office``; docs/office.md)."""

from django.urls import path

from .views import (
    audit,
    auth,
    campaigns,
    contests,
    dashboard,
    day_close,
    holds,
    home,
    members,
    offers,
    orders,
    plans,
    promoters,
    reconciliation,
    withdrawals,
)

app_name = "office"

urlpatterns = [
    path("", home.home, name="home"),
    path("login", auth.login_page, name="login"),
    path("logout", auth.logout_page, name="logout"),
    path("withdrawals", withdrawals.queue, name="withdrawals"),
    path("withdrawals/approve", withdrawals.approve_many, name="withdrawals_approve_many"),
    path("withdrawals/payouts.csv", withdrawals.payouts_csv, name="withdrawals_csv"),
    path("withdrawals/<str:withdrawal>/approve", withdrawals.approve, name="withdrawals_approve"),
    path("withdrawals/<str:withdrawal>/reject", withdrawals.reject, name="withdrawals_reject"),
    path("withdrawals/<str:withdrawal>/mark-paid", withdrawals.mark_paid, name="withdrawals_mark_paid"),
    path("promoters", promoters.applications, name="promoters"),
    path("promoters/<str:member>/approve", promoters.approve, name="promoters_approve"),
    path("promoters/<str:member>/reject", promoters.reject, name="promoters_reject"),
    path("audit", audit.audit_log, name="audit"),
    path("campaigns", campaigns.campaign_list, name="campaigns"),
    path("campaigns/new/<str:kind>", campaigns.new_campaign, name="campaigns_new"),
    path("campaigns/offers/<str:offer>", offers.offer_page, name="offer"),
    path("campaigns/offers/<str:offer>/edit", offers.edit, name="offer_edit"),
    path("campaigns/offers/<str:offer>/publish", offers.publish, name="offer_publish"),
    path("campaigns/offers/<str:offer>/retire", offers.retire, name="offer_retire"),
    path("campaigns/<str:campaign>", campaigns.campaign_page, name="campaigns_page"),
    path("campaigns/<str:campaign>/edit", campaigns.edit, name="campaigns_edit"),
    path("campaigns/<str:campaign>/publish", campaigns.publish, name="campaigns_publish"),
    path("campaigns/<str:campaign>/close", campaigns.close, name="campaigns_close"),
    # orders and refunds, the day's close, plan settings (docs/office.md)
    path("orders", orders.orders, name="orders"),
    path("orders/<str:order>", orders.order, name="orders_order"),
    path("orders/<str:order>/refund", orders.refund, name="orders_refund"),
    path("days", day_close.days, name="days"),
    path("days/close", day_close.close, name="days_close"),
    path("plans", plans.plans, name="plans"),
    path("plans/previews/<int:preview>", plans.preview_status, name="plans_preview_status"),
    path("plans/<str:plan>", plans.plan, name="plans_plan"),
    path("plans/<str:plan>/preview", plans.start_preview, name="plans_preview"),
    path("plans/<str:plan>/save", plans.save, name="plans_save"),
    path("dashboard", dashboard.dashboard, name="dashboard"),
    path("reconciliation", reconciliation.reconciliation, name="reconciliation"),  # docs/payments.md
    path("dashboard/<str:chart>.csv", dashboard.chart_csv, name="dashboard_csv"),
    path("promoters/<str:member>/revoke", promoters.revoke, name="promoters_revoke"),
    path("members", members.search, name="members"),
    path("members/<str:member>", members.member, name="members_member"),
    path("members/<str:member>/tree", members.tree, name="members_tree"),
    path("members/<str:member>/team", members.team, name="members_team"),
    path("members/<str:member>/reparent", members.reparent, name="members_reparent"),
    # held rewards (the fraud holds, docs/fraud-holds.md)
    path("holds", holds.holds, name="holds"),
    path("holds/<str:hold>/release", holds.release, name="holds_release"),
    path("holds/<str:hold>/reject", holds.reject, name="holds_reject"),
    path("holds/ban/<str:member>", holds.ban, name="holds_ban"),
]

urlpatterns += [  # team contests and the leaderboards' setting (docs/leaderboards-and-contests.md)
    path("contests", contests.contests, name="contests"),
    path("contests/create", contests.create, name="contests_create"),
    path("contests/board-setting", contests.board_setting, name="contests_board_setting"),
]
