"""The charting library the dashboard draws with, served by the project (no CDN): Plotly's ``plotly.min.js``, the
copy the ``plotly`` Python package ships (pinned in pyproject.toml; the simulator's reports use the same package).

A static files finder (``STATICFILES_FINDERS``) that finds exactly that one file as ``office/vendor/plotly.min.js``:
WhiteNoise serves it from the installed package (``WHITENOISE_USE_FINDERS``), ``collectstatic`` copies it, and no
copy of it is kept in the repository.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_JS = "office/vendor/plotly.min.js"
PLOTLY_DIR = Path(plotly.__file__).parent / "package_data"


class PlotlyFinder(BaseFinder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=PLOTLY_DIR)
        self.storage.prefix = "office/vendor"  # type: ignore[attr-defined]  # (as FileSystemFinder sets it)

    def check(self, **kwargs: Any) -> list[Any]:
        return []

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> Any:  # str | None, or a list
        many = find_all or kwargs.get("all", False)
        if path == PLOTLY_JS and (PLOTLY_DIR / "plotly.min.js").is_file():
            found = str(PLOTLY_DIR / "plotly.min.js")
            return [found] if many else found
        return [] if many else None

    def list(self, ignore_patterns: Any) -> Iterator[tuple[str, FileSystemStorage]]:
        yield "plotly.min.js", self.storage
