"""Members' notices (the inbox and the live stream): being built; the layout asks only for the unread count."""

from __future__ import annotations


def unread_count(member: str) -> int:
    return 0
