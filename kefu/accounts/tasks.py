"""Account e-mails (invitation, password reset), sent by the worker."""

from __future__ import annotations

from kefu.lib.jobs import job
from kefu.lib.mail import make_message


@job
def send_account_email(user_id: int, template: str) -> str:
    """E-mail a person their portal invitation or password-reset link."""
    from django.conf import settings

    from kefu.accounts.actions import password_link_path
    from kefu.accounts.models import User

    if template not in ("account_invitation", "account_password_reset"):
        raise ValueError(f"unknown account e-mail {template}")
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return "user gone"
    # The link embeds the password hash and last login, so a used or outdated link stops working;
    # resending it on a retry is harmless.
    link = settings.SITE_URL + password_link_path(user)
    make_message(
        template, {"user": user, "link": link}, to=[user.email], language=user.language or None
    ).send()
    return "sent"
