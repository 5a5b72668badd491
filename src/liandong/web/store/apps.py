from django.apps import AppConfig


class StoreConfig(AppConfig):
    name = "liandong.web.store"
    label = "store"
    verbose_name = "Event log and ledger"
