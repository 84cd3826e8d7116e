"""``pycache config``: every setting, its value, where it came from, and what
is wrong with it.

One line per setting, ``NAME=VALUE  [origin] meaning``, never wrapped or cut
(piped, or in an 80-column terminal, a value stays whole and greppable); a
problem follows on the next line. Secrets in values (a password in a URL,
OpenDAL keys and tokens) are blanked.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from ..config import PLUGIN_CALL_VARIABLES, SETTINGS, TABLE_PREFIXES, TABLES, Config, Problem, mask_secret

#: Version of ``pycache config --json``'s layout.
SCHEMA = 1


def _table_rows(config: Config) -> list[tuple[str, str, str]]:
    """(name, value, origin) of every table-valued setting: the file's tables
    flattened (``[opendal] bucket`` -> ``opendal.bucket``) and the variables
    of their families."""
    rows: list[tuple[str, str, str]] = []
    for table in TABLES:
        for key, value in _flatten(table, config.table(table)):
            rows.append((key, str(value), f"config file {config.file}"))
        prefix = TABLE_PREFIXES.get(table)
        if prefix:
            for name in sorted(config.environ):
                if name.startswith(prefix):
                    rows.append((name, config.environ[name], "environment"))
    for name, owner in PLUGIN_CALL_VARIABLES.items():
        if name in config.environ:
            rows.append((name, config.environ[name], f"environment; {owner}, read per call"))
    return [(name, mask_secret(name, value, by_name=True) or "", origin) for name, value, origin in rows]


def _flatten(prefix: str, table: dict) -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in table.items():
        if isinstance(value, dict):
            items += _flatten(f"{prefix}.{key}", value)
        else:
            items.append((f"{prefix}.{key}", value))
    return items


def _file_state(config: Config) -> str:
    if config.file.is_file():
        return "exists"
    if config.file.exists():
        return "is not a file"
    return "does not exist" + (" (set explicitly)" if config.file_explicit else ": settings come from the environment and defaults")


def as_json(config: Config, problems: list[Problem]) -> dict[str, Any]:
    by_name = {p.name: p for p in problems}
    settings = {}
    for setting in config.all():
        spec = SETTINGS[setting.name]
        problem = by_name.get(setting.name)
        settings[setting.name] = {
            "value": mask_secret(setting.name, setting.value),
            "origin": setting.origin,
            "kind": spec.kind.value,
            "meaning": spec.meaning,
            "problem": problem.why if problem else None,
        }
    return {
        "schema_version": SCHEMA,
        "config_file": {"path": str(config.file), "exists": config.file.is_file(), "explicit": config.file_explicit},
        "settings": settings,
        "tables": [{"name": n, "value": v, "origin": o} for n, v, o in _table_rows(config)],
        "problems": [
            {"name": p.name, "value": mask_secret(p.name, p.value), "origin": p.origin, "why": p.why,
             "warning": p.warning, "fatal": p.fatal}
            for p in problems
        ],
    }


def show(console: Console, config: Config, problems: list[Problem]) -> None:
    def line(text: Text) -> None:
        console.print(text, soft_wrap=True, highlight=False)

    by_name: dict[str, list[Problem]] = {}
    for problem in problems:
        by_name.setdefault(problem.name, []).append(problem)
    line(Text(f"config file: {config.file} ({_file_state(config)})", style="bold"))
    for setting in config.all():
        spec = SETTINGS[setting.name]
        value = mask_secret(setting.name, setting.value)
        text = Text(f"{setting.name}={'' if value is None else value}")
        text.append(f"  [{setting.origin}{'' if value is not None else ', unset'}]", style="dim")
        text.append(f" {spec.meaning}" + (f" (0 = {spec.zero})" if spec.zero else ""), style="dim")
        line(text)
        for problem in by_name.pop(setting.name, []):
            line(_problem_line(problem))
    rows = _table_rows(config)
    if rows:
        line(Text("tables (checked by their plugins: pycache doctor):", style="bold"))
        for name, value, origin in rows:
            line(Text(f"{name}={value}") + Text(f"  [{origin}]", style="dim"))
    rest = [problem for problems_of in by_name.values() for problem in problems_of]
    if rest:  # the config file's own, unknown variables
        line(Text("other:", style="bold"))
        for problem in rest:
            line(_problem_line(problem, named=True))
    errors = [p for p in problems if not p.warning]
    if errors:
        line(Text(f"{len(errors)} invalid setting(s)", style="bold red"))
    else:
        line(Text("all settings valid" + (f" ({len(problems)} warning(s))" if problems else ""), style="bold green"))


def _problem_line(problem: Problem, named: bool = False) -> Text:
    label = "warning" if problem.warning else "invalid"
    head = f"{problem.name}: " if named else ""
    return Text(f"  ^ {label}: {head}{problem.why}", style="yellow" if problem.warning else "red")
