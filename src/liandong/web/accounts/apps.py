from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "liandong.web.accounts"
    label = "accounts"
    verbose_name = "Members' logins and the operators' audit log"
