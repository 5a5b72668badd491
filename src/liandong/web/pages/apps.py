from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "liandong.web.pages"
    label = "pages"
    verbose_name = "Member pages"
