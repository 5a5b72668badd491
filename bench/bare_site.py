"""Settings for ``bench/api.py``'s web server: the service's own settings, plus one bare view (``bare_urls``).

Used only by the benchmark: ``DJANGO_SETTINGS_MODULE=bare_site`` with ``bench/`` on ``PYTHONPATH``.
"""

from liandong.web.settings import *  # noqa: F403

ROOT_URLCONF = "bare_urls"
