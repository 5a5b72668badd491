"""The Liandong engine: pure Python, deterministic, no Django. ``state + event -> postings + facts``."""

import gc

from .core import Engine, Outcome, Product, Shop
from .errors import Code, Refusal
from .events import EVENT_TYPES, Event
from .module import ConfigError


def tune_gc() -> None:
    """Collect cyclic garbage less often. The engine allocates many small objects (transactions, orders, reward
    records) that never form cycles; CPython's default (a young collection every 700 allocations, and full ones that
    walk the whole growing state) spends about a third of a long run on them. Processes that run the engine over
    many events (the worker, the simulator, benchmarks) call this once at start."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(200_000, 50, 1000)


__all__ = ["EVENT_TYPES", "Code", "ConfigError", "Engine", "Event", "Outcome", "Product", "Refusal", "Shop", "tune_gc"]
