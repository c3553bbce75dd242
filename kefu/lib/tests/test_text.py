"""The one rule for NUL, control characters and lone surrogates in text from outside."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.lib.text import clean_line, clean_text, describe_character, first_unsafe_character


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\x00b", "ab"),
        ("bell\x07 and escape\x1b[0m", "bell and escape[0m"),
        ("tab\tline\nreturn\r\n", "tab\tline\nreturn\r\n"),
        ("lone \ud800 high, lone \udcff low", "lone \ufffd high, lone \ufffd low"),
        ("split pair \ud83d\ude00", "split pair \U0001f600"),
        ("客服\x00工单", "客服工单"),
        ("", ""),
    ],
)
def test_it_cleans_free_text(raw, clean):
    assert clean_text(raw) == clean


def test_it_makes_one_line_of_a_line_value():
    assert clean_line("a\r\n\tb\x00 c\ud800") == "a b c\ufffd"


def test_it_leaves_safe_text_alone():
    text = "Ünïcödé 客服 😀 DEL\x7f"
    assert clean_text(text) is text
    assert clean_line(text) is text
    assert first_unsafe_character(text) is None


def test_it_names_the_first_unsafe_character():
    assert first_unsafe_character("ok\ud800\x00") == "\ud800"
    assert describe_character("\x00") == "U+0000"
    assert describe_character("\udcff") == "U+DCFF"


@given(st.text(alphabet=st.characters(exclude_categories=())))
def test_cleaned_text_is_always_storable(text):
    cleaned = clean_text(text)
    cleaned.encode("utf-8")  # no lone surrogate left
    assert "\x00" not in cleaned
    assert first_unsafe_character(cleaned) is None
    assert clean_text(cleaned) == cleaned
    assert first_unsafe_character(clean_line(text)) is None
    assert not {"\n", "\r", "\t"} & set(clean_line(text))
