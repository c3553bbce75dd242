from kefu.api.openapi import OPENAPI_PATH, openapi_document


def test_the_checked_in_openapi_document_is_current():
    current = OPENAPI_PATH.read_text(encoding="utf-8") if OPENAPI_PATH.exists() else ""
    assert current == openapi_document(), (
        "docs/openapi.json is out of date; run `.venv/bin/python manage.py export_openapi`"
    )
