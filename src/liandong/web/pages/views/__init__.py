"""The members' pages, one module per part of the shop (accounts, shop, me, team, earnings, …)."""
