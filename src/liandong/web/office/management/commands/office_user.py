"""``liandong office-user NAME --role finance`` (or ``liandong manage office_user …``): create a back-office login
with one role, or change an existing one's role. The password comes from ``--password-env VAR`` (the variable's
value: nothing secret on the command line), else it is asked twice; an existing user keeps its password unless one
is given. A member's login cannot be made an office user (the back office and the member pages keep apart)."""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from ....accounts.models import OFFICE_ROLES, MemberLogin


class Command(BaseCommand):
    help = "Create a back-office user with a role (owner, operator, finance, read-only), or change its role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=list(OFFICE_ROLES))
        parser.add_argument("--password-env", metavar="VAR", help="read the password from this variable")
        parser.add_argument("--name", default=None, help="the name the back office shows (default: the username)")

    def _password(self, options: dict[str, Any], required: bool) -> str | None:
        if options["password_env"]:
            value = os.environ.get(options["password_env"], "")
            if not value:
                raise CommandError(f"--password-env {options['password_env']}: the variable is not set or empty")
            return value
        if not required:
            return None
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("the two passwords differ")
        return first

    def handle(self, *args: Any, **options: Any) -> None:
        username, role = options["username"].strip(), options["role"]
        if not username or len(username) > 150:
            raise CommandError(f"username {username!r}: 1 to 150 characters")
        users = get_user_model().objects
        user = users.filter(username=username).first()
        if user is not None and MemberLogin.objects.filter(user=user).exists():
            raise CommandError(f"username {username!r} is a member's login: choose another for the back office")
        password = self._password(options, required=user is None)
        if password is not None:
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise CommandError(f"password: {' '.join(exc.messages)}") from None
        group = Group.objects.filter(name=role).first()
        if group is None:
            raise CommandError(f"role {role!r}: its group is missing (run `liandong manage migrate`)")
        with transaction.atomic():
            created = user is None
            if user is None:
                user = users.create_user(username=username, password=password)
            elif password is not None:
                user.set_password(password)
            user.is_staff, user.is_active = True, True
            if options["name"] is not None:
                user.first_name = options["name"][:150]
            user.save()
            user.groups.remove(*Group.objects.filter(name__in=OFFICE_ROLES))
            user.groups.add(group)
        what = "created" if created else "updated"
        self.stdout.write(f"office user {username} {what}: role {role}")
