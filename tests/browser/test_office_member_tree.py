"""The back office's member page in Chromium: the referral tree opens a level at a time (``office/members.js``
fetching each node's fragment when its ``<details>`` opens), without an error on the page."""

from __future__ import annotations

import pytest
from api_client import Caller
from django.test import Client
from live_pages import Live
from office_client import office_user

from every_page import DemoShop, build_demo_shop
from liandong.service.store.models import MemberState


@pytest.fixture
def demo_shop(live: Live, office_roles: None) -> DemoShop:
    return build_demo_shop()


def test_the_referral_tree_opens_one_level_at_a_time(live: Live, demo_shop: DemoShop) -> None:
    ann = demo_shop.ann.member
    referrals = list(MemberState.objects.filter(referrer=ann).order_by("join_index").values_list("member", flat=True))
    assert referrals
    owner = Caller(Client(), user=office_user("olive", "owner"))
    opened = live.open(owner, f"/office/members/{ann}", "en")
    tree = opened.page.locator(f'details.member-tree[data-lazy="/office/members/{ann}/tree"]')
    assert tree.locator("ul.member-level").count() == 0  # nothing loaded before it opens
    tree.locator("summary").first.click()
    opened.page.wait_for_selector(f'ul.member-level[data-of="{ann}"] > li')
    shown = tree.locator(f'ul.member-level[data-of="{ann}"] > li').evaluate_all(
        "items => items.map(li => li.dataset.member)")
    assert shown == referrals[:50]
    deeper = [m for m in referrals if MemberState.objects.filter(referrer=m).exists()]
    if deeper:  # a referral with referrals of its own opens its level in place
        node = tree.locator(f'li[data-member="{deeper[0]}"] > details')
        node.locator("summary").first.click()
        opened.page.wait_for_selector(f'ul.member-level[data-of="{deeper[0]}"] > li')
    assert opened.problems == [], opened.problems
