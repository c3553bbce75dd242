"""The committed .mo files must match their .po files, and the Chinese catalogues must be complete."""

from pathlib import Path

import polib
import pytest
from django.conf import settings

LOCALE_DIR = Path(settings.BASE_DIR) / "kefu" / "locale"
CATALOGUES = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))


def _entries(catalogue) -> dict:
    return {
        (entry.msgctxt, entry.msgid): (entry.msgstr, tuple(sorted(entry.msgstr_plural.items())))
        for entry in catalogue
        if (entry.msgstr or any(entry.msgstr_plural.values()))
        and not entry.obsolete
        and "fuzzy" not in entry.flags
    }


def test_there_are_catalogues_for_both_chinese_scripts():
    languages = {path.parts[-3] for path in CATALOGUES}
    assert {"zh_Hans", "zh_Hant"} <= languages


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: f"{p.parts[-3]}/{p.name}")
def test_compiled_catalogue_is_current(po_path):
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} is missing: run `make messages`"
    assert _entries(polib.mofile(str(mo_path))) == _entries(polib.pofile(str(po_path))), (
        f"{mo_path} is out of date: run `make messages` and commit the .mo file"
    )


@pytest.mark.parametrize("language", ["zh_Hans"])
def test_simplified_chinese_is_complete(language):
    for po_path in LOCALE_DIR.glob(f"{language}/LC_MESSAGES/*.po"):
        catalogue = polib.pofile(str(po_path))
        missing = [e.msgid for e in catalogue.untranslated_entries() + catalogue.fuzzy_entries()]
        assert not missing, f"{len(missing)} untranslated strings in {po_path}, e.g. {missing[:5]}"
