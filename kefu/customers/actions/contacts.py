"""Writes to contacts and organisations: identifiers, creation, portal invitations, bounce
flags, editing, deactivation and merging duplicates."""

from __future__ import annotations

import logging
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kefu.accounts.access import require_staff
from kefu.accounts.models import User
from kefu.audit.actions import changes_since, record, snapshot
from kefu.customers import events
from kefu.customers.models import (
    Contact,
    Organization,
    Tier,
)
from kefu.lib.errors import BusinessRuleError
from kefu.lib.unique import get_or_insert, insert_new

DEFAULT_PHONE_REGION = "CN"
logger = logging.getLogger(__name__)
REASON_CONTACTS_MERGED = gettext_noop("Duplicate customer records were merged")


def _require_staff(actor: User | None) -> None:
    require_staff(actor, _("Only staff manage customers."))


def normalise_identifiers(
    email: str | None, phone: str | None, wechat_id: str | None
) -> tuple[str | None, str | None, str | None]:
    email = (email or "").strip().lower() or None
    phone = normalise_phone(phone)
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


def normalise_phone(phone: str | None) -> str | None:
    """``+86 138-0000 0001`` and ``13800000001`` are one number: a valid number becomes E.164
    (``+8613800000001``; numbers without a country code are read as Chinese); anything
    ``phonenumbers`` cannot validate (an extension, an internal line) keeps its digits as typed,
    without spaces."""
    cleaned = "".join((phone or "").split())
    if not cleaned:
        return None
    try:
        parsed = phonenumbers.parse(cleaned, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        return cleaned
    if phonenumbers.is_valid_number(parsed):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return cleaned


def find_contact(
    *, email: str | None = None, phone: str | None = None, wechat_id: str | None = None
) -> Contact | None:
    found: Contact | None = None
    if email:
        # Lower(), not email__iexact (UPPER): the unique index on lower(email) serves it.
        found = (
            Contact.objects.alias(email_key=Lower("email"))
            .filter(email_key=email.strip().lower())
            .order_by("pk")
            .first()
        )
    if found is None and phone:
        found = Contact.objects.filter(phone=phone).first()
    if found is None and wechat_id:
        found = Contact.objects.filter(wechat_id=wechat_id).first()
    return follow_merges(found)


def follow_merges(contact: Contact | None) -> Contact | None:
    """The record that absorbed ``contact`` (through any chain of merges), else ``contact``."""
    seen = set()
    while contact is not None and contact.merged_into_id and contact.pk not in seen:
        seen.add(contact.pk)
        contact = Contact.objects.filter(pk=contact.merged_into_id).first() or contact
    return contact


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
    notes: str = "",
) -> Contact:
    _require_staff(actor)
    email, phone, wechat_id = normalise_identifiers(email, phone, wechat_id)
    contact, created = _get_or_insert_contact(
        name=name,
        email=email,
        phone=phone,
        wechat_id=wechat_id,
        organization=organization,
        language=language,
        notes=notes,
    )
    if not created:
        raise ValidationError(
            {"email": _("A customer with this e-mail, phone or WeChat id exists already.")}
        )
    # A sender becoming a contact on first mail (no actor) is shown on the ticket it opened;
    # an entry per unknown sender would bury the log.
    if actor is not None:
        record(actor, "contact.created", contact, {"name": [None, contact.name]})
    return contact


@transaction.atomic
def find_or_create_contact(
    actor: User | None,
    *,
    name: str = "",
    email: str | None = None,
    phone: str | None = None,
    wechat_id: str | None = None,
) -> Contact:
    """The contact matching any given identifier, or a new one (unknown senders become contacts).

    Safe when two requests from the same new customer arrive together: both get one contact.
    """
    email, phone, wechat_id = normalise_identifiers(email, phone, wechat_id)
    existing = find_contact(email=email, phone=phone, wechat_id=wechat_id)
    if existing:
        return existing
    _require_staff(actor)
    contact, created = _get_or_insert_contact(
        name=name, email=email, phone=phone, wechat_id=wechat_id
    )
    if created and actor is not None:
        # Unknown senders (no actor) are shown on the ticket they opened, not in the log.
        record(actor, "contact.created", contact, {"name": [None, contact.name]})
    return contact


