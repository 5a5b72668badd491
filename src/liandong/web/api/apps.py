from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "liandong.web.api"
    label = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        from . import request_cache

        request_cache.connect()
