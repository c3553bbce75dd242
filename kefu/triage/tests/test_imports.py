"""scikit-learn (and numpy, scipy, joblib) must never load in a web process: importing the web
application, every view module, the API and the triage handlers and jobs must not pull them in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import django
from django.apps import apps

ROOT = Path(__file__).resolve().parents[3]
WORKER_ONLY = ("sklearn", "scipy", "joblib", "numpy")

SCRIPT = """
import importlib, sys
import django
django.setup()
import kefu.asgi, kefu.urls, kefu.api.urls, kefu.api.triage
import kefu.triage.handlers, kefu.triage.tasks, kefu.triage.actions, kefu.triage.views
for module in sys.argv[1:]:
    importlib.import_module(module)
from django.urls import get_resolver
get_resolver().url_patterns  # resolve every URLconf
from kefu.tickets.events import registered_handlers
registered_handlers()
loaded = sorted(
    name for name in sys.modules
    if name.split(".")[0] in {worker_only!r}
)
print("LOADED:" + ",".join(loaded))
"""


def _view_modules() -> list[str]:
    modules = []
    for config in apps.get_app_configs():
        if not config.name.startswith("kefu."):
            continue
        path = Path(config.path)
        modules += [
            f"{config.name}.{file.stem}"
            for file in path.glob("*.py")
            if file.stem in ("views", "urls", "handlers", "tasks", "actions")
        ]
        if (path / "views").is_dir():
            modules.append(f"{config.name}.views")
    return modules


def test_the_web_application_never_imports_scikit_learn():
    assert django.VERSION  # the modules above are importable in this process
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "kefu.settings"}
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SCRIPT.format(worker_only=set(WORKER_ONLY)), *_view_modules()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = [x for x in result.stdout.splitlines() if x.startswith("LOADED:")][-1]
    assert line == "LOADED:", f"web process imported worker-only modules: {line}"
