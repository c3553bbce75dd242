"""The API's request parser: ninja's, refusing unsafe text in every request value.

Every JSON body value (keys too, at any depth), query parameter and form field passes through
here before any schema sees it, so one check covers every endpoint: a NUL, another C0 control
character or a lone surrogate (``kefu.lib.text``) is a ``422`` naming the field, never a 500 from
the database. Text is refused rather than cleaned because an API client can be told and resend;
see docs/api.md.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja.parser import Parser

from kefu.lib.text import clean_line, first_unsafe_character, unsafe_text_message


class UnsafeText(ValueError):
    """A request value with a character ``kefu.lib.text`` would have to remove: ``422``."""

    def __init__(self, field: str, character: str):
        self.field = field
        self.message = unsafe_text_message(character)
        super().__init__(self.message)


class TextCheckingParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        data = super().parse_body(request)
        refuse_unsafe_text(data)
        return data

    def parse_querydict(
        self, data: MultiValueDict, list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        result = super().parse_querydict(data, list_fields, request)
        refuse_unsafe_text(result)
        return result


def refuse_unsafe_text(value: Any, field: str = "") -> None:
    """Raise ``UnsafeText`` for the first unsafe string in ``value`` (dicts and lists walked),
    naming it the way error fields are named: ``customer.email``, ``tags.1``."""
    if isinstance(value, str):
        character = first_unsafe_character(value)
        if character is not None:
            raise UnsafeText(field or "body", character)
    elif isinstance(value, dict):
        for key, item in value.items():
            # The name is echoed in the JSON error, which cannot carry a lone surrogate itself.
            name = clean_line(f"{field}.{key}" if field else str(key))
            refuse_unsafe_text(key, name)
            refuse_unsafe_text(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            refuse_unsafe_text(item, f"{field}.{index}" if field else str(index))
