"""The audit log page (administrators only)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator

from kefu.audit.access import require_admin_page
from kefu.audit.forms import AuditFilterForm
from kefu.audit.labels import action_label, object_type_label
from kefu.audit.queries import filter_entries, object_types
from kefu.lib.console import render_console

PAGE_SIZE = 50


@login_required
def log(request):
    require_admin_page(request.user)
    form = AuditFilterForm(request.GET or None, object_types=object_types())
    filters = form.cleaned_data if form.is_valid() else {}
    entries = filter_entries(
        actor_id=filters["actor"].pk if filters.get("actor") else None,
        object_type=filters.get("object_type") or "",
        action=filters.get("action") or "",
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
        q=filters.get("q") or "",
    )
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    rows = [
        {
            "entry": entry,
            "action": action_label(entry.action),
            "object_type": object_type_label(entry.object_type),
            "changes": _change_lines(entry.changes),
        }
        for entry in page
    ]
    context = {"form": form, "page": page, "rows": rows, "query": query.urlencode()}
    return render_console(request, "audit/log.html", context)


def _change_lines(changes) -> list[tuple[str, object, object, bool]]:
    """(field, old, new, is_pair) for the template."""
    lines = []
    for name, value in (changes or {}).items():
        if isinstance(value, list) and len(value) == 2:
            lines.append((name, value[0], value[1], True))
        else:
            lines.append((name, None, value, False))
    return lines
