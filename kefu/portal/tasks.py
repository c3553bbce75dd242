"""Sign-up e-mails, sent by the worker."""

from __future__ import annotations

from kefu.lib.jobs import job
from kefu.lib.mail import make_message


@job
def send_signup_email(email: str, name: str, kind: str, language: str = "") -> str:
    """E-mail a sign-up's confirmation link (``verify``) or say the address has an account
    (``exists``).

    The link is signed when the mail is built, so its validity starts at sending; sending it
    again on a retry is harmless (any unexpired link works, once).
    """
    from django.conf import settings
    from django.urls import reverse

    from kefu.portal.signup import make_token

    if kind == "verify":
        link = settings.SITE_URL + reverse("portal:signup_verify", args=[make_token(email, name)])
        context = {"name": name, "link": link, "hours": settings.PORTAL_SIGNUP_LINK_HOURS}
    elif kind == "exists":
        context = {
            "name": name,
            "login_link": settings.SITE_URL + reverse("accounts:login"),
            "reset_link": settings.SITE_URL + reverse("accounts:password_reset"),
        }
    else:
        raise ValueError(f"unknown sign-up e-mail {kind}")
    make_message(f"account_signup_{kind}", context, to=[email], language=language or None).send()
    return "sent"
