"""Writes to users, groups, memberships and API tokens; each administrative change is audited
(``kefu.audit.actions.record``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from kefu.accounts import events
from kefu.accounts.access import require_admin, require_staff
from kefu.accounts.models import Access, ApiToken, Group, Membership, Role, User, hash_token
from kefu.audit.actions import changes_for, record
from kefu.lib.errors import BusinessRuleError
from kefu.lib.unique import insert_new


def _require_admin(actor: User | None) -> None:
    # ``None`` is the operator at the command line, who has the machine and so every right.
    require_admin(actor, _("Only administrators manage users and groups."))


@transaction.atomic
def get_or_create_group(actor: User | None, name: str) -> Group:
    _require_admin(actor)
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"group": _("The group needs a name.")})
    group, created = Group.objects.get_or_create(name=name)
    if created and not Group.objects.filter(is_default=True).exists():
        Group.objects.filter(pk=group.pk).update(is_default=True)
        group.is_default = True
    if created:
        record(actor, "group.created", group, {"name": [None, name]})
    return group


@transaction.atomic
def set_escalation_group(actor: User | None, group: Group, escalation_group: Group | None) -> Group:
    """Name where SLA escalations move ``group``'s tickets (``None``: nowhere)."""
    _require_admin(actor)
    if escalation_group is not None:
        seen = {group.pk}
        current: Group | None = escalation_group
        while current is not None:
            if current.pk in seen:
                raise ValidationError(
                    {"escalation_group": _("Escalation groups must not form a loop.")}
                )
            seen.add(current.pk)
            current = current.escalation_group
    changes = changes_for(group, {"escalation_group": escalation_group})
    group.escalation_group = escalation_group
    group.save(update_fields=["escalation_group"])
    if changes:
        record(actor, "group.updated", group, changes)
    return group


@transaction.atomic
def create_user(
    actor: User | None,
    *,
    email: str,
    name: str,
    role: str,
    password: str | None = None,
    groups: list[tuple[Group, str]] = (),  # type: ignore[assignment]
    language: str = "",
) -> User:
    if role == Role.CUSTOMER and actor is not None and actor.is_staff_member:
        pass  # staff invite customers to the portal
    else:
        _require_admin(actor)
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(
            {"email": _("%(value)s is not a valid e-mail address.") % {"value": email}}
        ) from None
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role %(value)s.") % {"value": role}})
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("A user with this e-mail exists already.")})
    name = " ".join((name or "").split()) or email.split("@")[0]
    user = User(email=email, name=name, role=role, language=language)
    if password:
        validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    # The check above may race a concurrent sign-up or invitation with the same address.
    insert_new(
        user,
        lambda: User.objects.filter(email__iexact=email).first(),
        ValidationError({"email": _("A user with this e-mail exists already.")}),
    )
    record(
        actor,
        "user.created",
        user,
        {"email": [None, email], "name": [None, name], "role": [None, role]},
    )
    for group, access in groups:
        set_membership(actor, user, group, access)
    return user


@transaction.atomic
def set_membership(
    actor: User | None, user: User, group: Group, access: str = Access.FULL
) -> Membership:
    _require_admin(actor)
    if access not in Access.values:
        raise ValidationError({"access": _("Access is full or read.")})
    if not user.is_staff_member:
        raise ValidationError({"group": _("Only staff belong to groups.")})
    before = Membership.objects.filter(user=user, group=group).first()
    membership, _created = Membership.objects.update_or_create(
        user=user, group=group, defaults={"access": access}
    )
    if before is None or before.access != access:
        record(
            actor,
            "membership.set",
            user,
            {"group": group.name, "access": [before.access if before else None, access]},
        )
    return membership


@transaction.atomic
def remove_membership(actor: User | None, user: User, group: Group) -> bool:
    """Take ``user`` out of ``group``; their tickets of that group stay assigned (listed on the
    user page), like in any other hand-over."""
    _require_admin(actor)
    removed, _detail = Membership.objects.filter(user=user, group=group).delete()
    if removed:
        record(actor, "membership.removed", user, {"group": group.name})
    return bool(removed)


@transaction.atomic
def set_password(actor: User, user: User, password: str) -> None:
    if actor.pk != user.pk:
        _require_admin(actor)
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    if actor.pk != user.pk:
        record(actor, "user.password_set", user, {"password": ["", "set"]})


@transaction.atomic
def update_preferences(
    actor: User,
    *,
    language: str | None = None,
    time_zone: str | None = None,
    signature: str | None = None,
) -> User:
    from zoneinfo import available_timezones

    from django.conf import settings

    if signature is not None:
        if not actor.is_staff_member:
            raise ValidationError({"signature": _("Only staff sign their replies.")})
        actor.signature = clean_signature(signature)
    if language is not None:
        if language and language not in dict(settings.LANGUAGES):
            raise ValidationError({"language": _("Unknown language.")})
        actor.language = language
    if time_zone is not None:
        if time_zone and time_zone not in available_timezones():
            raise ValidationError({"time_zone": _("Unknown time zone.")})
        actor.time_zone = time_zone
    actor.save(update_fields=["language", "time_zone", "signature"])
    return actor


