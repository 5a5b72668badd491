"""URLs: the members' pages at the root, the REST API under /api/ (OpenAPI at /api/docs), the operators' back office
under /office/, the Django admin (raw data) under /admin/, the language switch under /i18n/."""

from django.contrib import admin
from django.urls import include, path

from .api.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("office/", include("liandong.web.office.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("liandong.web.pages.urls")),
]
