"""Catalog pages under ``/t/<tenant_slug>/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from catalog import portal

app_name = "catalog"

urlpatterns: list[URLPattern] = [
    path("portal/catalog/", portal.catalog_home, name="portal_catalog"),
    path("portal/catalog/<int:item_id>/", portal.item_detail, name="portal_item"),
    path("portal/catalog/<int:item_id>/form/", portal.item_form, name="portal_item_form"),
]
