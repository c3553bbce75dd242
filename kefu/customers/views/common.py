"""What the customer pages share: paging, the action error types, and the list filters."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from kefu.lib.errors import BusinessRuleError

ACTION_ERRORS = (ValidationError, BusinessRuleError, PermissionDenied)
PAGE_SIZE = 50


def paginate(request, queryset: QuerySet) -> Page:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )


def querystring_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
