"""The registry of time-driven work that one ``kefu tick`` loop runs.

Apps register functions in ``AppConfig.ready()``. Each function claims its own due rows (stored
``*_due_at`` columns, conditional UPDATE) so that two tick processes never do the same work twice,
and returns how many rows it handled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

_tick_functions: dict[str, Callable[[], int]] = {}


def register_tick(name: str, function: Callable[[], int]) -> None:
    _tick_functions[name] = function


def registered_ticks() -> list[str]:
    return list(_tick_functions)


def tick_functions() -> dict[str, Callable[[], int]]:
    """Each registered name with its function, in the order the tick runs them."""
    return dict(_tick_functions)


def run_tick_once() -> dict[str, int]:
    results: dict[str, int] = {}
    for name, function in _tick_functions.items():
        try:
            results[name] = function()
        except Exception:  # one failing kind of work must not starve the others
            logger.exception("tick function %s failed", name)
            results[name] = -1
    return results


def tick_table() -> str:
    """The tick section of docs/jobs.md, in the order the tick runs the functions."""
    from kefu.lib.docs import is_test_code, markdown_table, summary
    from kefu.lib.jobs import dotted_name

    rows = [
        (f"`{name}`", f"`{dotted_name(function)}`", summary(function))
        for name, function in tick_functions().items()
        if not is_test_code(function.__module__)
    ]
    return markdown_table(("name", "function", "what it does"), rows)
