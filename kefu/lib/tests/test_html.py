from kefu.lib.html import html_to_text, sanitize_html, text_to_html


def test_it_strips_scripts_and_event_handlers():
    cleaned = sanitize_html(
        '<p onclick="x()">hi<script>alert(1)</script><img src=x onerror=alert(1)></p>'
    )
    assert "<script" not in cleaned
    assert "onerror" not in cleaned and "onclick" not in cleaned
    assert "hi" in cleaned


def test_it_drops_javascript_urls():
    assert "javascript:" not in sanitize_html('<a href="javascript:alert(1)">x</a>')


def test_it_keeps_ordinary_formatting_and_chinese():
    cleaned = sanitize_html(
        "<p><strong>开机后黑屏</strong> <a href='https://example.com'>link</a></p>"
    )
    assert "<strong>开机后黑屏</strong>" in cleaned
    assert 'href="https://example.com"' in cleaned


def test_plain_text_becomes_escaped_paragraphs_with_links():
    rendered = text_to_html("Hello <b>\nsee https://kefu.example/x\n\nBye")
    assert "&lt;b&gt;" in rendered
    assert '<a href="https://kefu.example/x"' in rendered
    assert rendered.count("<p>") == 2


def test_html_to_text_keeps_line_structure():
    assert html_to_text("<p>one</p><p>two &amp; three</p>") == "one\ntwo & three"
