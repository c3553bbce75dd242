"""Who sees and changes automation.

Triggers and time rules: staff read them, administrators change them. Webhooks (URLs, secrets,
delivery payloads): administrators only. Macros and canned responses: personal ones belong to
their owner; shared ones are used by a group's members or by all staff and managed by
administrators (any) and supervisors (their groups'). Customers and anonymous users get 404.
"""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from kefu.accounts.access import (
    group_ids_for,
    is_active_admin,
    is_active_staff,
    require_admin_page,
    require_staff_page,
)
from kefu.accounts.models import User
from kefu.automation.models import (
    CannedResponse,
    Macro,
    TimeRule,
    Trigger,
    Visibility,
    Webhook,
    WebhookDelivery,
)


def require_configurator_page(user: User) -> None:
    require_admin_page(user, _("Only administrators change triggers, time rules and webhooks."))


def can_configure(user: User) -> bool:
    return is_active_admin(user)


M = TypeVar("M", bound=Model)


def _get(queryset: QuerySet[M], pk: int, what: str) -> M:
    try:
        return queryset.get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404(f"No such {what}") from None


def get_trigger_for_user(user: User, pk: int, *, write: bool = False) -> Trigger:
    require_configurator_page(user) if write else require_staff_page(user)
    return _get(Trigger.objects.all(), pk, "trigger")


def get_time_rule_for_user(user: User, pk: int, *, write: bool = False) -> TimeRule:
    require_configurator_page(user) if write else require_staff_page(user)
    return _get(TimeRule.objects.all(), pk, "time rule")


def get_webhook_for_user(user: User, pk: int) -> Webhook:
    require_configurator_page(user)
    return _get(Webhook.objects.all(), pk, "webhook")


def get_delivery_for_user(user: User, webhook: Webhook, pk: int) -> WebhookDelivery:
    require_configurator_page(user)
    return _get(webhook.deliveries.all(), pk, "delivery")


# --- macros and canned responses ------------------------------------------------------------


def usable_filter(user: User) -> Q:
    if user.is_admin:  # administrators work every group's tickets
        return Q(visibility=Visibility.PERSONAL, owner=user) | ~Q(visibility=Visibility.PERSONAL)
    return (
        Q(visibility=Visibility.PERSONAL, owner=user)
        | Q(visibility=Visibility.EVERYONE)
        | Q(visibility=Visibility.GROUP, group_id__in=group_ids_for(user))
    )


def manageable_filter(user: User) -> Q:
    own = Q(visibility=Visibility.PERSONAL, owner=user)
    if user.is_admin:
        return own | ~Q(visibility=Visibility.PERSONAL)
    if user.is_supervisor:
        return own | Q(visibility=Visibility.GROUP, group_id__in=group_ids_for(user))
    return own


S = TypeVar("S", Macro, CannedResponse)


def usable(model: type[Macro] | type[CannedResponse], user: User) -> QuerySet:
    """Active items ``user`` may use on tickets."""
    if not is_active_staff(user):
        return model.objects.none()
    return model.objects.filter(usable_filter(user), is_active=True)


def listable(model: type[Macro] | type[CannedResponse], user: User) -> QuerySet:
    """What the management page lists: usable items plus inactive ones the user manages."""
    if not is_active_staff(user):
        return model.objects.none()
    return model.objects.filter(
        Q(usable_filter(user), is_active=True) | manageable_filter(user)
    ).select_related("owner", "group")


def may_manage(user: User, item: Macro | CannedResponse) -> bool:
    return type(item).objects.filter(manageable_filter(user), pk=item.pk).exists()


def may_share(user: User, visibility: str, group_id: int | None) -> bool:
    if visibility == Visibility.PERSONAL:
        return True
    if user.is_admin:
        return True
    return (
        user.is_supervisor
        and visibility == Visibility.GROUP
        and group_id is not None
        and group_id in group_ids_for(user)
    )


def _get_shared(model: type[S], user: User, pk: int, write: bool, what: str) -> S:
    require_staff_page(user)
    item = _get(listable(model, user), pk, what)
    if write and not may_manage(user, item):
        raise PermissionDenied(_("You can use this but not change it."))
    return item


def get_macro_for_user(user: User, pk: int, *, write: bool = False) -> Macro:
    return _get_shared(Macro, user, pk, write, "macro")


def get_canned_response_for_user(user: User, pk: int, *, write: bool = False) -> CannedResponse:
    return _get_shared(CannedResponse, user, pk, write, "canned response")


def get_usable_macro(user: User, pk: int) -> Macro:
    require_staff_page(user)
    return _get(usable(Macro, user), pk, "macro")
