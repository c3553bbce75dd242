"""Customer organisations and contacts (the people who raise tickets)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class Organization(models.Model):
    """A customer company."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    domain = models.CharField(
        _("e-mail domain"),
        max_length=200,
        blank=True,
        help_text=_("Contacts with an address at this domain join the organisation."),
    )
    members_share_tickets = models.BooleanField(
        _("members see each other's tickets"), default=False
    )
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class ContactQuerySet(models.QuerySet["Contact"]):
    def active(self):
        return self.filter(is_active=True)


class Contact(models.Model):
    """A customer, identified by at least one of e-mail, phone or WeChat id."""

    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True, null=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True, null=True)
    wechat_id = models.CharField(_("WeChat id"), max_length=100, blank=True, null=True)
    language = models.CharField(
        _("language"), max_length=10, blank=True, choices=settings.LANGUAGES
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contacts",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact",
    )
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Set when mail to ``email`` bounced permanently; replies to a flagged address are not sent.
    email_bounced_at = models.DateTimeField(_("e-mail bounced"), null=True, blank=True)
    email_bounce_reason = models.TextField(_("bounce reason"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(email__isnull=False) & ~models.Q(email="")
                    | models.Q(phone__isnull=False) & ~models.Q(phone="")
                    | models.Q(wechat_id__isnull=False) & ~models.Q(wechat_id="")
                ),
                name="contact_has_an_identifier",
            ),
            models.UniqueConstraint(Lower("email"), name="unique_contact_email"),
            models.UniqueConstraint(fields=["phone"], name="unique_contact_phone"),
            models.UniqueConstraint(fields=["wechat_id"], name="unique_contact_wechat_id"),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.phone or self.wechat_id or "?"

    @property
    def identifier(self) -> str:
        return self.email or self.phone or self.wechat_id or ""
