"""``/tags``: the tags agents put on tickets (staff read them; customers never see tags);
administrators add, rename and merge them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from kefu.accounts.access import require_staff
from kefu.api.auth import current_user
from kefu.api.schemas import ERRORS, StrictSchema
from kefu.tickets.models import Tag
from kefu.tickets.tags import create_tag, merge_tag, rename_tag

router = Router(tags=["reference"])


class TagOut(Schema):
    id: int
    name: str
    ticket_count: int


class TagList(Schema):
    items: list[TagOut]


class TagIn(StrictSchema):
    name: str


class TagMergeIn(StrictSchema):
    into: int = Field(description="The id of the tag that replaces this one on every ticket.")


def _tag_data(tag: Tag) -> dict:
    count = getattr(tag, "ticket_count", None)
    return {
        "id": tag.pk,
        "name": tag.name,
        "ticket_count": tag.tickets.count() if count is None else count,
    }


def _get_tag(pk: int, field: str | None = None) -> Tag:
    tag = Tag.objects.filter(pk=pk).first()
    if tag is None:
        message = _("No tag has the id %(id)s.") % {"id": pk}
        if field is not None:
            raise ValidationError({field: message})
        raise Http404(message)
    return tag


@router.get(
    "/tags",
    response={200: TagList, **ERRORS},
    url_name="list_tags",
    summary="Every tag with how many tickets have it (staff)",
)
def list_tags(request: HttpRequest):
    require_staff(current_user(request), _("Only staff see tags."))
    tags = Tag.objects.annotate(ticket_count=Count("tickets")).order_by("name")
    return {"items": [_tag_data(tag) for tag in tags]}


@router.post(
    "/tags",
    response={201: TagOut, **ERRORS},
    url_name="create_tag",
    summary="Add a tag (administrators)",
)
def create(request: HttpRequest, payload: TagIn):
    return 201, _tag_data(create_tag(current_user(request), payload.name))


@router.patch(
    "/tags/{int:tag_id}",
    response={200: TagOut, **ERRORS},
    url_name="rename_tag",
    summary="Rename a tag on every ticket (administrators)",
)
def rename(request: HttpRequest, tag_id: int, payload: TagIn):
    user = current_user(request)
    require_staff(user, _("Only staff see tags."))
    return _tag_data(rename_tag(user, _get_tag(tag_id), payload.name))


@router.post(
    "/tags/{int:tag_id}/merge",
    response={200: TagOut, **ERRORS},
    url_name="merge_tag",
    summary="Merge a tag into another: its tickets get the other tag (administrators)",
)
def merge(request: HttpRequest, tag_id: int, payload: TagMergeIn):
    user = current_user(request)
    require_staff(user, _("Only staff see tags."))
    into = merge_tag(user, _get_tag(tag_id), _get_tag(payload.into, field="into"))
    return _tag_data(into)
