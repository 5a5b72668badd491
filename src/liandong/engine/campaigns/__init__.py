"""Campaign modules: group-buy lottery, pre-sale rebate, red-envelope group, blind box."""
