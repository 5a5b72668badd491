"""The page tests' client: a page as (status, HTML) in a language, and a member's logged-in browser session."""

from __future__ import annotations

from api_client import Caller
from django.test import Client


def page(client: Client, path: str, lang: str = "zh-hans") -> tuple[int, str]:
    r = client.get(path, HTTP_ACCEPT_LANGUAGE=lang)
    return r.status_code, r.content.decode()


def logged_in(caller: Caller) -> Client:
    """A session of ``caller``'s user (as after the login page; the login limits have their own tests)."""
    client = Client()
    client.force_login(caller.user)
    return client
