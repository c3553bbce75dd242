"""The parser on our own fixtures: the charsets and breakage the corpora lack."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu.intake.email.charsets import decode_bytes, decode_header_words
from kefu.intake.email.classify import Kind, classify
from kefu.intake.email.parse import parse_email

FIXTURES = Path(__file__).parent / "fixtures"


def parse(name: str):
    return parse_email((FIXTURES / name).read_bytes())


def test_it_reads_gbk_only_characters_in_mail_labelled_gb2312():
    parsed = parse("gb2312_label_gbk_chars.eml")
    assert parsed.from_display_name == "王喆"
    assert parsed.subject == "喆的问题"
    assert parsed.body_text == "朱镕基的喆字不在GB2312里。"


def test_it_reads_big5_headers_and_base64_body():
    parsed = parse("big5.eml")
    assert (parsed.from_display_name, parsed.subject) == ("陳小姐", "印表機無法列印")
    assert parsed.body_text == "您好，印表機無法列印。"


def test_it_joins_encoded_words_of_different_charsets_and_survives_an_unknown_label():
    parsed = parse("mixed_charsets.eml")
    assert parsed.from_display_name == "李雷"
    assert parsed.subject == "Grüße你好"
    assert parsed.body_text.startswith("Hello, plain ASCII body")
    assert ("Han Meimei", "hanmeimei@example.com") in parsed.cc


def test_it_keeps_inline_images_and_sanitises_html_when_there_is_no_message_id():
    parsed = parse("no_message_id_html_inline.eml")
    assert parsed.message_id == ""
    assert "<script>" not in parsed.body_html
    assert 'src="cid:shot@kefu"' in parsed.body_html
    assert parsed.body_text == "See this:"
    [image] = parsed.attachments
    assert (image.filename, image.content_id, image.content[:4]) == (
        "shot.png",
        "shot@kefu",
        b"\x89PNG",
    )


def test_it_reads_what_it_can_of_a_malformed_mail_and_says_it_is_malformed():
    parsed = parse("malformed.eml")
    assert parsed.is_malformed
    assert parsed.body_text == "The text that survived."
    assert parsed.subject == "Broken mail"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage",
        b"Subject: =?x-unknown?B?!!!?=\n\nbody",
        b"From: <>\nContent-Type: multipart/mixed; boundary=\n\n--\n",
        b"Content-Transfer-Encoding: base64\nContent-Type: text/plain; charset=utf-8\n\n@@@",
    ],
)
def test_it_never_raises_on_garbage(raw):
    parsed = parse_email(raw)
    assert isinstance(parsed.subject, str)


def test_it_decodes_a_multibyte_character_split_across_two_encoded_words():
    # "你好" in UTF-8 is e4 bd a0 e5 a5 bd; split after the fourth byte.
    assert decode_header_words("=?utf-8?Q?=E4=BD=A0=E5?= =?utf-8?Q?=A5=BD?=") == "你好"


def test_it_decodes_gb2312_labelled_bytes_as_gb18030_and_wrong_labels_fall_back():
    assert decode_bytes("镕".encode("gbk"), "gb2312") == "镕"
    assert decode_bytes("café".encode(), "iso-8859-1") == "café"
    assert decode_bytes(b"caf\xe9", "utf-8") == "café"


def test_it_takes_reply_to_when_from_has_no_address():
    parsed = parse_email(b'From: "nobody" <>\nReply-To: <real@example.com>\nSubject: hi\n\nbody\n')
    assert parsed.from_email == "real@example.com"


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ("Auto-Submitted: auto-replied\nSubject: Out of office", Kind.AUTO_REPLY),
        ("X-Autoreply: yes\nSubject: Re: help", Kind.AUTO_REPLY),
        ("Precedence: bulk\nSubject: Newsletter", Kind.BULK),
        ("Subject: 自动回复: 我在休假", Kind.AUTO_REPLY),
        (
            "X-Auto-Response-Suppress: All\nSubject: Automatic reply: away",
            Kind.AUTO_REPLY,
        ),
        ("Subject: Undelivered Mail Returned to Sender\nX-Failed-Recipients: a@b.c", Kind.BOUNCE),
        ("Subject: Re: my printer", Kind.NORMAL),
    ],
)
def test_it_classifies_automatic_mail(headers, kind):
    raw = f"From: someone@example.com\n{headers}\n\nbody\n".encode()
    assert classify(parse_email(raw)).kind == kind


def test_a_mailer_daemon_sender_is_a_bounce():
    raw = b"From: MAILER-DAEMON@mx.example.com\nSubject: failure notice\n\n550 5.1.1 no such user\n"
    result = classify(parse_email(raw))
    assert result.kind == Kind.BOUNCE and result.permanent
