"""Invite posters (推广海报): a member's shareable PNG with their invite link's QR code (render.py), drawn in the
Noto Sans SC subset shipped in fonts/ (fonts.py; built by scripts/build-poster-font). A plain package, not an app:
a page's view builds an ``InvitePoster`` and answers ``poster_png(poster, cache_dir)`` as image/png."""

from .fonts import covers, drawable
from .render import InvitePoster, PosterProduct, cache_key, poster_png, render_invite_poster

__all__ = ["InvitePoster", "PosterProduct", "cache_key", "covers", "drawable", "poster_png", "render_invite_poster"]
