"""URLs: the REST API under /api/ (OpenAPI at /api/docs), the Django admin (operators' back office) under /admin/."""

from django.contrib import admin
from django.urls import path

from .api.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]
