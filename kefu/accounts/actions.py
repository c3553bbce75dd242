"""Writes to users, memberships and API tokens."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from kefu.accounts.models import Access, ApiToken, Group, Membership, Role, User, hash_token


def _require_admin(actor: User | None) -> None:
    # ``None`` is the operator at the command line, who has the machine and so every right.
    if actor is not None and actor.role != Role.ADMIN:
        raise PermissionDenied(_("Only administrators manage users and groups."))


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
    group.escalation_group = escalation_group
    group.save(update_fields=["escalation_group"])
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
    user.save()
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
    membership, _created = Membership.objects.update_or_create(
        user=user, group=group, defaults={"access": access}
    )
    return membership


@transaction.atomic
def set_password(actor: User, user: User, password: str) -> None:
    if actor.pk != user.pk:
        _require_admin(actor)
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])


@transaction.atomic
def update_preferences(
    actor: User, *, language: str | None = None, time_zone: str | None = None
) -> User:
    from zoneinfo import available_timezones

    from django.conf import settings

    if language is not None:
        if language and language not in dict(settings.LANGUAGES):
            raise ValidationError({"language": _("Unknown language.")})
        actor.language = language
    if time_zone is not None:
        if time_zone and time_zone not in available_timezones():
            raise ValidationError({"time_zone": _("Unknown time zone.")})
        actor.time_zone = time_zone
    actor.save(update_fields=["language", "time_zone"])
    return actor


@transaction.atomic
def create_api_token(actor: User | None, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Create a token and return it with its only readable copy of the secret."""
    if actor is not None and actor.pk != user.pk:
        _require_admin(actor)
    if not user.is_active:
        raise ValidationError({"user": _("The user is deactivated.")})
    raw = ApiToken.generate()
    token = ApiToken.objects.create(
        user=user, name=name[:100], token_hash=hash_token(raw), prefix=raw[:10]
    )
    return token, raw


@transaction.atomic
def revoke_api_token(actor: User, token: ApiToken) -> None:
    if actor.pk != token.user_id:
        _require_admin(actor)
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def password_link_path(user: User) -> str:
    """The path of the set-password page for ``user`` (invitation and reset share it)."""
    from django.urls import reverse

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("accounts:set_password", kwargs={"uidb64": uid, "token": token})


@transaction.atomic
def request_password_reset(email: str) -> None:
    """Send a reset link if an active user has this address; say nothing either way."""
    from kefu.accounts.tasks import send_account_email

    user = User.objects.filter(email__iexact=(email or "").strip(), is_active=True).first()
    if user is not None:
        send_account_email.enqueue(user.pk, "account_password_reset")
