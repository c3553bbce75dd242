"""Customer self sign-up with e-mail verification (``KEFU_PORTAL_SIGNUP``).

Nothing is stored until the address is proven: the sign-up form e-mails a signed, expiring link
that carries the address and name; opening it lets the person choose a password, and only then
is the login created (``create_customer_user``, which links an existing contact of that address
rather than duplicating it). So an unverified sign-up cannot log in, and nobody can pre-register
someone else's address with a password of their choosing. An address that already has a login
gets a "you already have an account" mail instead, so the form never reveals who is a customer.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts import throttle
from kefu.accounts.models import User
from kefu.customers.models import Organization

LINK_SALT = "kefu.portal.signup"


def signup_mode() -> str:
    return settings.PORTAL_SIGNUP


def is_enabled() -> bool:
    return signup_mode() in ("on", "domain")


def allowed_domains() -> set[str]:
    """In ``domain`` mode: the e-mail domains of active customer organisations, plus the list."""
    domains = set(
        Organization.objects.filter(is_active=True)
        .exclude(domain="")
        .values_list("domain", flat=True)
    )
    return {domain.lower().lstrip("@") for domain in domains} | set(settings.PORTAL_SIGNUP_DOMAINS)


def check_address(email: str) -> None:
    if not is_enabled():
        raise PermissionDenied(_("Sign-up is not open on this site."))
    if signup_mode() == "domain":
        domain = email.rsplit("@", 1)[-1].lower()
        if domain not in allowed_domains():
            raise ValidationError(
                {
                    "email": _(
                        "Sign-up is open to addresses of our customers' organisations only; "
                        "please ask your contact person for an invitation."
                    )
                }
            )


# --- the link -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignupClaim:
    email: str
    name: str


def make_token(email: str, name: str) -> str:
    return signing.dumps({"e": email, "n": name}, salt=LINK_SALT, compress=True)


class LinkExpired(Exception):
    """The link was genuine but is too old; ``claim`` says for whom, to offer a new one."""

    def __init__(self, claim: SignupClaim):
        super().__init__("expired")
        self.claim = claim


def read_token(token: str) -> SignupClaim | None:
    """The claim of a valid link, ``None`` for a forged one; raises ``LinkExpired``."""
    max_age = settings.PORTAL_SIGNUP_LINK_HOURS * 3600
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=max_age)
    except signing.SignatureExpired:
        data = signing.loads(token, salt=LINK_SALT)
        raise LinkExpired(SignupClaim(email=data["e"], name=data["n"])) from None
    except signing.BadSignature:
        return None
    return SignupClaim(email=data["e"], name=data["n"])


def account_exists(email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()


# --- actions --------------------------------------------------------------------------------


@transaction.atomic
def request_signup(*, email: str, name: str, ip: str, language: str = "") -> None:
    """Send the verification link (or, for a known address, an "account exists" mail).

    Also used to resend a link. Raises ``ValidationError`` for a refused address and when
    the address or client has asked too often.
    """
    from kefu.customers.actions import normalise_identifiers
    from kefu.portal.tasks import send_signup_email

    email = normalise_identifiers(email, None, None)[0] or ""
    name = " ".join((name or "").split())[:200] or email.split("@")[0]
    check_address(email)
    if not throttle.allow_mail_request("signup", email, ip):
        raise ValidationError(
            {
                NON_FIELD_ERRORS: _("Too many requests. Try again in %(minutes)s minutes.")
                % {"minutes": settings.LOGIN_LOCKOUT_SECONDS // 60}
            }
        )
    exists = User.objects.filter(email__iexact=email).exists()
    send_signup_email.enqueue(email, name, "exists" if exists else "verify", language)


@transaction.atomic
def complete_signup(claim: SignupClaim, *, password: str, language: str = "") -> User:
    """Create the verified customer's login (linking an existing contact of the address)."""
    from kefu.customers.actions import create_customer_user

    check_address(claim.email)
    if User.objects.filter(email__iexact=claim.email).exists():
        raise ValidationError(
            {
                NON_FIELD_ERRORS: _(
                    "This address already has an account; log in or reset your password."
                )
            }
        )
    # actor=None: the system acts for a person who proved they own the address; the
    # staff-only check of create_customer_user does not apply to this verified path.
    return create_customer_user(
        None, email=claim.email, name=claim.name, password=password, language=language
    )
