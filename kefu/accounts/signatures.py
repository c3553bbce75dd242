"""Signatures below public replies: the agent's own, then their group's.

They are added by ``kefu.tickets.actions.add_message`` to the stored reply, so the customer's
e-mail, the portal, the API and the console all show exactly the same text (see
docs/notifications.md, "Signatures").
"""

from __future__ import annotations

from kefu.accounts.models import Group, User
from kefu.lib.html import text_to_html

DELIMITER = "-- "  # the conventional signature separator, which mail clients recognise


def signature_for(user: User | None, group: Group | None) -> str:
    parts = [
        (user.signature if user is not None and user.is_staff_member else "").strip(),
        (group.signature if group is not None else "").strip(),
    ]
    return "\n".join(part for part in parts if part)


def with_signature(text: str, html: str, signature: str) -> tuple[str, str]:
    """``(text, html)`` with ``signature`` below; unchanged when it is empty or the author
    already ended the reply with it (pasted by hand, or a retried submission)."""
    signature = signature.strip()
    if not signature or text.rstrip().endswith(signature):
        return text, html
    text = f"{text.rstrip()}\n\n{DELIMITER}\n{signature}"
    html = f"{html}{text_to_html(DELIMITER + chr(10) + signature)}"
    return text, html
