from django.apps import AppConfig
from django.db.backends.signals import connection_created


class StoreConfig(AppConfig):
    name = "liandong.service.store"
    label = "store"
    verbose_name = "Event log and ledger"

    def ready(self) -> None:
        from .guard import register_sqlite_functions

        connection_created.connect(register_sqlite_functions, dispatch_uid="liandong.store.sqlite_functions")
