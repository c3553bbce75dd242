"""The tokeniser, the query language and highlighting: pure functions, no database."""

from __future__ import annotations

import pytest

from kefu.search.highlight import Highlighter
from kefu.search.query import QueryError, parse
from kefu.search.stemming import stem
from kefu.search.tokens import index_text, query_phrase


@pytest.mark.parametrize(
    ("word", "expected"),
    [("printers", "printer"), ("printing", "print"), ("printed", "print"), ("ponies", "poni"),
     ("relational", "relat"), ("connections", "connect"), ("a", "a")],
)  # fmt: skip
def test_it_stems_english_words_the_porter_way(word, expected):
    assert stem(word) == expected


def test_it_indexes_chinese_as_bigrams_then_single_characters():
    assert index_text("开机黑屏") == "开机 机黑 黑屏 开 机 黑 屏"
    assert index_text("屏") == "屏"


def test_it_folds_width_case_and_accents():
    assert index_text("Ｅ２３ CAFÉ Straße") == "e23 cafe strass"


def test_it_keeps_codes_addresses_and_phones_whole_and_in_parts():
    terms = index_text("SN-2024-00123 li.lei@huadong.example +86 138 0013 8000").split()
    assert {"sn", "2024", "00123", "sn202400123"} <= set(terms)
    assert {"li", "lei", "huadong", "exampl"} <= set(terms)
    assert {"8613800138000", "13800138000"} <= set(terms)
    assert "15" not in index_text("version 1.5").split()  # a decimal is not the number 15


def test_every_term_is_safe_for_both_engines():
    text = 'He said "x" -- <b>ok</b> O\'Brien’s café; 100% {x} [y] * ^ : E23报错'
    for term in index_text(text).split():
        assert term.isalnum(), term


def test_query_words_become_phrases():
    assert query_phrase("显示屏") == ["显示", "示屏"]
    assert query_phrase("acme.example") == ["acm", "exampl"]


def test_it_parses_phrases_exclusions_filters_and_numbers():
    parsed = parse('显示屏 "paper jam" -refund state:open customer:"Acme 有限公司" 10:30')
    assert parsed.include == [("显示", "示屏"), ("paper", "jam"), ("10", "30")]
    assert parsed.exclude == [("refund",)]
    assert parsed.filters == [("state", "open"), ("customer", "Acme 有限公司")]
    assert parse("#12345").ticket_number == 12345
    assert parse("＃12345").ticket_number == 12345
    assert parse("#12345 printer").include == [("12345",), ("printer",)]


@pytest.mark.parametrize("query", ["state:", "-state:open", "x" * 501])
def test_it_refuses_queries_it_cannot_run(query):
    with pytest.raises(QueryError):
        parse(query)


def test_highlighting_escapes_before_marking():
    highlighter = Highlighter(["黑屏", "printers"])
    assert highlighter.highlight("<i>Printer</i> 黑屏了") == (
        "&lt;i&gt;<mark>Printer</mark>&lt;/i&gt; <mark>黑屏</mark>了"
    )
    assert highlighter.snippet("nothing to see") is None
    long_text = "x " * 100 + "黑屏" + " y" * 100
    snippet = highlighter.snippet(long_text)
    assert snippet.startswith("…") and snippet.endswith("…") and "<mark>黑屏</mark>" in snippet


def test_a_query_loses_its_control_characters_and_lone_surrogates():
    """Issue 24: ``?q=`` with a NUL answered 500 on PostgreSQL."""
    assert parse("prin\x00ter state:\x01open") == parse("printer state:open")
    assert parse("黑\ud800屏").highlight == parse("黑\ufffd屏").highlight
