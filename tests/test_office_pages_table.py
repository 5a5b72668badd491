"""The table of every back-office page (tests/office_pages.py) names every url of the office: a new office page
cannot escape the screenshots in both languages (tests/browser/test_office_screenshots.py)."""

from __future__ import annotations

from django.urls import URLPattern

from liandong.web.office import urls
from office_pages import OFFICE_PAGES


def test_every_url_name_of_the_office_is_in_the_table() -> None:
    names = {p.name for p in urls.urlpatterns if isinstance(p, URLPattern) and p.name}
    assert len(names) == len(urls.urlpatterns)  # every office page has a name
    assert sorted(names - OFFICE_PAGES.keys()) == [], "add these pages to tests/office_pages.py"
    assert sorted(OFFICE_PAGES.keys() - names) == [], "these pages are gone: remove them from tests/office_pages.py"


def test_the_tables_paths_resolve_to_their_url_names() -> None:
    from django.urls import resolve

    from every_page import DemoShop

    class Ann:
        member = "m-ann"

    shop = DemoShop(order="o-1", campaign="gb-demo", offer=7)
    shop.members["ann"] = Ann()  # type: ignore[assignment]
    for name, entry in OFFICE_PAGES.items():
        if name.startswith("withdrawals_") and name != "withdrawals_csv":
            continue  # its path reads ann's withdrawal from the database
        assert resolve(entry.path(shop).split("?")[0]).url_name == name, name
