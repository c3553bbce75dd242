"""Inbound channels: e-mail mailboxes, every inbound mail received, and ticket participants."""

from __future__ import annotations

from email.utils import formataddr

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Group
from kefu.customers.models import Contact
from kefu.tickets.models import Message, Ticket


def _fernet() -> Fernet:
    return Fernet(settings.ENCRYPTION_KEY.encode())


def encrypt_secret(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode() if value else ""


def decrypt_secret(token: str) -> str:
    """The plain secret; empty when unset or when the encryption key changed (re-enter it)."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return ""


class Security(models.TextChoices):
    SSL = "ssl", _("SSL/TLS (implicit, port 993 / 465)")
    STARTTLS = "starttls", _("STARTTLS (port 143 / 587)")
    NONE = "none", _("None (loopback or trusted network only)")


class Authentication(models.TextChoices):
    PASSWORD = "password", _("Password")
    MICROSOFT = "microsoft", _("OAuth2 — Microsoft 365")
    GOOGLE = "google", _("OAuth2 — Google")
    OAUTH2 = "oauth2", _("OAuth2 — other provider")


class Mailbox(models.Model):
    """One support address: fetched over IMAP, answered through its own SMTP account.

    Providers such as Tencent Exmail, 163, Aliyun and Microsoft 365 reject a From address that
    differs from the logged-in account, so each mailbox sends as itself.

    With OAuth2 authentication IMAP and SMTP log in with SASL XOAUTH2: the refresh token an
    administrator's consent produced is kept encrypted, and access tokens are refreshed before
    ``oauth_access_token_expires_at`` (ahead of time by the tick at ``oauth_refresh_due_at``,
    and in the fetch/send path). ``oauth_reconnect_needed_at`` is set when the provider refuses
    the refresh token (consent revoked): nothing works until an administrator connects again.
    """

    name = models.CharField(_("name"), max_length=120, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    email_address = models.EmailField(_("address"), unique=True)
    from_name = models.CharField(_("sender name"), max_length=120, blank=True)
    imap_host = models.CharField(_("IMAP host"), max_length=255)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_security = models.CharField(
        _("IMAP security"), max_length=10, choices=Security.choices, default=Security.SSL
    )
    imap_user = models.CharField(_("IMAP user"), max_length=255)
    imap_password_encrypted = models.TextField(blank=True)
    imap_folder = models.CharField(_("IMAP folder"), max_length=255, default="INBOX")
    smtp_host = models.CharField(_("SMTP host"), max_length=255)
    smtp_port = models.PositiveIntegerField(_("SMTP port"), default=465)
    smtp_security = models.CharField(
        _("SMTP security"), max_length=10, choices=Security.choices, default=Security.SSL
    )
    smtp_user = models.CharField(_("SMTP user"), max_length=255, blank=True)
    smtp_password_encrypted = models.TextField(blank=True)
    authentication = models.CharField(
        _("authentication"),
        max_length=10,
        choices=Authentication.choices,
        default=Authentication.PASSWORD,
    )
    oauth_client_id = models.CharField(
        _("OAuth2 client id"),
        max_length=255,
        blank=True,
        help_text=_("The application (client) id of the app registered at the provider."),
    )
    oauth_client_secret_encrypted = models.TextField(blank=True)
    oauth_tenant = models.CharField(
        _("Microsoft tenant"),
        max_length=100,
        blank=True,
        help_text=_(
            "Directory (tenant) id or domain of your Microsoft 365 organisation; "
            "empty: any organisation."
        ),
    )
    oauth_authorize_url = models.URLField(
        _("authorisation endpoint"),
        max_length=500,
        blank=True,
        help_text=_("Other provider only."),
    )
    oauth_token_url = models.URLField(
        _("token endpoint"), max_length=500, blank=True, help_text=_("Other provider only.")
    )
    oauth_scopes = models.CharField(
        _("OAuth2 scopes"),
        max_length=500,
        blank=True,
        help_text=_("Other provider only: the scopes to request, separated by spaces."),
    )
    oauth_account = models.CharField(_("connected account"), max_length=255, blank=True)
    oauth_refresh_token_encrypted = models.TextField(blank=True)
    oauth_access_token_encrypted = models.TextField(blank=True)
    oauth_access_token_expires_at = models.DateTimeField(null=True, blank=True)
    oauth_refresh_due_at = models.DateTimeField(null=True, blank=True)
    oauth_connected_at = models.DateTimeField(null=True, blank=True)
    oauth_reconnect_needed_at = models.DateTimeField(null=True, blank=True)
    # Stamped under a row lock once the administrators were told; cleared by a new connection.
    oauth_reconnect_notified_at = models.DateTimeField(null=True, blank=True)
    group = models.ForeignKey(
        Group,
        verbose_name=_("target group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="mailboxes",
        help_text=_("New tickets from this mailbox go to this group (default group if empty)."),
    )
    allowed_senders = models.TextField(
        _("allowed senders"),
        blank=True,
        help_text=_("One address or @domain per line; when set, only these open tickets."),
    )
    denied_senders = models.TextField(
        _("denied senders"),
        blank=True,
        help_text=_("One address or @domain per line; their mail is recorded, never ticketed."),
    )
    poll_interval_seconds = models.PositiveIntegerField(_("poll interval (seconds)"), default=120)
    next_fetch_at = models.DateTimeField(null=True, blank=True)
    last_fetch_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        indexes = [
            # The tick's "which mailboxes are due" query.
            models.Index(
                fields=["next_fetch_at"],
                name="mailbox_due",
                condition=models.Q(is_active=True),
            ),
            # The tick's "which access tokens expire soon" query.
            models.Index(
                fields=["oauth_refresh_due_at"],
                name="mailbox_token_due",
                condition=models.Q(is_active=True, oauth_refresh_due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email_address}>"

    @property
    def imap_password(self) -> str:
        return decrypt_secret(self.imap_password_encrypted)

    @imap_password.setter
    def imap_password(self, value: str) -> None:
        self.imap_password_encrypted = encrypt_secret(value)

    @property
    def smtp_password(self) -> str:
        return decrypt_secret(self.smtp_password_encrypted)

    @smtp_password.setter
    def smtp_password(self, value: str) -> None:
        self.smtp_password_encrypted = encrypt_secret(value)

    @property
    def oauth_client_secret(self) -> str:
        return decrypt_secret(self.oauth_client_secret_encrypted)

    @oauth_client_secret.setter
    def oauth_client_secret(self, value: str) -> None:
        self.oauth_client_secret_encrypted = encrypt_secret(value)

    @property
    def oauth_refresh_token(self) -> str:
        return decrypt_secret(self.oauth_refresh_token_encrypted)

    @property
    def oauth_access_token(self) -> str:
        return decrypt_secret(self.oauth_access_token_encrypted)

    @property
    def is_oauth(self) -> bool:
        return self.authentication != Authentication.PASSWORD

    @property
    def oauth_status(self) -> str:
        """``""`` (password login), ``"not_connected"``, ``"reconnect_needed"`` or
        ``"connected"``."""
        if not self.is_oauth:
            return ""
        if self.oauth_reconnect_needed_at is not None:
            return "reconnect_needed"
        if not self.oauth_refresh_token_encrypted:
            return "not_connected"
        return "connected"

    @property
    def smtp_login(self) -> str:
        """The account SMTP authenticates as (XOAUTH2 needs one even when no SMTP user is set)."""
        return self.smtp_user or self.imap_user or self.email_address

    @property
    def from_header(self) -> str:
        return (
            formataddr((self.from_name, self.email_address))
            if self.from_name
            else (self.email_address)
        )

    def sender_rule(self, address: str) -> str:
        """``"deny"``, ``"allow"`` or ``""`` (no rule) for a sender address."""
        address = address.lower()
        domain = "@" + address.rsplit("@", 1)[-1]

        def matches(rules: str) -> bool:
            entries = {line.strip().lower() for line in rules.splitlines() if line.strip()}
            return address in entries or domain in entries

        if matches(self.denied_senders):
            return "deny"
        if self.allowed_senders.strip() and not matches(self.allowed_senders):
            return "deny"
        return "allow" if self.allowed_senders.strip() else ""


class Outcome(models.TextChoices):
    TICKET_CREATED = "ticket_created", _("Opened a ticket")
    MESSAGE_ADDED = "message_added", _("Added to a ticket")
    AUTOMATIC = "automatic", _("Automatic mail (not ticketed)")
    DENIED = "denied", _("Sender not allowed")
    FAILED = "failed", _("Failed")


class InboundEmail(models.Model):
    """Every mail that reached an ingest, whatever became of it — the de-duplication record.

    ``dedup_key`` is the Message-ID, or ``sha256:<hash of the raw bytes>`` when there is none; its
    unique constraint makes a second ingest of the same mail (fetched twice, the worker killed
    half-way) a no-op even when two ingests race.
    """

    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_emails"
    )
    dedup_key = models.CharField(max_length=255, unique=True)
    message_id = models.CharField(max_length=255, blank=True)
    from_email = models.CharField(max_length=255, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    kind = models.CharField(max_length=20, default="normal")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    reason = models.TextField(blank=True)
    is_permanent_failure = models.BooleanField(default=False)
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_emails"
    )
    ticket_message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    raw = models.FileField(upload_to="inbound/%Y/%m", max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # A failed mail is ingested again automatically at ``retry_due_at`` (claimed by the tick,
    # ``retry_attempts`` counting the automatic retries); None once they are used up.
    retry_due_at = models.DateTimeField(null=True, blank=True)
    retry_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("inbound e-mail")
        verbose_name_plural = _("inbound e-mails")
        indexes = [
            models.Index(fields=["ticket", "-created_at"], name="inbound_ticket"),
            # The tick's claim: failed mails due for another attempt.
            models.Index(
                fields=["retry_due_at"],
                condition=models.Q(retry_due_at__isnull=False),
                name="inbound_retry_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_email}: {self.subject} ({self.outcome})"


class TicketParticipant(models.Model):
    """Someone besides the ticket's contact in the conversation (Cc'd on a customer's mail);
    they may thread into the ticket by its number and receive its replies in Cc."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="participants")
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="ticket_participations"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "contact"], name="one_participation")
        ]

    def __str__(self) -> str:
        return f"{self.contact} on {self.ticket_id}"


