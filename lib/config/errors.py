"""What a user sees when a config file is wrong: `ConfigError`, one line per problem, and
`describe`, which turns one pydantic validation error into `<field path>: <what is wrong and what
is allowed>` (list items named by their `name`, unknown keys with "did you mean").
"""

import difflib
import json
from typing import Any

from pydantic import BaseModel


class ConfigError(Exception):
    """A user's config mistake. `str()` is ready to print: one line per problem, no traceback."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def describe(error: Any, data: dict[str, Any], root: type[BaseModel]) -> str:
    """One pydantic error about `data` (the merged file, validated as `root`), as one line."""
    loc = tuple(error["loc"])
    path = _field_path(loc, data)
    kind = error["type"]
    got = error.get("input")
    ctx = error.get("ctx", {})
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc, root)
        hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.5)
        suggestion = f"did you mean '{hint[0]}'? " if hint else ""
        return f"{path}: unknown key; {suggestion}allowed: {', '.join(allowed)}"
    if kind == "missing":
        return f"{path}: required field is missing"
    if kind == "literal_error":
        return f"{path}: {got!r} is not allowed; allowed: {ctx.get('expected')}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bounds = {"greater_than_equal": f">= {ctx.get('ge')}", "less_than_equal":
                  f"<= {ctx.get('le')}", "greater_than": f"> {ctx.get('gt')}",
                  "less_than": f"< {ctx.get('lt')}"}[kind]
        return f"{path}: must be {bounds} (got {got!r})"
    if kind == "value_error":
        return f"{path}: {error['msg'].removeprefix('Value error, ')}"
    if kind in _WRITE:
        return f"{path}: {_toml(got)} is not allowed: write {_WRITE[kind]}"
    expected = {"string_type": "a quoted string", "list_type": "a list [...]", "dict_type":
                "a table", "model_type": "a table", "model_attributes_type": "a table"}
    if kind in expected:
        return f"{path}: must be {expected[kind]} (got {_toml(got)})"
    return f"{path}: {error['msg']}"


# The config is strict (fields.Section): a boolean or number field takes only that TOML type, so
# "yes", "on", 1 or "true" for a boolean are refused rather than read as true, and true (Python's
# bool is an int) or "2" for a number are refused rather than read as 1 or 2.
_WRITE = {
    "bool_type": "true or false (a TOML boolean, without quotes)",
    "int_type": "a whole number (a TOML integer, without quotes or a decimal point)",
    "float_type": "a number such as 80 or 12.5 (without quotes)",
    "finite_number": "a finite number",
}


def _toml(value: Any) -> str:
    """A value as the TOML file spells it: "yes" quoted, true in lower case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return str(value)


def _field_path(loc: tuple[Any, ...], data: Any) -> str:
    """('services', 1, 'port') -> 'services.backend.port' (list items shown by their name)."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int):
            name = node[item].get("name") if isinstance(node, list) and item < len(node) \
                and isinstance(node[item], dict) else None
            parts.append(str(name) if isinstance(name, str) else f"[{item}]")
        else:
            parts.append(str(item))
        try:
            node = node[item]
        except (KeyError, IndexError, TypeError):
            node = None
    return ".".join(parts).replace(".[", "[")


def _allowed_keys(loc: tuple[Any, ...], root: Any) -> list[str]:
    model: Any = root
    for item in loc[:-1]:
        if isinstance(item, int):
            continue
        field = model.model_fields.get(item)
        if field is None:
            return []
        annotation = field.annotation
        for candidate in (annotation, *getattr(annotation, "__args__", ())):
            inner = getattr(candidate, "__args__", (candidate,))
            found = next((t for t in (candidate, *inner)
                          if isinstance(t, type) and issubclass(t, BaseModel)), None)
            if found is not None:
                model = found
                break
        else:
            return []
    return [name for name in model.model_fields if name != "source"]
