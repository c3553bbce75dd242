"""Unpack Outlook's TNEF (``winmail.dat``, ``application/ms-tnef``) into ordinary attachments.

Outlook and Exchange send "rich text" mail as one opaque ``winmail.dat`` that no other client can
open. The format ([MS-OXTNEF]) is a stream of attributes: a level (message or attachment), an id
whose high word is the value type, a length, the data and a 16-bit checksum. Each attachment
starts with ``attAttachRendData``; its name is in ``attAttachTitle`` (8.3, legacy code page) and,
better, in the long file name among the MAPI properties of ``attAttachment``; its bytes are in
``attAttachData``. The message's plain text may be in ``attBody`` or the MAPI ``PR_BODY``.
Compressed RTF bodies are not decoded (the plain text, when Outlook sent one, is used instead).
"""

from __future__ import annotations

import mimetypes
import struct
from dataclasses import dataclass, field

SIGNATURE = 0x223E9F78
LEVEL_MESSAGE = 0x01
LEVEL_ATTACHMENT = 0x02

ATT_BODY = 0x800C
ATT_ATTACH_DATA = 0x800F
ATT_ATTACH_TITLE = 0x8010
ATT_ATTACH_REND_DATA = 0x9002
ATT_ATTACHMENT = 0x9005
ATT_MAPI_PROPS = 0x9003
ATT_OEM_CODEPAGE = 0x9007

PR_BODY = 0x1000
PR_ATTACH_LONG_FILENAME = 0x3707
PR_ATTACH_MIME_TAG = 0x370E
PR_ATTACH_CONTENT_ID = 0x3712

# MAPI property types and the size of one fixed-size value (padded to 4 bytes in TNEF).
PT_STRING8 = 0x001E
PT_UNICODE = 0x001F
PT_BINARY = 0x0102
PT_OBJECT = 0x000D
_FIXED_SIZES = {
    0x0002: 4,  # PT_SHORT (padded)
    0x0003: 4,  # PT_LONG
    0x0004: 4,  # PT_FLOAT
    0x0005: 8,  # PT_DOUBLE
    0x0006: 8,  # PT_CURRENCY
    0x0007: 8,  # PT_APPTIME
    0x000A: 4,  # PT_ERROR
    0x000B: 4,  # PT_BOOLEAN (padded)
    0x0014: 8,  # PT_I8
    0x0040: 8,  # PT_SYSTIME
    0x0048: 16,  # PT_CLSID
}
_VARIABLE_TYPES = (PT_STRING8, PT_UNICODE, PT_BINARY, PT_OBJECT)
MULTI_VALUE_FLAG = 0x1000
MAX_ATTACHMENTS = 500


class TnefError(ValueError):
    """Not a TNEF stream, or one too damaged to read."""


@dataclass
class TnefAttachment:
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"
    content_id: str = ""


@dataclass
class TnefContent:
    attachments: list[TnefAttachment] = field(default_factory=list)
    body_text: str = ""


def is_tnef(data: bytes) -> bool:
    return len(data) >= 6 and struct.unpack_from("<I", data)[0] == SIGNATURE