class GroupMailSettings(models.Model):
    """Which automatic mails a group's e-mail tickets get (no row: the defaults, all on)."""

    group = models.OneToOneField(
        Group, on_delete=models.CASCADE, primary_key=True, related_name="mail_settings"
    )
    send_acknowledgement = models.BooleanField(
        _("acknowledge new tickets"),
        default=True,
        help_text=_("Confirm a new e-mail ticket with its number and expected first response."),
    )
    send_resolution_notice = models.BooleanField(
        _("announce resolution"),
        default=True,
        help_text=_("Tell the customer by e-mail when their ticket is resolved."),
    )
    sending_mailbox = models.ForeignKey(
        "Mailbox",
        verbose_name=_("send as"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_(
            "Replies and automatic mail of this group's e-mail tickets go out through this "
            "mailbox; empty: through the mailbox the customer wrote to."
        ),
    )

    class Meta:
        verbose_name = _("automatic mail settings")
        verbose_name_plural = _("automatic mail settings")

    def __str__(self) -> str:
        return str(self.group)


class AutoMailKind(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement")
    RESOLVED = "resolved", _("Resolution notice")


class AutoMailStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Not sent")
    FAILED = "failed", _("Failed")


class AutomaticMail(models.Model):
    """One automatic mail to a customer: its own de-duplication record, the rate limit's
    memory (rows survive restarts) and the place a failure is kept.

    ``dedup_key`` names the cause (``ack:<ticket>``, ``resolved:<ticket>:<resolved_at>``) so a
    cause produces one mail however often its handler or job runs; ``message_id`` is fixed
    before sending, so a retried job sends the very same mail.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="automatic_mails")
    kind = models.CharField(max_length=20, choices=AutoMailKind.choices)
    recipient = models.CharField(max_length=254)
    dedup_key = models.CharField(max_length=120, unique=True)
    message_id = models.CharField(max_length=255, blank=True, db_index=True)
    status = models.CharField(
        max_length=10, choices=AutoMailStatus.choices, default=AutoMailStatus.PENDING
    )
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("automatic mail")
        verbose_name_plural = _("automatic mails")
        # The rate limit's "how many to this address in the last hour" query.
        indexes = [models.Index(fields=["recipient", "created_at"], name="automail_recipient")]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient} ({self.status})"