def _get_or_insert_contact(
    *,
    name: str,
    email: str | None,
    phone: str | None,
    wechat_id: str | None,
    organization: Organization | None = None,
    language: str = "",
    notes: str = "",
) -> tuple[Contact, bool]:
    """The contact holding any of the (normalised) identifiers, else a new one inserted."""
    name = " ".join((name or "").split()) or (
        email.split("@")[0] if email else phone or wechat_id or ""
    )
    return get_or_insert(
        lambda: find_contact(email=email, phone=phone, wechat_id=wechat_id),
        lambda: Contact.objects.create(
            name=name[:200],
            email=email,
            phone=phone,
            wechat_id=wechat_id,
            organization=organization or organization_for_email(email),
            language=language,
            notes=notes,
        ),
    )


@transaction.atomic
def get_or_create_organization(actor: User | None, name: str) -> Organization:
    _require_staff(actor)
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"organization": _("The organisation needs a name.")})
    organization, created = get_or_insert(
        lambda: _organization_named(name), lambda: Organization.objects.create(name=name[:200])
    )
    if created:
        record(actor, "organization.created", organization, {"name": [None, organization.name]})
    return organization


def _organization_named(name: str) -> Organization | None:
    return Organization.objects.filter(name__iexact=name).order_by("pk").first()


@transaction.atomic
def create_organization(
    actor: User | None,
    *,
    name: str,
    tier: str = Tier.STANDARD,
    domain: str = "",
    members_share_tickets: bool = False,
    notes: str = "",
) -> Organization:
    _require_staff(actor)
    organization = _save_organization(
        Organization(tier=tier),
        name=name,
        tier=tier,
        domain=domain,
        members_share_tickets=members_share_tickets,
        notes=notes,
    )
    record(actor, "organization.created", organization, {"name": [None, organization.name]})
    return organization


@transaction.atomic
def update_organization(
    actor: User | None,
    organization: Organization,
    *,
    members_share_tickets: bool | None = None,
    **fields: Any,
) -> Organization:
    """Change ``name``, ``tier``, ``domain``, ``notes`` or ``members_share_tickets``."""
    _require_staff(actor)
    unknown = set(fields) - {"name", "tier", "domain", "notes"}
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    if members_share_tickets is not None:
        fields["members_share_tickets"] = members_share_tickets
    before = snapshot(organization, fields)
    organization = _save_organization(organization, **fields)
    record(actor, "organization.updated", organization, changes_since(before, organization))
    return organization


def _save_organization(organization: Organization, **fields: Any) -> Organization:
    if "name" in fields:
        name = " ".join((fields["name"] or "").split())
        if not name:
            raise ValidationError({"name": _("The organisation needs a name.")})
        clash = Organization.objects.filter(name__iexact=name).exclude(pk=organization.pk)
        if clash.exists():
            raise ValidationError(
                {"name": _("An organisation named %(name)s exists already.") % {"name": name}}
            )
        organization.name = name[:200]
    if "tier" in fields:
        if fields["tier"] not in Tier.values:
            raise ValidationError(
                {"tier": _("Unknown tier %(value)s.") % {"value": fields["tier"]}}
            )
        organization.tier = fields["tier"]
    if "domain" in fields:
        domain = (fields["domain"] or "").strip().lower().lstrip("@")
        if domain and ("." not in domain or " " in domain or "@" in domain):
            raise ValidationError(
                {"domain": _("%(value)s is not an e-mail domain.") % {"value": domain}}
            )
        organization.domain = domain[:200]
    if "notes" in fields:
        organization.notes = fields["notes"] or ""
    if "members_share_tickets" in fields:
        organization.members_share_tickets = bool(fields["members_share_tickets"])
    if organization.pk is not None:
        organization.save()
        return organization
    # The clash check above may race a concurrent creation of the same name.
    return insert_new(
        organization,
        lambda: _organization_named(organization.name),
        ValidationError(
            {
                "name": _("An organisation named %(name)s exists already.")
                % {"name": organization.name}
            }
        ),
    )


@transaction.atomic
def set_organization_active(
    actor: User | None, organization: Organization, active: bool
) -> Organization:
    """Deactivate (or reactivate) an organisation; its contacts, tickets and assets stay."""
    _require_staff(actor)
    was_active = organization.is_active
    organization.is_active = active
    organization.save(update_fields=["is_active"])
    if was_active != active:
        verb = "reactivated" if active else "deactivated"
        record(actor, f"organization.{verb}", organization, {"is_active": [was_active, active]})
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

    Contact.objects.filter(pk=contact.pk).update(
        email_bounced_at=timezone.now(), email_bounce_reason=reason[:2000]
    )


