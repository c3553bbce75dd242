"""The notifications page, the navigation's badge and dropdown, preferences, group thresholds.

Staff only (customers get a 404, like every console page). Thin views: access helper → form →
action → response; htmx requests get the partials.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts.models import Group
from kefu.lib.console import is_htmx, render_console, staff_console_view
from kefu.lib.pagination import InvalidCursor, keyset_page
from kefu.notifications import actions
from kefu.notifications.access import (
    get_group_for_admin,
    get_notification_for_user,
    require_group_settings_page,
)
from kefu.notifications.forms import GroupWaitingForm, PreferencesForm
from kefu.notifications.mentions import handles, staff_who_can_see
from kefu.notifications.models import GroupWaitingSetting, Notification
from kefu.tickets.access import get_ticket_for_user

PAGE_SIZE = 30
MENU_SIZE = 8


def _inbox(user):
    return Notification.objects.inbox(user).select_related(
        "ticket__contact", "ticket__group", "actor", "event"
    )


@staff_console_view
def notification_list(request):
    show = "unread" if request.GET.get("show") == "unread" else "all"
    rows = _inbox(request.user)
    if show == "unread":
        rows = rows.unread()
    try:
        page = keyset_page(
            rows, order="-created_at", size=PAGE_SIZE, cursor=request.GET.get("after")
        )
    except InvalidCursor:  # a forged or outdated link: start at the first page
        page = keyset_page(rows, order="-created_at", size=PAGE_SIZE)
    context = {
        "notifications": page.rows,
        "show": show,
        "next_cursor": page.next_cursor,
        "unread": actions.unread_count(request.user),
    }
    return render_console(request, "notifications/list.html", context)


@staff_console_view
def menu(request):
    """The dropdown under the bell: the newest few, loaded when it opens."""
    context = {
        "notifications": list(_inbox(request.user)[:MENU_SIZE]),
        "unread": actions.unread_count(request.user),
    }
    return render(request, "notifications/_menu.html", context)


@staff_console_view
def badge(request):
    return render(
        request, "notifications/_badge.html", {"unread": actions.unread_count(request.user)}
    )


@staff_console_view
@require_POST
def read(request, pk: int):
    notification = get_notification_for_user(request.user, pk)
    actions.mark_read(request.user, notification)
    if is_htmx(request):
        return render(request, "notifications/_item.html", {"notification": notification})
    return redirect(request.POST.get("next") or "notifications:list")


@staff_console_view
@require_POST
def open_notification(request, pk: int):
    """Read the notification (and the others about the same ticket), then show the ticket."""
    notification = get_notification_for_user(request.user, pk)
    if notification.ticket is None:
        actions.mark_read(request.user, notification)
        return redirect(notification.link or "notifications:list")
    actions.mark_ticket_read(request.user, notification.ticket)
    return redirect("tickets:detail", pk=notification.ticket_id)


@staff_console_view
@require_POST
def read_all(request):
    marked = actions.mark_all_read(request.user)
    if is_htmx(request):
        return render(request, "notifications/_badge.html", {"unread": 0})
    if marked:
        messages.success(request, _("All notifications are marked as read."))
    return redirect(request.POST.get("next") or "notifications:list")


@staff_console_view
def preferences(request):
    current = actions.preferences_for(request.user)
    form = PreferencesForm(request.POST or None, current=current)
    if request.method == "POST" and form.is_valid():
        actions.update_preferences(request.user, form.choices())
        messages.success(request, _("Your notification settings are saved."))
        return redirect("notifications:preferences")
    return render_console(request, "notifications/preferences.html", {"form": form})


@staff_console_view
def group_settings(request):
    require_group_settings_page(request.user)
    settings_by_group = {
        row.group_id: row.waiting_after_minutes for row in GroupWaitingSetting.objects.all()
    }
    groups = [
        (group, settings_by_group.get(group.pk), actions.waiting_minutes(group))
        for group in Group.objects.filter(is_active=True)
    ]
    return render_console(request, "notifications/groups.html", {"groups": groups})


@staff_console_view
def group_edit(request, pk: int):
    group = get_group_for_admin(request.user, pk)
    setting = GroupWaitingSetting.objects.filter(group=group).first()
    form = GroupWaitingForm(
        request.POST or None,
        initial={"waiting_after_minutes": setting.waiting_after_minutes if setting else None},
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.set_group_waiting_minutes(
                request.user, group, form.cleaned_data["waiting_after_minutes"]
            )
        except ValidationError as error:
            form.add_error("waiting_after_minutes", error.messages)
        else:
            messages.success(request, _("The settings of %(group)s are saved.") % {"group": group})
            return redirect("notifications:groups")
    context = {"form": form, "group": group}
    return render_console(request, "notifications/group_form.html", context)


@staff_console_view
def mention_candidates(request, ticket_pk: int):
    """Who an internal note on this ticket can mention (the note box's autocomplete)."""
    ticket = get_ticket_for_user(request.user, ticket_pk)
    query = request.GET.get("q", "").strip().lower()
    people = []
    for user in staff_who_can_see(ticket).order_by("name")[:200]:
        handle = user.email.split("@")[0]
        if query and not any(query in h for h in handles(user)):
            continue
        people.append({"handle": handle, "name": user.name})
    return JsonResponse({"items": people[:20]})
