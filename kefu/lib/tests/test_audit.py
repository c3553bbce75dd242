"""`.ci/audit` (run by `make test`): fails on a known vulnerability in a lock file, reports and
passes when the advisory database cannot answer. The reports are in pip-audit's JSON format."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path

from django.conf import settings

SCRIPT = Path(settings.BASE_DIR) / ".ci" / "audit"


def _audit():
    loader = importlib.machinery.SourceFileLoader("kefu_ci_audit", str(SCRIPT))
    spec = importlib.util.spec_from_loader("kefu_ci_audit", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_a_known_vulnerability_fails_the_audit():
    report = {
        "dependencies": [
            {"name": "nh3", "version": "0.3.8", "vulns": []},
            {
                "name": "django",
                "version": "4.2.0",
                "vulns": [
                    {
                        "id": "PYSEC-2023-61",
                        "fix_versions": ["3.2.19", "4.1.9", "4.2.1"],
                        "aliases": ["CVE-2023-31047"],
                        "description": "Multiple files in one form field bypass validation.",
                    }
                ],
            },
        ],
        "fixes": [],
    }
    status, lines = _audit().decide(report)
    assert status == 1
    assert any("django 4.2.0: PYSEC-2023-61" in line for line in lines)


def test_an_unanswering_advisory_database_is_reported_not_failed():
    report = {
        "dependencies": [
            {
                "name": "django",
                "skip_reason": "Dependency not found on PyPI and could not be audited: django (5.2.19)",
            },
            {
                "name": "nh3",
                "skip_reason": "Dependency not found on PyPI and could not be audited: nh3 (0.3.8)",
            },
        ],
        "fixes": [],
    }
    status, lines = _audit().decide(report)
    assert status == 0
    assert "NOT AUDITED" in lines[0]


def test_a_clean_audit_passes_and_names_what_it_could_not_check():
    report = {
        "dependencies": [
            {"name": "nh3", "version": "0.3.8", "vulns": []},
            {"name": "kefu-private", "skip_reason": "Dependency not found on PyPI"},
        ],
        "fixes": [],
    }
    status, lines = _audit().decide(report)
    assert status == 0
    assert lines == [
        "pip-audit: 1 package(s) not audited (not found): kefu-private",
        "pip-audit: no known vulnerabilities in 1 locked packages",
    ]
