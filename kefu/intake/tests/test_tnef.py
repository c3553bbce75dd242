"""Outlook's winmail.dat (TNEF) is unpacked into the files inside it ([MS-OXTNEF])."""

from __future__ import annotations

import struct
from email.message import EmailMessage

from kefu.intake.email.parse import parse_email
from kefu.intake.email.tnef import TnefError, unpack_tnef

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
PDF = b"%PDF-1.4\n" + "保修卡".encode() + b"\n%%EOF\n"


def attribute(level: int, attribute_id: int, value: bytes, *, checksum: int | None = None) -> bytes:
    if checksum is None:
        checksum = sum(value) & 0xFFFF
    return (
        struct.pack("<BII", level, attribute_id, len(value)) + value + struct.pack("<H", checksum)
    )


def padded(value: bytes) -> bytes:
    return value + b"\x00" * (-len(value) % 4)


def mapi_unicode(prop_id: int, text: str) -> bytes:
    raw = (text + "\x00").encode("utf-16-le")
    return struct.pack("<HHII", 0x001F, prop_id, 1, len(raw)) + padded(raw)


def mapi_string8(prop_id: int, text: str) -> bytes:
    raw = text.encode("ascii") + b"\x00"
    return struct.pack("<HHII", 0x001E, prop_id, 1, len(raw)) + padded(raw)


def mapi_long(prop_id: int, number: int) -> bytes:
    return struct.pack("<HHI", 0x0003, prop_id, number)


def mapi_named_long(number: int) -> bytes:
    # A named property (id ≥ 0x8000): GUID, kind 1 (a name), the UTF-16 name, then the value.
    name = "Keywords\x00".encode("utf-16-le")
    return (
        struct.pack("<HH", 0x0003, 0x8001)
        + b"\x01" * 16
        + struct.pack("<II", 1, len(name))
        + padded(name)
        + struct.pack("<I", number)
    )


def tnef(*attributes: bytes) -> bytes:
    return struct.pack("<IH", 0x223E9F78, 0x0001) + b"".join(attributes)


def sample_tnef() -> bytes:
    properties = [
        mapi_long(0x0E21, 1),  # PR_ATTACH_NUM, a fixed-size value to skip
        mapi_named_long(7),
        mapi_unicode(0x3707, "显示屏故障照片.png"),  # PR_ATTACH_LONG_FILENAME
        mapi_string8(0x370E, "image/png"),  # PR_ATTACH_MIME_TAG
    ]
    mapi_block = struct.pack("<I", len(properties)) + b"".join(properties)
    return tnef(
        attribute(0x01, 0x00089006, b"\x00\x00"),  # attTnefVersion-like message attribute
        attribute(0x01, 0x0002800C, b"Please see the attached photo.\x00"),  # attBody
        attribute(0x02, 0x00069002, b"\x01\x00" * 7),  # attAttachRendData: attachment 1
        attribute(0x02, 0x00018010, b"PHOTO~1.PNG\x00"),  # attAttachTitle (8.3)
        attribute(0x02, 0x0006800F, PNG),  # attAttachData
        attribute(0x02, 0x00069005, mapi_block),  # attAttachment (MAPI properties)
        attribute(0x02, 0x00069002, b"\x01\x00" * 7),  # attachment 2: only a title
        attribute(0x02, 0x00018010, b"WARRANTY.PDF\x00"),
        attribute(0x02, 0x0006800F, PDF),
    )


def test_it_reads_the_attachments_their_long_names_types_and_the_body():
    content = unpack_tnef(sample_tnef())
    assert [(a.filename, a.content_type, a.content) for a in content.attachments] == [
        ("显示屏故障照片.png", "image/png", PNG),
        ("WARRANTY.PDF", "application/pdf", PDF),
    ]
    assert content.body_text == "Please see the attached photo."


def test_a_damaged_tail_keeps_the_attachments_read_before_it():
    damaged = sample_tnef()[:-20]
    content = unpack_tnef(damaged)
    assert [a.filename for a in content.attachments] == ["显示屏故障照片.png"]

    bad_checksum = tnef(
        attribute(0x02, 0x00069002, b"\x01\x00"),
        attribute(0x02, 0x00018010, b"A.TXT\x00"),
        attribute(0x02, 0x0006800F, b"first"),
        attribute(0x02, 0x00069002, b"\x01\x00"),
        attribute(0x02, 0x0006800F, b"second", checksum=1),
    )
    assert [a.content for a in unpack_tnef(bad_checksum).attachments] == [b"first"]


def test_it_refuses_what_is_not_tnef():
    for data in (b"", b"PK\x03\x04 a zip file", tnef()[:4]):
        try:
            unpack_tnef(data)
        except TnefError:
            continue
        raise AssertionError(f"{data!r} was accepted as TNEF")


def _outlook_mail(winmail: bytes, text: str = "") -> bytes:
    message = EmailMessage()
    message["From"] = "Li Lei <li.lei@customer.example>"
    message["To"] = "support@kefu.example"
    message["Subject"] = "显示屏黑屏"
    message["Message-ID"] = "<outlook-1@customer.example>"
    message.set_content(text)
    message.add_attachment(
        winmail, maintype="application", subtype="ms-tnef", filename="winmail.dat"
    )
    return message.as_bytes()


def test_a_mail_from_outlook_gets_the_files_inside_winmail_dat():
    parsed = parse_email(_outlook_mail(sample_tnef(), text="见附件。"))
    names = [attachment.filename for attachment in parsed.attachments]
    assert names == ["显示屏故障照片.png", "WARRANTY.PDF"]
    assert parsed.attachments[0].content == PNG
    assert "见附件" in parsed.body_text  # the mail's own text wins over TNEF's attBody


def test_the_tnef_body_is_used_when_the_mail_has_no_text_and_a_broken_one_is_kept():
    parsed = parse_email(_outlook_mail(sample_tnef()))
    assert "Please see the attached photo." in parsed.body_text

    broken = struct.pack("<IH", 0x223E9F78, 1) + b"\x02\x02\x90\x06\x00\xff\xff\xff\x7f"
    parsed = parse_email(_outlook_mail(broken, text="hello"))
    assert [a.filename for a in parsed.attachments] == ["winmail.dat"]  # nothing lost
