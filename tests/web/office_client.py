"""The back-office tests' helpers: an office user of a role (made by the ``office_user`` command, as an operator
would), its logged-in browser, a form's posted key, and the page's rows."""

from __future__ import annotations

import os
import re
import secrets
from html import unescape

from api_client import PASSWORD
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

ROLES = ("owner", "operator", "finance", "read-only")


def ensure_office_roles() -> None:
    """The back office's roles (groups holding their permissions, ``accounts.models.OFFICE_ROLES``) made again when
    missing: the migration makes them once, and the flush after an earlier transactional test (a live server's, a
    worker thread's) removed them."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    from liandong.web.accounts.models import OFFICE_ROLES

    create_permissions(apps.get_app_config("accounts"), verbosity=0)
    for name, codenames in OFFICE_ROLES.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(content_type__app_label="accounts", codename__in=codenames))


def office_user(username: str, role: str) -> User:
    """A back-office login of ``role`` (password ``PASSWORD``), through ``liandong manage office_user``."""
    ensure_office_roles()
    os.environ["LIANDONG_TEST_OFFICE_PASSWORD"] = PASSWORD
    try:
        call_command("office_user", username, "--role", role, "--password-env", "LIANDONG_TEST_OFFICE_PASSWORD")
    finally:
        del os.environ["LIANDONG_TEST_OFFICE_PASSWORD"]
    return User.objects.get(username=username)


def office_browser(role: str, username: str | None = None) -> Client:
    """A browser logged in to the back office as a new user of ``role`` (named after it unless ``username``)."""
    client = Client()
    client.force_login(office_user(username or role.replace("-", ""), role))
    return client


def key() -> str:
    return secrets.token_hex(16)


def post(client: Client, path: str, lang: str = "en", **fields: str | list[str]) -> tuple[int, str]:
    """Submit a back-office form (a fresh key unless ``key`` is given), follow the redirect: status and page."""
    data: dict[str, str | list[str]] = {"key": key(), **fields}
    r = client.post(path, data, follow=True, HTTP_ACCEPT_LANGUAGE=lang)
    return r.status_code, r.content.decode()


def messages_of(html: str) -> list[tuple[str, str]]:
    """The page's messages: (kind, text)."""
    return [(kind, unescape(re.sub(r"<[^>]+>", "", text)).strip())
            for kind, text in re.findall(r'<p class="notice[^"]*" data-message="([a-z]+)">(.*?)</p>', html, re.S)]


def row_of(html: str, attribute: str, value: str) -> str:
    """The table row whose ``data-<attribute>`` is ``value``."""
    found = re.search(rf'<tr data-{attribute}="{re.escape(value)}".*?</tr>', html, re.S)
    assert found is not None, f"no row {attribute}={value}"
    return found.group(0)


def cell(row: str, name: str) -> str:
    found = re.search(rf'data-cell="{name}"[^>]*>(.*?)</', row, re.S)
    assert found is not None, f"no cell {name}"
    return unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()