SIGNATURE_MAX_LENGTH = 2000


def clean_signature(signature: str) -> str:
    """Plain text, trailing spaces and blank edges trimmed (it is appended to replies as is)."""
    lines = [line.rstrip() for line in (signature or "").replace("\r\n", "\n").split("\n")]
    cleaned = "\n".join(lines).strip("\n")
    if len(cleaned) > SIGNATURE_MAX_LENGTH:
        raise ValidationError(
            {
                "signature": _("A signature is at most %(n)s characters.")
                % {"n": SIGNATURE_MAX_LENGTH}
            }
        )
    return cleaned


@transaction.atomic
def create_api_token(
    actor: User | None, user: User, name: str = "", *, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token and return it with its only readable copy of the secret.

    Staff create their own tokens; administrators (and the command line) create anyone's.
    """
    if actor is not None and actor.pk != user.pk:
        _require_admin(actor)
    require_staff(actor, _("Only staff use API tokens."))
    if not user.is_active:
        raise ValidationError({"user": _("The user is deactivated.")})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry date must be in the future.")})
    raw = ApiToken.generate()
    token = ApiToken.objects.create(
        user=user,
        name=" ".join(name.split())[:100],
        token_hash=hash_token(raw),
        prefix=raw[:10],
        expires_at=expires_at,
    )
    record(
        actor,
        "token.created",
        token,
        {"user": user.email, "name": token.name, "expires_at": expires_at},
    )
    return token, raw


@transaction.atomic
def revoke_api_token(actor: User | None, token: ApiToken) -> bool:
    """Revoke a token (its owner or an administrator); ``False`` if it was revoked already."""
    if actor is None or actor.pk != token.user_id:
        _require_admin(actor)
    now = timezone.now()
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    if revoked:
        token.revoked_at = now
        record(actor, "token.revoked", token, {"user": token.user.email, "name": token.name})
    return bool(revoked)


# --- administering users and groups ---------------------------------------------------------

USER_FIELDS = ("name", "role", "language", "time_zone")


@transaction.atomic
def update_user(actor: User | None, user: User, **values: Any) -> User:
    """Change a user's ``name``, ``role``, ``language`` or ``time_zone`` (administrators).

    A change of role between staff and customer is refused: a customer login belongs to a
    contact, a staff account to groups. The last active administrator keeps the role.
    """
    _require_admin(actor)
    unknown = set(values) - set(USER_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    if "name" in values:
        values["name"] = " ".join((values["name"] or "").split())
        if not values["name"]:
            raise ValidationError({"name": _("The user needs a name.")})
    if "role" in values and values["role"] != user.role:
        role = values["role"]
        if role not in Role.values:
            raise ValidationError({"role": _("Unknown role %(value)s.") % {"value": role}})
        if (role == Role.CUSTOMER) != (user.role == Role.CUSTOMER):
            raise ValidationError(
                {"role": _("Staff cannot become customers or customers staff; create a new user.")}
            )
        if user.role == Role.ADMIN and _is_last_admin(user):
            raise BusinessRuleError(_("Keep at least one active administrator."), field="role")
    if "language" in values and values["language"]:
        from django.conf import settings

        if values["language"] not in dict(settings.LANGUAGES):
            raise ValidationError({"language": _("Unknown language.")})
    if values.get("time_zone"):
        from zoneinfo import available_timezones

        if values["time_zone"] not in available_timezones():
            raise ValidationError({"time_zone": _("Unknown time zone.")})
    changes = changes_for(user, values)
    if not changes:
        return user
    for name, (_old, new) in changes.items():
        setattr(user, name, new)
    user.save(update_fields=list(changes))
    record(actor, "user.role_changed" if "role" in changes else "user.updated", user, changes)
    return user


def _is_last_admin(user: User) -> bool:
    return not User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk).exists()


@transaction.atomic
def deactivate_user(
    actor: User | None,
    user: User,
    *,
    reassign_group: Group | None = None,
    reassign_to: User | None = None,
) -> int:
    """Deactivate ``user`` (never deleted: tickets and the timeline keep naming them).

    Their open tickets are handed over only as the administrator chose: to ``reassign_to``
    (an agent who may work each ticket's group, or of ``reassign_group``), or unassigned into
    ``reassign_group``; with neither they stay assigned and the caller shows a warning — the
    hand-over is the tickets app's answer to ``UserDeactivated``. Returns how many open tickets
    were handed over.
    """
    _require_admin(actor)
    if actor is not None and actor.pk == user.pk:
        raise BusinessRuleError(_("You cannot deactivate yourself."))
    if user.role == Role.ADMIN and _is_last_admin(user):
        raise BusinessRuleError(_("Keep at least one active administrator."))
    if reassign_to is not None and (reassign_to.pk == user.pk or not reassign_to.is_active):
        raise ValidationError({"reassign_to": _("Choose another, active staff member.")})
    if reassign_group is not None and not reassign_group.is_active:
        raise ValidationError({"reassign_group": _("Choose an active group.")})
    if not user.is_active:
        return 0
    event = events.UserDeactivated(
        actor=actor, user=user, reassign_group=reassign_group, reassign_to=reassign_to
    )
    events.publish(event)
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    record(
        actor,
        "user.deactivated",
        user,
        {
            "is_active": [True, False],
            **event.report,
            "reassign_group": reassign_group,
            "reassign_to": reassign_to,
        },
    )
    return event.report.get("tickets_handed_over", 0)


@transaction.atomic
def reactivate_user(actor: User | None, user: User) -> User:
    _require_admin(actor)
    if not user.is_active:
        User.objects.filter(pk=user.pk).update(is_active=True)
        user.is_active = True
        record(actor, "user.reactivated", user, {"is_active": [False, True]})
    return user


@transaction.atomic
def invite_user(actor: User | None, user: User) -> None:
    """E-mail ``user`` a link to choose a password (a new invitation replaces older links)."""
    from kefu.accounts.tasks import send_account_email

    _require_admin(actor)
    if not user.is_active:
        raise ValidationError({"user": _("The user is deactivated.")})
    send_account_email.enqueue(user.pk, "account_invitation")
    record(actor, "user.invited", user)


GROUP_FIELDS = ("name", "description", "email", "signature", "is_default")


@transaction.atomic
def save_group(
    actor: User | None,
    group: Group | None = None,
    *,
    escalation_group: Group | None | object = ...,
    **values: Any,
) -> Group:
    """Create (``group=None``) or change a group: ``name``, ``description``, ``email``,
    ``signature``, ``is_default`` and ``escalation_group`` (a Group, ``None`` for none; leave it
    out to keep it). Making a group the default takes the flag from the previous one."""
    _require_admin(actor)
    unknown = set(values) - set(GROUP_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    is_new = group is None
    group = group or Group()
    if "name" in values or is_new:
        values["name"] = " ".join((values.get("name") or "").split())
        if not values["name"]:
            raise ValidationError({"name": _("The group needs a name.")})
        if Group.objects.filter(name__iexact=values["name"]).exclude(pk=group.pk).exists():
            raise ValidationError({"name": _("A group with this name exists already.")})
    if values.get("email"):
        values["email"] = values["email"].strip().lower()
        try:
            validate_email(values["email"])
        except ValidationError:
            raise ValidationError(
                {
                    "email": _("%(value)s is not a valid e-mail address.")
                    % {"value": values["email"]}
                }
            ) from None
    if values.get("is_default") is False and group.is_default:
        raise BusinessRuleError(
            _("Make another group the default instead; one group is always the default."),
            field="is_default",
        )
    if values.get("is_default") and not group.is_active:
        raise BusinessRuleError(_("A deactivated group cannot be the default."), field="is_default")
    changes = changes_for(group, values)
    for name, (_old, new) in changes.items():
        setattr(group, name, new)
    if group.is_default and not group.pk:
        Group.objects.filter(is_default=True).update(is_default=False)
    elif changes.get("is_default"):
        Group.objects.filter(is_default=True).exclude(pk=group.pk).update(is_default=False)
    if is_new and not Group.objects.filter(is_default=True).exists():
        group.is_default = True
    group.save()
    if changes:
        record(actor, "group.created" if is_new else "group.updated", group, changes)
    if escalation_group is not ...:
        set_escalation_group(actor, group, escalation_group)  # type: ignore[arg-type]
    return group


@transaction.atomic
def deactivate_group(actor: User | None, group: Group) -> Group:
    """Deactivate a group (never deleted: its tickets keep naming it). Refused while it is the
    default group or still has open tickets (the tickets app's answer to ``GroupDeactivating``),
    so no ticket is left in a group nobody sees."""
    _require_admin(actor)
    if not group.is_active:
        return group
    if group.is_default:
        raise BusinessRuleError(_("Make another group the default before deactivating this one."))
    events.publish(events.GroupDeactivating(actor=actor, group=group))
    Group.objects.filter(pk=group.pk).update(is_active=False)
    group.is_active = False
    record(actor, "group.deactivated", group, {"is_active": [True, False]})
    return group


@transaction.atomic
def reactivate_group(actor: User | None, group: Group) -> Group:
    _require_admin(actor)
    if not group.is_active:
        Group.objects.filter(pk=group.pk).update(is_active=True)
        group.is_active = True
        record(actor, "group.reactivated", group, {"is_active": [False, True]})
    return group


def password_link_path(user: User) -> str:
    """The path of the set-password page for ``user`` (invitation and reset share it)."""
    from django.urls import reverse

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("accounts:set_password", kwargs={"uidb64": uid, "token": token})


@transaction.atomic
def request_password_reset(email: str, *, ip: str) -> None:
    """Send a reset link if an active user has this address; say nothing either way.

    Throttled per address and per client (``throttle.allow_mail_request``); a throttled request
    sends nothing and looks the same to the requester, so neither reveals whether an account
    exists.
    """
    from kefu.accounts import throttle
    from kefu.accounts.tasks import send_account_email

    if not throttle.allow_mail_request("password-reset", email, ip):
        return
    user = User.objects.filter(email__iexact=(email or "").strip(), is_active=True).first()
    if user is not None:
        send_account_email.enqueue(user.pk, "account_password_reset")