def clear_email_bounce(contact: Contact) -> None:
    """The address works again (its owner wrote to us from it, or it was changed)."""
    if contact.email_bounced_at is not None:
        Contact.objects.filter(pk=contact.pk).update(email_bounced_at=None, email_bounce_reason="")
        contact.email_bounced_at = None
        contact.email_bounce_reason = ""


@transaction.atomic
def reset_email_bounce(actor: User, contact: Contact) -> Contact:
    """Staff confirm the address works again (the mailbox was full, the customer fixed it), so
    replies and automatic mail are sent to it again."""
    _require_staff(actor)
    if contact.email_bounced_at is None:
        raise BusinessRuleError(_("This address is not marked as bouncing."), field="email")
    reason = contact.email_bounce_reason
    clear_email_bounce(contact)
    record(actor, "contact.bounce_cleared", contact, {"email_bounce_reason": [reason, ""]})
    return contact


# --- contacts: edit, deactivate, merge -------------------------------------------------------

CONTACT_FIELDS = {"name", "email", "phone", "wechat_id", "organization", "language", "notes"}


@transaction.atomic
def update_contact(actor: User | None, contact: Contact, **fields: Any) -> Contact:
    """Change ``name``, ``email``, ``phone``, ``wechat_id``, ``organization`` (or None),
    ``language`` or ``notes``; identifiers stay unique and at least one remains."""
    _require_staff(actor)
    unknown = set(fields) - CONTACT_FIELDS
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    before = snapshot(contact, CONTACT_FIELDS)
    identifiers = {
        name: fields.get(name, getattr(contact, name)) for name in ("email", "phone", "wechat_id")
    }
    email, phone, wechat_id = normalise_identifiers(**identifiers)
    _check_identifiers_free(contact, email=email, phone=phone, wechat_id=wechat_id)
    if (email or "") != (contact.email or "").lower():
        contact.email_bounced_at = None
        contact.email_bounce_reason = ""
    contact.email, contact.phone, contact.wechat_id = email, phone, wechat_id
    if "name" in fields:
        contact.name = " ".join((fields["name"] or "").split())[:200] or contact.identifier
    if "organization" in fields:
        contact.organization = fields["organization"]
    if "language" in fields:
        contact.language = fields["language"] or ""
    if "notes" in fields:
        contact.notes = fields["notes"] or ""
    contact.save()
    record(actor, "contact.updated", contact, changes_since(before, contact))
    return contact


def _check_identifiers_free(contact: Contact | None, **identifiers: str | None) -> None:
    others = Contact.objects.exclude(pk=contact.pk) if contact else Contact.objects.all()
    labels = {"email": _("e-mail"), "phone": _("phone"), "wechat_id": _("WeChat id")}
    for name, value in identifiers.items():
        if not value:
            continue
        lookup = {f"{name}__iexact" if name == "email" else name: value}
        owner = others.filter(**lookup).first()
        if owner is not None:
            raise ValidationError(
                {
                    name: _("The %(field)s %(value)s belongs to %(contact)s.")
                    % {"field": labels[name], "value": value, "contact": owner}
                }
            )


@transaction.atomic
def set_contact_active(actor: User | None, contact: Contact, active: bool) -> Contact:
    """Deactivate (or reactivate) a contact: their tickets stay; a portal login is not touched."""
    _require_staff(actor)
    if active and contact.merged_into_id:
        raise ValidationError(
            {"is_active": _("This record was merged into another customer and stays inactive.")}
        )
    was_active = contact.is_active
    contact.is_active = active
    contact.save(update_fields=["is_active"])
    if was_active != active:
        verb = "reactivated" if active else "deactivated"
        record(actor, f"contact.{verb}", contact, {"is_active": [was_active, active]})
    return contact


