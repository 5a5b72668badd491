from django.apps import AppConfig


class OfficeConfig(AppConfig):
    name = "liandong.web.office"
    label = "office"
    verbose_name = "Back office"
