"""(being built)"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .common import member_page


@member_page
def inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/base.html", {"tab": "inbox"})
