"""The table of every member page (tests/every_page.py) names every url of the pages: a new page cannot escape the
language walk (tests/web/test_pages_i18n.py) and the screenshots (tests/browser/test_page_screenshots.py)."""

from __future__ import annotations

from django.urls import URLPattern

from every_page import PAGES
from liandong.web.pages import urls


def test_every_url_name_of_the_pages_is_in_the_table() -> None:
    names = {p.name for p in urls.urlpatterns if isinstance(p, URLPattern) and p.name}
    assert len(names) == len(urls.urlpatterns)  # every page has a name
    assert sorted(names - PAGES.keys()) == [], "add these pages to tests/every_page.py"
    assert sorted(PAGES.keys() - names) == [], "these pages are gone: remove them from tests/every_page.py"
