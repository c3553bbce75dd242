"""The ``kefu`` command: one thin dispatcher over Django management commands.

``kefu run``, ``kefu worker``, ``kefu tick`` and ``kefu migrate`` run the command of that name;
``kefu <noun> <verb> …`` runs the management command ``<noun>_<verb>`` (``kefu user create`` →
``user_create``); ``kefu manage …`` reaches any Django command. Expected failures (bad input, a
rule that forbids the change, a malformed setting) print one line on stderr and exit with 1.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

# Commands that take no verb; everything else is ``<noun> <verb>``.
SINGLE_WORD_COMMANDS = {
    "run": "Start the web server, job worker and tick loop in one process.",
    "worker": "Run background jobs (alone, for split deployments).",
    "tick": "Run time-driven work every KEFU_TICK_INTERVAL_SECONDS (alone).",
    "migrate": "Create or update the database tables.",
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        message = _expected_error_message(error)
        if message is None:
            raise
        print(f"kefu: error: {message}", file=sys.stderr)
        return 1


def _dispatch(args: list[str]) -> int:
    if not args or args[0] in ("-h", "--help", "help"):
        _setup_django()
        print(_help_text())
        return 0
    if args[0] == "manage":
        from django.core.management import execute_from_command_line

        execute_from_command_line(["kefu manage", *args[1:]])
        return 0
    _setup_django()
    from django.core.management import get_commands

    available = get_commands()
    if args[0] in SINGLE_WORD_COMMANDS:
        return _run_command(args[0], args[0], args[1:])
    if len(args) >= 2 and not args[1].startswith("-") and f"{args[0]}_{args[1]}" in available:
        return _run_command(f"{args[0]}_{args[1]}", f"{args[0]} {args[1]}", args[2:])
    verbs = sorted(name.split("_", 1)[1] for name in available if name.startswith(f"{args[0]}_"))
    if verbs and _is_kefu_command(available, f"{args[0]}_{verbs[0]}"):
        print(f"kefu {args[0]}: choose one of: {', '.join(verbs)}", file=sys.stderr)
        return 1
    wanted = " ".join(args[:2])
    print(f"kefu: unknown command {wanted!r}; `kefu --help` lists the commands", file=sys.stderr)
    return 1


def _is_kefu_command(available: dict, name: str) -> bool:
    app = available.get(name)
    return isinstance(app, str) and app.startswith("kefu.")


def _setup_django() -> None:
    import django

    django.setup()


def _run_command(name: str, prog: str, args: list[str]) -> int:
    from django.core.management import get_commands, load_command_class

    command = load_command_class(get_commands()[name], name)
    # Argument errors print the usage and exit(2), as on the command line.
    command._called_from_command_line = True  # type: ignore[attr-defined]
    parser = command.create_parser("kefu", prog)
    options = vars(parser.parse_args(args))
    positional = options.pop("args", ())
    command.execute(*positional, **options)
    return 0


def _expected_error_message(error: Exception) -> str | None:
    """One line describing an error the operator can fix, or ``None`` for a real bug."""
    from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
    from django.core.management import CommandError

    from kefu.lib.env import ConfigurationError
    from kefu.lib.errors import BusinessRuleError

    if isinstance(error, ValidationError):
        return validation_error_line(error)
    expected = (
        CommandError,
        PermissionDenied,
        BusinessRuleError,
        ConfigurationError,
        ImproperlyConfigured,
    )
    if isinstance(error, expected):
        return str(error)
    return None


def validation_error_line(error) -> str:
    """Flatten a ``ValidationError`` (dict or list) into one readable line."""
    if hasattr(error, "error_dict"):
        parts = []
        for field, errors in error.message_dict.items():
            text = " ".join(errors)
            parts.append(text if field == "__all__" else f"{field}: {text}")
        return "; ".join(parts)
    return " ".join(error.messages)


def _help_text() -> str:
    from django.core.management import get_commands, load_command_class

    lines = [
        "usage: kefu <command> [options]      (kefu <command> --help for its options)",
        "",
        "commands:",
    ]
    for name, description in SINGLE_WORD_COMMANDS.items():
        lines.append(f"  {name:<22} {description}")
    for name, app in sorted(get_commands().items()):
        if "_" not in name or not _is_kefu_command({name: app}, name):
            continue
        help_lines = (load_command_class(app, name).help or "").strip().splitlines()
        lines.append(f"  {name.replace('_', ' ', 1):<22} {help_lines[0] if help_lines else ''}")
    lines.append(
        f"  {'manage <command> ...':<22} Any Django management command (kefu manage help)."
    )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