@transaction.atomic
def merge_contacts(actor: User | None, duplicate: Contact, survivor: Contact) -> Contact:
    """Fold ``duplicate`` into ``survivor``: every ticket, message, participation, asset and
    other reference moves over, identifiers the survivor lacks are copied, the portal login
    follows when only the duplicate has one, and the duplicate is deactivated and points to the
    survivor. Apps whose rows moved add their history on ``ContactsMerged`` (each ticket whose
    customer changed gets a timeline row)."""
    _require_staff(actor)
    locked = {
        c.pk: c
        for c in Contact.objects.select_for_update().filter(pk__in=[duplicate.pk, survivor.pk])
    }
    if duplicate.pk == survivor.pk or len(locked) != 2:
        raise ValidationError({"into": _("Pick two different customers to merge.")})
    duplicate, survivor = locked[duplicate.pk], locked[survivor.pk]
    if duplicate.merged_into_id:
        raise ValidationError({"into": _("This customer was already merged into another one.")})
    if not survivor.is_active:
        raise ValidationError({"into": _("Merge into an active customer.")})
    if duplicate.user_id and survivor.user_id:
        raise ValidationError(
            {
                "into": _(
                    "Both customers have a portal login; deactivate one of the logins before "
                    "merging."
                )
            }
        )

    duplicate_name = str(duplicate)
    moved = _move_references(duplicate, survivor)

    # Identifiers move only where the survivor has none (unique columns: clear them first).
    moving = {
        name: getattr(duplicate, name)
        for name in ("email", "phone", "wechat_id")
        if getattr(duplicate, name) and not getattr(survivor, name)
    }
    user = duplicate.user
    if moving or user is not None:
        for name in moving:
            setattr(duplicate, name, None)
        if not (duplicate.email or duplicate.phone or duplicate.wechat_id):
            # Every identifier moved; keep the row valid (it must keep one) with a marker.
            duplicate.wechat_id = f"merged-{duplicate.pk}-into-{survivor.pk}"
        duplicate.user = None
        duplicate.save(update_fields=["email", "phone", "wechat_id", "user"])
    for name, value in moving.items():
        setattr(survivor, name, value)
    if user is not None:
        survivor.user = user
    if not survivor.organization_id and duplicate.organization_id:
        survivor.organization_id = duplicate.organization_id
    if duplicate.notes.strip():
        survivor.notes = "\n\n".join(
            part for part in (survivor.notes.strip(), duplicate.notes.strip()) if part
        )
    if not survivor.language:
        survivor.language = duplicate.language
    survivor.save()

    duplicate.is_active = False
    duplicate.merged_into = survivor
    duplicate.save(update_fields=["is_active", "merged_into"])
    # Earlier merges into the duplicate now end at the survivor in one step.
    Contact.objects.filter(merged_into=duplicate).update(merged_into=survivor)
    events.publish(
        events.ContactsMerged(
            actor=actor,
            duplicate=duplicate,
            survivor=survivor,
            duplicate_name=duplicate_name,
            moved=moved,
        )
    )
    record(
        actor,
        "contact.merged",
        survivor,
        {
            "merged": duplicate_name,
            "rows_moved": {model._meta.label: len(pks) for model, pks in moved.items() if pks},
        },
    )
    return survivor


def _move_references(duplicate: Contact, survivor: Contact) -> dict[type[models.Model], list[int]]:
    """Repoint every foreign key to ``duplicate`` (in any app) at ``survivor``; returns the
    primary keys of the moved rows by model.

    Relations are found through the model registry so that apps added later (visits, surveys…)
    are covered too. A relation under a unique constraint (a ticket participant) loses the
    duplicate's rows that would collide with the survivor's.
    """
    moved: dict[type[models.Model], list[int]] = {}
    for relation in Contact._meta.related_objects:
        if not relation.one_to_many:  # foreign keys only; the login is a field of Contact
            continue
        field = relation.field
        if field.model is Contact and field.name == "merged_into":
            continue  # handled by the caller, after the duplicate points to the survivor
        model = relation.related_model
        rows = model._default_manager.filter(**{field.name: duplicate})
        for partner in _unique_partners(model, field.name):
            taken = model._default_manager.filter(**{field.name: survivor}).values(partner)
            rows.filter(**{f"{partner}__in": taken}).delete()
            if partner == "ticket" and field.name != "ticket":
                # A participant entry for the ticket's own customer would be redundant.
                rows.filter(ticket__contact=survivor).delete()
        moved.setdefault(model, []).extend(rows.values_list("pk", flat=True))
        rows.update(**{field.name: survivor})
    return moved


def _unique_partners(model, field_name: str) -> list[str]:
    """Other fields that form a unique constraint together with ``field_name``."""
    partners = []
    for constraint in model._meta.constraints:
        fields = list(getattr(constraint, "fields", ()) or ())
        if field_name in fields and len(fields) > 1:
            partners += [name for name in fields if name != field_name]
    for together in model._meta.unique_together:
        if field_name in together:
            partners += [name for name in together if name != field_name]
    return partners
