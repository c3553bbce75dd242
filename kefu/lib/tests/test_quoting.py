"""Folding quoted history and signatures out of e-mail text."""

from __future__ import annotations

import pytest

from kefu.lib.quoting import SplitReply, split_reply


@pytest.mark.parametrize(
    ("header", "history"),
    [
        ("On Mon, 2 Mar 2026 at 10:15, Kefu Support <support@kefu.example> wrote:", "> Hi"),
        (
            "Am Mo., 2. März 2026 um 10:15 Uhr schrieb Kefu Support <support@kefu.example>:",
            "> Hallo",
        ),
        ("在 2026/3/2 10:15, Kefu Support 写道:", "> 您好"),
        ("Kefu Support <support@kefu.example> 于2026年3月2日周一 10:15写道：", "> 您好"),
        ("Kefu Support <support@kefu.example> 於 2026年3月2日 週一 上午10:15寫道：", "> 您好"),
        ("-----Original Message-----", "From: Kefu Support\nSubject: Ticket #12"),
        ("-----Ursprüngliche Nachricht-----", "Von: Kefu Support"),
        ("------------------ 原始邮件 ------------------", "发件人: 客服"),
        ("-----原始郵件-----", "寄件者: 客服"),
        ("From: Kefu Support <support@kefu.example>", "Sent: Monday, 2 March 2026 10:15\nTo: Li"),
        ("发件人: 客服 <support@kefu.example>", "发送时间: 2026年3月2日 10:15\n收件人: 李雷"),
        ("寄件者: 客服 <support@kefu.example>", "收件者: 李雷\n寄件日期: 2026年3月2日"),
        ("Von: Kefu Support <support@kefu.example>", "Gesendet: Montag, 2. März 2026 10:15"),
    ],
)
def test_the_quoted_history_starts_at_the_reply_header(header, history):
    text = f"Thanks, the printer works again.\n\n{header}\n{history}\n> older text\n"
    split = split_reply(text)
    assert split.new_text == "Thanks, the printer works again."
    assert split.quoted == f"{header}\n{history}\n> older text"
    assert split.signature == ""
    assert split.is_folded


def test_a_reply_header_wrapped_over_two_lines_is_recognised():
    text = "OK.\n\nOn Mon, 2 Mar 2026 at 10:15, Kefu Support <support@kefu.example>\nwrote:\n> Hi"
    assert split_reply(text).new_text == "OK."


def test_a_trailing_run_of_quoted_lines_is_folded_without_a_header():
    text = "问题还在。\n\n> 请重启打印机。\n>\n> 客服\n"
    split = split_reply(text)
    assert split.new_text == "问题还在。"
    assert split.quoted == "> 请重启打印机。\n>\n> 客服"


def test_quoted_lines_followed_by_an_answer_are_not_a_trailing_quote():
    text = "> Did you restart it?\nYes, twice.\n"
    split = split_reply(text)
    assert split.new_text == text.strip()
    assert not split.is_folded


@pytest.mark.parametrize("delimiter", ["-- ", "--"])
def test_the_signature_starts_at_the_delimiter_line(delimiter):
    text = f"Danke für die schnelle Hilfe.\n\n{delimiter}\nMax Mustermann\nBeispiel GmbH"
    split = split_reply(text)
    assert split.new_text == "Danke für die schnelle Hilfe."
    assert split.signature == f"{delimiter}\nMax Mustermann\nBeispiel GmbH"
    assert split.quoted == ""


def test_a_signature_above_the_quoted_history_is_split_from_it():
    text = (
        "收到，谢谢。\n-- \n李雷\n某某公司\n\n"
        "-----原始邮件-----\n发件人: 客服\n发送时间: 2026年3月2日\n-- \n客服签名"
    )
    split = split_reply(text)
    assert split.new_text == "收到，谢谢。"
    assert split.signature == "-- \n李雷\n某某公司"
    assert split.quoted == "-----原始邮件-----\n发件人: 客服\n发送时间: 2026年3月2日\n-- \n客服签名"


def test_a_traditional_chinese_message_that_is_only_quoted_is_not_folded():
    text = "客服 <support@kefu.example> 於 2026年3月2日 週一 上午10:15寫道：\n> 您好"
    assert split_reply(text) == SplitReply(new_text=text)


def test_a_message_that_is_only_quoted_is_not_folded():
    text = "On Mon, 2 Mar 2026, Kefu Support <support@kefu.example> wrote:\n> Hi\n"
    split = split_reply(text)
    assert split.new_text == text.strip()
    assert not split.is_folded


def test_a_message_that_is_only_a_signature_is_not_folded():
    assert not split_reply("-- \n李雷").is_folded


def test_a_message_without_quote_or_signature_is_left_whole():
    text = "打印机显示 E23。\r\n\r\n请问怎么办？\r\n"
    split = split_reply(text)
    assert split.new_text == text.strip()
    assert not split.is_folded


@pytest.mark.parametrize(
    "text",
    [
        "My colleague wrote: the fan is loud.\nFrom: the report it seems broken.",
        "Er schrieb: bitte anrufen.",
        "-- not a signature",
        "Please see the --verbose output.",
    ],
)
def test_ordinary_sentences_are_not_mistaken_for_quotes_or_signatures(text):
    assert not split_reply(text).is_folded
