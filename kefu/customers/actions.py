"""Writes to organisations and contacts."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.customers.models import Contact, Organization


def _require_staff(actor: User | None) -> None:
    if actor is not None and not actor.is_staff_member:
        raise PermissionDenied(_("Only staff manage customers."))


def normalise_identifiers(
    email: str | None, phone: str | None, wechat_id: str | None
) -> tuple[str | None, str | None, str | None]:
    email = (email or "").strip().lower() or None
    phone = "".join((phone or "").split()) or None
    wechat_id = (wechat_id or "").strip() or None
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError(
                {"email": _("%(value)s is not a valid e-mail address.") % {"value": email}}
            ) from None
    if phone and not all(ch.isdigit() or ch in "+-()" for ch in phone):
        raise ValidationError(
            {"phone": _("%(value)s is not a valid phone number.") % {"value": phone}}
        )
    if not (email or phone or wechat_id):
        raise ValidationError({"email": _("Give at least one of e-mail, phone or WeChat id.")})
    return email, phone, wechat_id


def find_contact(
    *, email: str | None = None, phone: str | None = None, wechat_id: str | None = None
) -> Contact | None:
    if email:
        found = Contact.objects.filter(email__iexact=email).first()
        if found:
            return found
    if phone:
        found = Contact.objects.filter(phone=phone).first()
        if found:
            return found
    if wechat_id:
        return Contact.objects.filter(wechat_id=wechat_id).first()
    return None


def organization_for_email(email: str | None) -> Organization | None:
    if not email or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].lower()
    return Organization.objects.filter(domain__iexact=domain, is_active=True).first()


@transaction.atomic
def create_contact(
    actor: User | None,
    *,
    name: str = "",
    email: str | None = None,
    phone: str | None = None,
    wechat_id: str | None = None,
    organization: Organization | None = None,
    language: str = "",
) -> Contact:
    _require_staff(actor)
    email, phone, wechat_id = normalise_identifiers(email, phone, wechat_id)
    if find_contact(email=email, phone=phone, wechat_id=wechat_id):
        raise ValidationError(
            {"email": _("A customer with this e-mail, phone or WeChat id exists already.")}
        )
    name = " ".join((name or "").split()) or (
        email.split("@")[0] if email else phone or wechat_id or ""
    )
    return Contact.objects.create(
        name=name[:200],
        email=email,
        phone=phone,
        wechat_id=wechat_id,
        organization=organization or organization_for_email(email),
        language=language,
    )


@transaction.atomic
def find_or_create_contact(
    actor: User | None,
    *,
    name: str = "",
    email: str | None = None,
    phone: str | None = None,
    wechat_id: str | None = None,
) -> Contact:
    """The contact matching any given identifier, or a new one (unknown senders become contacts)."""
    email, phone, wechat_id = normalise_identifiers(email, phone, wechat_id)
    existing = find_contact(email=email, phone=phone, wechat_id=wechat_id)
    if existing:
        return existing
    return create_contact(actor, name=name, email=email, phone=phone, wechat_id=wechat_id)


@transaction.atomic
def get_or_create_organization(actor: User | None, name: str) -> Organization:
    _require_staff(actor)
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"organization": _("The organisation needs a name.")})
    organization, _created = Organization.objects.get_or_create(name=name)
    return organization


@transaction.atomic
def update_organization(
    actor: User, organization: Organization, *, members_share_tickets: bool | None = None
) -> Organization:
    _require_staff(actor)
    if members_share_tickets is not None:
        organization.members_share_tickets = members_share_tickets
    organization.save()
    return organization


@transaction.atomic
def invite_contact(actor: User, contact: Contact) -> User:
    """Give ``contact`` a portal login and e-mail them a link to choose a password.

    Inviting again resends the link (a new one; older links stop working once a password is set).
    """
    from kefu.accounts.actions import create_user
    from kefu.accounts.models import Role
    from kefu.accounts.tasks import send_account_email

    _require_staff(actor)
    if not contact.email:
        raise ValidationError({"email": _("The customer needs an e-mail address to be invited.")})
    if not contact.is_active:
        raise ValidationError({"email": _("This customer record is deactivated.")})
    user = contact.user
    if user is None:
        existing = User.objects.filter(email__iexact=contact.email).first()
        if existing is not None:
            if existing.is_staff_member or hasattr(existing, "contact"):
                raise ValidationError(
                    {"email": _("This e-mail address already belongs to another login.")}
                )
            user = existing
        else:
            user = create_user(
                actor,
                email=contact.email,
                name=contact.name,
                role=Role.CUSTOMER,
                language=contact.language,
            )
        contact.user = user
        contact.save(update_fields=["user"])
    send_account_email.enqueue(user.pk, "account_invitation")
    return user


@transaction.atomic
def create_customer_user(
    actor: User | None,
    *,
    email: str,
    name: str,
    password: str | None = None,
    organization: Organization | None = None,
    language: str = "",
) -> User:
    """Give a customer a portal login together with its contact.

    An existing contact with this e-mail address (and no login yet) is linked instead of
    duplicated. Without a password the customer sets one through "Forgot password" or an
    invitation.
    """
    from kefu.accounts.actions import create_user
    from kefu.accounts.models import Role

    _require_staff(actor)
    email = normalise_identifiers(email, None, None)[0] or ""
    contact = find_contact(email=email)
    if contact is not None and contact.user_id is not None:
        raise ValidationError({"email": _("This customer already has a login.")})
    if (
        contact is not None
        and organization is not None
        and contact.organization_id not in (None, organization.pk)
    ):
        raise ValidationError(
            {
                "organization": _("%(contact)s belongs to %(organization)s.")
                % {"contact": contact, "organization": contact.organization}
            }
        )
    user = create_user(
        actor, email=email, name=name, role=Role.CUSTOMER, password=password, language=language
    )
    if contact is None:
        contact = create_contact(
            actor, name=user.name, email=email, organization=organization, language=language
        )
    contact.user = user
    contact.organization = contact.organization or organization
    contact.save(update_fields=["user", "organization"])
    return user


def flag_email_bounced(contact: Contact, reason: str) -> None:
    """Record that mail to the contact's address bounced permanently (the system's act: a
    bounce came back), so replies stop being sent to it until the address works again."""
    from django.utils import timezone

    Contact.objects.filter(pk=contact.pk).update(
        email_bounced_at=timezone.now(), email_bounce_reason=reason[:2000]
    )


def clear_email_bounce(contact: Contact) -> None:
    """The address works again (its owner wrote to us from it, or it was changed)."""
    if contact.email_bounced_at is not None:
        Contact.objects.filter(pk=contact.pk).update(email_bounced_at=None, email_bounce_reason="")
        contact.email_bounced_at = None
        contact.email_bounce_reason = ""
