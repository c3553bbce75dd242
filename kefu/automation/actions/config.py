"""Saving triggers, time rules, macros, canned responses and webhooks (create, edit,
deactivate — nothing is deleted), with the validation that gives admins clear errors."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kefu.accounts.access import require_admin, require_staff
from kefu.accounts.models import Group, User
from kefu.audit.actions import changes_for, record
from kefu.automation import outgoing
from kefu.automation.access import may_manage, may_share
from kefu.automation.actions.schedule import reschedule_rule
from kefu.automation.models import (
    CannedResponse,
    Macro,
    Match,
    TimeRule,
    Trigger,
    TriggerEvent,
    Visibility,
    Webhook,
    WebhookEvent,
)
from kefu.automation.placeholders import validate_template
from kefu.automation.rules import FIELD_ACTIONS, normalise_actions, normalise_conditions
from kefu.tickets.models import State

MACRO_ACTIONS = FIELD_ACTIONS
ADMINS_ONLY = gettext_noop("Only administrators change triggers, time rules and webhooks.")


def _name(value: Any, field: str = "name", max_length: int = 120) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise ValidationError({field: _("This field is required.")})
    if len(text) > max_length:
        raise ValidationError({field: _("At most %(n)s characters.") % {"n": max_length}})
    return text


def _unique_name(model, name: str, instance, field: str = "name") -> None:
    clash = model.objects.filter(**{f"{field}__iexact": name})
    if instance is not None and instance.pk:
        clash = clash.exclude(pk=instance.pk)
    if clash.exists():
        raise ValidationError({field: _("%(name)s is already taken.") % {"name": name}})


def _apply(instance, fields: dict[str, Any]) -> dict[str, list[Any]]:
    """Set ``fields`` on ``instance``; returns what changed, for the audit entry."""
    changes = changes_for(instance, fields)
    for key, value in fields.items():
        setattr(instance, key, value)
    return changes


def _record_saved(actor: User, kind: str, instance, is_new: bool, changes: dict) -> None:
    record(actor, f"{kind}.created" if is_new else f"{kind}.updated", instance, changes)


# --- triggers -------------------------------------------------------------------------------


@transaction.atomic
def save_trigger(actor: User, trigger: Trigger | None = None, **fields: Any) -> Trigger:
    """Create (``trigger=None``) or change a trigger; ``fields`` as on the model."""
    require_admin(actor, _(ADMINS_ONLY))
    trigger = trigger or Trigger()
    is_new = trigger.pk is None
    if "name" in fields:
        fields["name"] = _name(fields["name"])
        _unique_name(Trigger, fields["name"], trigger)
    if "events" in fields:
        events = list(dict.fromkeys(fields["events"] or []))
        if not events or set(events) - set(TriggerEvent.values):
            raise ValidationError(
                {
                    "events": _("Choose when the trigger runs: %(allowed)s")
                    % {"allowed": ", ".join(TriggerEvent.values)}
                }
            )
        fields["events"] = events
    if "match" in fields and fields["match"] not in Match.values:
        raise ValidationError({"match": _("Choose all or any.")})
    if "conditions" in fields:
        fields["conditions"] = normalise_conditions(fields["conditions"] or [])
    if "actions" in fields:
        fields["actions"] = normalise_actions(fields["actions"] or [])
    changes = _apply(trigger, fields)
    if not trigger.name or not trigger.events or not trigger.actions:
        raise ValidationError(_("A trigger needs a name, when it runs, and an action."))
    trigger.last_error = "" if "actions" in fields else trigger.last_error
    trigger.save()
    _record_saved(actor, "trigger", trigger, is_new, changes)
    return trigger


# --- time rules -----------------------------------------------------------------------------


@transaction.atomic
def save_time_rule(actor: User, rule: TimeRule | None = None, **fields: Any) -> TimeRule:
    require_admin(actor, _(ADMINS_ONLY))
    rule = rule or TimeRule()
    is_new = rule.pk is None
    if "name" in fields:
        fields["name"] = _name(fields["name"])
        _unique_name(TimeRule, fields["name"], rule)
    if "state" in fields and fields["state"] not in State.values:
        raise ValidationError({"state": _("Choose a state.")})
    if "delay" in fields:
        delay = fields["delay"]
        if not isinstance(delay, int) or not 1 <= delay <= 10000:
            raise ValidationError({"delay": _("Enter a whole number between 1 and 10000.")})
    if "unit" in fields and fields["unit"] not in ("hours", "days"):
        raise ValidationError({"unit": _("Choose hours or days.")})
    if "conditions" in fields:
        fields["conditions"] = normalise_conditions(fields["conditions"] or [], with_changes=False)
    if "actions" in fields:
        fields["actions"] = normalise_actions(fields["actions"] or [])
    changes = _apply(rule, fields)
    if not rule.name or not rule.state or not rule.delay or not rule.actions:
        raise ValidationError(_("A time rule needs a name, a state, a time and an action."))
    rule.save()
    reschedule_rule(rule)
    _record_saved(actor, "time_rule", rule, is_new, changes)
    return rule


# --- macros and canned responses ------------------------------------------------------------


def _sharing(actor: User, item, fields: dict[str, Any]) -> None:
    visibility = fields.get("visibility", item.visibility)
    group = fields.get("group", item.group if item.group_id else None)
    if visibility not in Visibility.values:
        raise ValidationError({"visibility": _("Choose who can use it.")})
    if visibility == Visibility.GROUP:
        if group is None:
            raise ValidationError({"group": _("Choose the group whose members use it.")})
        if not isinstance(group, Group):
            raise ValidationError({"group": _("Choose a group.")})
    else:
        group = None
    if not may_share(actor, visibility, group.pk if group else None):
        raise PermissionDenied(
            _("Only administrators share with everyone; supervisors share with their groups.")
        )
    if item.pk and not may_manage(actor, item):
        raise PermissionDenied(_("You can use this but not change it."))
    fields["visibility"], fields["group"] = visibility, group
    if visibility == Visibility.PERSONAL:
        # A personal item stays its owner's; it becomes the actor's when made personal by them.
        fields["owner"] = (
            item.owner if item.pk and item.visibility == Visibility.PERSONAL else actor
        )
    elif not item.pk:
        fields["owner"] = actor


@transaction.atomic
def save_macro(actor: User, macro: Macro | None = None, **fields: Any) -> Macro:
    require_staff(actor)
    macro = macro or Macro()
    is_new = macro.pk is None
    if "name" in fields:
        fields["name"] = _name(fields["name"])
    if "actions" in fields:
        fields["actions"] = normalise_actions(
            fields["actions"] or [], allowed=MACRO_ACTIONS, required=False, allow_me=True
        )
    if "reply_body" in fields:
        fields["reply_body"] = validate_template(
            str(fields["reply_body"] or "").strip(), field="reply_body"
        )
    _sharing(actor, macro, fields)
    changes = _apply(macro, fields)
    if not macro.name:
        raise ValidationError({"name": _("This field is required.")})
    if not macro.actions and not macro.reply_body:
        raise ValidationError(_("A macro needs a change or a reply."))
    macro.save()
    _record_saved(actor, "macro", macro, is_new, changes)
    return macro


@transaction.atomic
def save_canned_response(
    actor: User, item: CannedResponse | None = None, **fields: Any
) -> CannedResponse:
    require_staff(actor)
    item = item or CannedResponse()
    is_new = item.pk is None
    if "title" in fields:
        fields["title"] = _name(fields["title"], "title", 160)
    if "body" in fields:
        body = str(fields["body"] or "").strip()
        if not body:
            raise ValidationError({"body": _("This field is required.")})
        fields["body"] = validate_template(body, field="body")
    _sharing(actor, item, fields)
    changes = _apply(item, fields)
    if not item.title or not item.body:
        raise ValidationError(_("A canned response needs a title and a text."))
    item.save()
    _record_saved(actor, "canned_response", item, is_new, changes)
    return item


# --- webhooks -------------------------------------------------------------------------------


@transaction.atomic
def save_webhook(actor: User, hook: Webhook | None = None, **fields: Any) -> Webhook:
    """``secret``: empty or missing keeps the current one (a new webhook gets a random one)."""
    require_admin(actor, _(ADMINS_ONLY))
    hook = hook or Webhook()
    is_new = hook.pk is None
    if "name" in fields:
        fields["name"] = _name(fields["name"])
        _unique_name(Webhook, fields["name"], hook)
    if "url" in fields:
        url = str(fields["url"] or "").strip()
        try:
            outgoing.check_url(url)
        except outgoing.WebhookRefused as refused:
            raise ValidationError({"url": str(refused)}) from None
        if len(url) > 500:
            raise ValidationError({"url": _("At most %(n)s characters.") % {"n": 500}})
        fields["url"] = url
    if "events" in fields:
        events = list(dict.fromkeys(fields["events"] or []))
        if set(events) - set(WebhookEvent.values):
            raise ValidationError(
                {
                    "events": _("Unknown event; use: %(allowed)s")
                    % {"allowed": ", ".join(WebhookEvent.values)}
                }
            )
        fields["events"] = events
    secret = fields.pop("secret", None)
    changes = _apply(hook, fields)
    if secret:
        if len(secret) < 16:
            raise ValidationError({"secret": _("Use a secret of at least 16 characters.")})
        if is_new or secret != hook.secret:
            # Only that it changed: ``record`` masks the value of any "secret" key.
            changes["secret"] = [not is_new, True]
        hook.secret = secret
    elif not hook.secret_encrypted:
        changes["secret"] = [False, True]
        hook.secret = secrets.token_urlsafe(32)
    if not hook.name or not hook.url:
        raise ValidationError(_("A webhook needs a name and a URL."))
    hook.save()
    _record_saved(actor, "webhook", hook, is_new, changes)
    return hook
