"""Names that look harmless but open as programs (issue 24, item 5)."""

import pytest

from kefu.lib.filenames import blocked_extension, effective_extensions

BLOCKED = ["exe", "bat", "sh"]


@pytest.mark.parametrize(
    "name",
    [
        "x.exe",
        "x.EXE",
        "x.Exe",
        "x.exe ",
        "x.exe.",
        "x.exe. . ",
        "x.exe\u3000",  # ideographic space
        "x.exe\u200b",  # zero-width space
        "x.ｅｘｅ",  # full-width letters
        "x．exe",  # full-width full stop
        "x.e\u00adxe",  # soft hyphen
        "x.exe::$DATA",
        "dir\\x.exe",
        ".exe",
        "报价单.pdf.exe",
        "invoice\u202egpj.exe",  # right-to-left override: shown as invoiceexe.jpg
    ],
)
def test_it_sees_through_disguised_executable_names(name):
    assert blocked_extension(name, BLOCKED) == "exe"


@pytest.mark.parametrize(
    "name",
    ["report.pdf", "x.exe.pdf", "exe", "x.exel", "report: Q3.pdf", "照片.JPG ", "archive.tar.gz"],
)
def test_it_lets_ordinary_names_through(name):
    assert blocked_extension(name, BLOCKED) is None


def test_the_blocked_list_may_be_written_with_dots_and_capitals():
    assert blocked_extension("run.SH.", [".Sh"]) == "sh"


def test_it_reports_every_extension_a_system_may_act_on():
    assert effective_extensions("x.exe:stream.txt") == {"txt", "exe"}