def unpack_tnef(data: bytes) -> TnefContent:
    """The attachments and plain-text body of a TNEF stream; ``TnefError`` when unreadable.

    A damaged tail (truncated attribute, bad checksum) ends the walk but keeps every attachment
    read completely before it: most of a damaged ``winmail.dat`` is better than none.
    """
    if not is_tnef(data):
        raise TnefError("not a TNEF stream (wrong signature)")
    content = TnefContent()
    codepage = "cp1252"
    current: TnefAttachment | None = None
    offset = 6  # signature (4) and legacy key (2)
    while offset < len(data):
        if offset + 9 > len(data):
            break
        level = data[offset]
        attribute_id, length = struct.unpack_from("<II", data, offset + 1)
        start = offset + 9
        end = start + length
        if end + 2 > len(data):
            if not content.attachments and current is None:
                raise TnefError("truncated TNEF attribute")
            break
        value = data[start:end]
        (checksum,) = struct.unpack_from("<H", data, end)
        if checksum != sum(value) & 0xFFFF:
            break
        offset = end + 2
        attribute = attribute_id & 0xFFFF
        if level == LEVEL_MESSAGE:
            if attribute == ATT_OEM_CODEPAGE and len(value) >= 4:
                codepage = f"cp{struct.unpack_from('<I', value)[0]}"
            elif attribute == ATT_BODY:
                content.body_text = _decode_8bit(value, codepage)
            elif attribute == ATT_MAPI_PROPS and not content.body_text:
                body = _mapi_properties(value, codepage).get(PR_BODY)
                if isinstance(body, str):
                    content.body_text = body
            continue
        if level != LEVEL_ATTACHMENT:
            continue
        if attribute == ATT_ATTACH_REND_DATA:
            if len(content.attachments) >= MAX_ATTACHMENTS:
                break
            current = TnefAttachment(filename="", content=b"")
            content.attachments.append(current)
        elif current is None:
            continue
        elif attribute == ATT_ATTACH_TITLE:
            current.filename = current.filename or _decode_8bit(value, codepage)
        elif attribute == ATT_ATTACH_DATA:
            current.content = value
        elif attribute == ATT_ATTACHMENT:
            properties = _mapi_properties(value, codepage)
            long_name = properties.get(PR_ATTACH_LONG_FILENAME)
            if isinstance(long_name, str) and long_name:
                current.filename = long_name
            mime_tag = properties.get(PR_ATTACH_MIME_TAG)
            if isinstance(mime_tag, str) and "/" in mime_tag:
                current.content_type = mime_tag.lower()
            content_id = properties.get(PR_ATTACH_CONTENT_ID)
            if isinstance(content_id, str):
                current.content_id = content_id.strip("<>")
    for number, attachment in enumerate(content.attachments, start=1):
        attachment.filename = attachment.filename.strip() or f"attachment-{number}.bin"
        if attachment.content_type == "application/octet-stream":
            guessed, _encoding = mimetypes.guess_type(attachment.filename)
            attachment.content_type = guessed or attachment.content_type
    content.attachments = [a for a in content.attachments if a.content]
    return content


def _decode_8bit(value: bytes, codepage: str) -> str:
    value = value.split(b"\x00", 1)[0]
    try:
        return value.decode(codepage)
    except (LookupError, UnicodeDecodeError):
        return value.decode("cp1252", "replace")


def _mapi_properties(data: bytes, codepage: str) -> dict[int, object]:
    """The properties of a MAPI property block that Kefu reads; unknown types end the walk."""
    found: dict[int, object] = {}
    try:
        (count,) = struct.unpack_from("<I", data)
        offset = 4
        for _index in range(count):
            prop_type, prop_id = struct.unpack_from("<HH", data, offset)
            offset += 4
            if prop_id >= 0x8000:  # a named property: GUID, then a number or a name
                offset += 16
                (kind,) = struct.unpack_from("<I", data, offset)
                offset += 4
                if kind == 0:
                    offset += 4
                else:
                    (name_length,) = struct.unpack_from("<I", data, offset)
                    offset += 4 + _padded(name_length)
            is_multi = bool(prop_type & MULTI_VALUE_FLAG)
            base_type = prop_type & ~MULTI_VALUE_FLAG
            if base_type in _VARIABLE_TYPES:
                (values,) = struct.unpack_from("<I", data, offset)
                offset += 4
                items = []
                for _value in range(values):
                    (length,) = struct.unpack_from("<I", data, offset)
                    offset += 4
                    items.append(data[offset : offset + length])
                    offset += _padded(length)
                if not is_multi and items:
                    found[prop_id] = _variable_value(base_type, items[0], codepage)
            elif base_type in _FIXED_SIZES:
                values = 1
                if is_multi:
                    (values,) = struct.unpack_from("<I", data, offset)
                    offset += 4
                offset += values * _FIXED_SIZES[base_type]
            else:
                break
            if offset > len(data):
                break
    except struct.error:
        pass
    return found


def _variable_value(prop_type: int, raw: bytes, codepage: str) -> object:
    if prop_type == PT_UNICODE:
        return raw.decode("utf-16-le", "replace").split("\x00", 1)[0]
    if prop_type == PT_STRING8:
        return _decode_8bit(raw, codepage)
    return raw


def _padded(length: int) -> int:
    return (length + 3) & ~3
