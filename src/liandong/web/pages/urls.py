"""The members' pages, at the shop's root."""

from django.urls import path

from .views import accounts, earnings, inbox, me, poster, shop, team, withdraw

app_name = "pages"

urlpatterns = [
    path("", shop.home, name="home"),
    path("products/<str:sku>", shop.product, name="product"),
    path("orders", shop.orders, name="orders"),
    path("orders/<str:order>", shop.order, name="order"),
    path("join/<str:code>", accounts.join, name="join"),
    path("register", accounts.register, name="register"),
    path("login", accounts.login_page, name="login"),
    path("logout", accounts.logout_page, name="logout"),
    path("me", me.me, name="me"),
    path("me/poster", poster.poster_page, name="poster"),
    path("me/poster.png", poster.poster_image, name="poster_png"),
    path("team", team.team, name="team"),
    path("earnings", earnings.earnings, name="earnings"),
    path("earnings/bill", earnings.bill, name="earnings_bill"),
    path("earnings/statement.csv", earnings.statement_csv, name="statement_csv"),
    path("withdraw", withdraw.withdraw, name="withdraw"),
    path("inbox", inbox.inbox, name="inbox"),
]

# 积分 and 分销 (the points and distribution pages; each shows a "not run here" page when its plan does not run)
from .views import distribution, points  # noqa: E402

urlpatterns += [
    path("points", points.points, name="points"),
    path("distribution", distribution.distribution, name="distribution"),
]

# the public draw page of a campaign (no login) and its record for `liandong verify-draw`
from .views import draws  # noqa: E402

urlpatterns += [
    path("draws/<str:campaign>", draws.draw, name="draw"),
    path("draws/<str:campaign>/record.json", draws.draw_record, name="draw_record"),
]

# the campaign pages: the shop's campaigns, a campaign's rules and groups, a group live (docs/campaign-pages.md)
from .views import blind_box, campaigns  # noqa: E402

urlpatterns += [
    path("campaigns", campaigns.campaigns, name="campaigns"),
    path("campaigns/offers/<str:offer>", blind_box.offer_page, name="blind_box_offer"),
    path("campaigns/<str:campaign>", campaigns.campaign, name="campaign"),
    path("campaigns/<str:campaign>/groups/<str:group>", campaigns.group, name="group"),
    path("campaigns/<str:campaign>/groups/<str:group>/poster.png", campaigns.group_poster, name="group_poster"),
]

# the public proof of liabilities (no login) and a member's inclusion path for `liandong verify-liabilities`
from .views import liabilities  # noqa: E402

urlpatterns += [
    path("liabilities", liabilities.liabilities, name="liabilities"),
    path("liabilities/proof.json", liabilities.liabilities_proof, name="liabilities_proof"),
    path("liabilities/roots.json", liabilities.liabilities_roots, name="liabilities_roots"),
]

# 排行榜 and 战队PK: the leaderboards, the team contests and a contest's live standings (views/leaderboards.py)
from .views import leaderboards  # noqa: E402

urlpatterns += [
    path("leaderboards", leaderboards.leaderboards, name="leaderboards"),
    path("contests", leaderboards.contests, name="contests"),
    path("contests/<str:contest>", leaderboards.contest, name="contest"),
    path("contests/<str:contest>/standings", leaderboards.contest_standings, name="contest_standings"),
]
