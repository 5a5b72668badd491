"""The Liandong engine: pure Python, deterministic, no Django. ``state + event -> postings + facts``."""

from .core import Engine, Outcome, Product, Shop
from .errors import Code, Refusal
from .events import EVENT_TYPES, Event
from .module import ConfigError

__all__ = ["EVENT_TYPES", "Code", "ConfigError", "Engine", "Event", "Outcome", "Product", "Refusal", "Shop"]
