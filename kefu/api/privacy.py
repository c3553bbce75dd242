"""``POST /contacts/{id}/anonymise``: erase a customer's personal data or purge their spam
(administrators only; see kefu/privacy/actions.py and docs/administration.md)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema

from kefu.api.auth import current_user
from kefu.api.schemas import ERRORS, StrictSchema
from kefu.customers.access import get_contact_for_user
from kefu.privacy import actions as privacy

router = Router(tags=["privacy"])


class AnonymiseIn(StrictSchema):
    mode: str = Field(
        privacy.ANONYMISE,
        pattern="^(anonymise|purge_spam)$",
        description="anonymise (tickets stay, personal data goes) or purge_spam (tickets deleted)",
    )


class AnonymiseOut(Schema):
    mode: str
    contact: int
    tickets_anonymised: int
    tickets_deleted: int
    messages_blanked: int
    attachments_deleted: int
    raw_emails_deleted: int


@router.post(
    "/contacts/{int:contact_id}/anonymise",
    response={200: AnonymiseOut, **ERRORS},
    url_name="anonymise_contact",
    summary="Erase a customer's personal data, or purge their tickets as spam (admins)",
)
def anonymise_contact(request: HttpRequest, contact_id: int, payload: AnonymiseIn):
    user = current_user(request)
    privacy.require_privacy_admin(user)
    contact = get_contact_for_user(user, contact_id)
    return privacy.erase_contact(user, contact, mode=payload.mode).as_dict()
