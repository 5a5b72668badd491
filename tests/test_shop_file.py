"""The shop file is checked as the engine will take it: a gift pack priced below a reward its plan pays is refused
at load, naming the product and the keys (not logged and then refused by the worker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from liandong.service.shopfile import DEMO_SHOP_FILE, ShopFileError, load_shop_file


def test_a_gift_pack_below_a_reward_is_refused_naming_the_product_and_the_keys(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text('plans: {chain21: {}}\nproducts:\n  - {sku: GIFT, price: "699.00", gift_pack: true}\n'
                    '  - {sku: TRIAL, price: "9.90", gift_pack: true}\n', encoding="utf-8")
    with pytest.raises(ShopFileError) as caught:
        load_shop_file(path)
    assert caught.value.key == "products[1].price"
    assert str(caught.value).endswith("price 9.90: direct_reward.agent 100.00, direct_reward.partner 300.00, "
                                      "team_reward 200.00, self_rebate.agent 100.00, self_rebate.partner 300.00 "
                                      "is more than the price 9.90 of gift pack TRIAL")


def test_the_demo_shop_file_loads() -> None:
    assert [p["sku"] for p in load_shop_file(DEMO_SHOP_FILE).products][:2] == ["GIFT", "GIFT-TEA"]
