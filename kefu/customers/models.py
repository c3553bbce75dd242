"""Customer organisations and contacts (the people who raise tickets)."""

from __future__ import annotations

from datetime import date
from pathlib import PurePosixPath
from uuid import uuid4

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Tier(models.TextChoices):
    STANDARD = "standard", _("Standard")
    KEY_ACCOUNT = "key_account", _("Key account")


class Organization(models.Model):
    """A customer company."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices, default=Tier.STANDARD)
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
    # A merged duplicate points to the record that absorbed it; look-ups by an identifier the
    # duplicate kept (the survivor had its own) follow this to the survivor.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
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


class Product(models.Model):
    """A model the company sells and services (e.g. KF-200 display controller)."""

    model_number = models.CharField(_("model"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    warranty_months = models.PositiveSmallIntegerField(
        _("warranty (months)"),
        null=True,
        blank=True,
        help_text=_("Default warranty of a newly installed unit."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model_number"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return f"{self.model_number} {self.name}"


class AssetStatus(models.TextChoices):
    IN_SERVICE = "in_service", _("In service")
    IN_REPAIR = "in_repair", _("In repair")
    RETIRED = "retired", _("Retired")


class WarrantyStatus(models.TextChoices):
    IN_WARRANTY = "in_warranty", _("In warranty")
    EXPIRED = "expired", _("Warranty expired")
    UNKNOWN = "unknown", _("Warranty unknown")


class Asset(models.Model):
    """One installed unit at a customer, identified by its serial number."""

    serial_number = models.CharField(_("serial number"), max_length=100, unique=True)
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="assets"
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assets",
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assets",
    )
    installed_at = models.DateField(_("installed on"), null=True, blank=True)
    installation_address = models.TextField(_("installation address"), blank=True)
    warranty_ends_at = models.DateField(_("warranty ends"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=AssetStatus.choices, default=AssetStatus.IN_SERVICE
    )
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["serial_number"]
        verbose_name = _("asset")
        verbose_name_plural = _("assets")
        indexes = [
            models.Index(fields=["organization", "serial_number"], name="asset_organization"),
            models.Index(fields=["contact", "serial_number"], name="asset_contact"),
        ]

    def __str__(self) -> str:
        return f"{self.serial_number} ({self.product.model_number})"

    @property
    def owner(self) -> Contact | Organization | None:
        return self.contact or self.organization

    def warranty_status(self, today: date | None = None) -> str:
        if self.warranty_ends_at is None:
            return WarrantyStatus.UNKNOWN
        today = today or timezone.localdate()
        return (
            WarrantyStatus.IN_WARRANTY if today <= self.warranty_ends_at else WarrantyStatus.EXPIRED
        )


def add_months(start: date, months: int) -> date:
    """``start`` plus ``months`` calendar months, clamped to the month's last day (31 Jan + 1
    month = 28/29 Feb)."""
    import calendar

    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def default_warranty_end(product: Product | None, installed_at: date | None) -> date | None:
    """The warranty end a unit gets unless told otherwise: installation + the product's months."""
    if product is None or installed_at is None or not product.warranty_months:
        return None
    return add_months(installed_at, product.warranty_months)


def product_document_path(instance: ProductDocument, filename: str) -> str:
    suffix = PurePosixPath(filename).suffix.lower()[:16]
    return f"products/{instance.product_id}/{uuid4().hex}{suffix}"


class ProductDocument(models.Model):
    """A manual, datasheet or service guide of a product, downloadable by staff."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(upload_to=product_document_path, max_length=255)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=120)
    size = models.PositiveBigIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title", "id"]
        verbose_name = _("product document")
        verbose_name_plural = _("product documents")

    def __str__(self) -> str:
        return self.title


class ImportKind(models.TextChoices):
    CONTACTS = "contacts", _("Contacts")
    ORGANIZATIONS = "organizations", _("Organisations")
    PRODUCTS = "products", _("Products")
    ASSETS = "assets", _("Assets")


class ImportStatus(models.TextChoices):
    PREVIEW = "preview", _("Preview")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


def import_file_path(instance: ImportRun, filename: str) -> str:
    suffix = PurePosixPath(filename).suffix.lower()[:16]
    return f"imports/{uuid4().hex}{suffix}"


class ImportRun(models.Model):
    """One uploaded spreadsheet: its dry-run preview, then the import job's progress and result.

    ``preview`` holds the dry run's outcome per row (``[{row, action, key, errors}]``) and
    ``errors`` the row-level errors of the real run (``[{row, column, message}]``).
    """

    kind = models.CharField(_("kind"), max_length=20, choices=ImportKind.choices)
    file = models.FileField(upload_to=import_file_path, max_length=255)
    filename = models.CharField(max_length=255)
    status = models.CharField(
        max_length=20, choices=ImportStatus.choices, default=ImportStatus.PREVIEW
    )
    only_valid_rows = models.BooleanField(_("import only the valid rows"), default=False)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    preview = models.JSONField(default=list, blank=True)
    errors = models.JSONField(default=list, blank=True)
    failure = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.kind} import {self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED, ImportStatus.CANCELLED)

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.DONE:
            return 100
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0
