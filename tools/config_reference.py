"""`make docs`: the README's config reference, generated from the schema (lib/config) and the
profiles, so every default and its documentation live once, beside the field.

    bin/run python tools/config_reference.py          rewrite README.md between the markers
    bin/run python tools/config_reference.py --check  exit 1 when README.md is stale

Three tables: the environment file, with a column per profile holding the default a file of that
profile gets (by the loader's own merge, `apply_profile`); the keys of a `[[services]]` entry; and
the account file. A row's text is its field's description, followed by what its type allows where
the description does not already say it. Only the text between the markers is rewritten.
"""

import argparse
import sys
import typing
from pathlib import Path
from typing import Any, Callable, Literal

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel
from pydantic.fields import FieldInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.config import AccountConfig, EnvironmentConfig, ServiceConfig  # noqa: E402
from lib.config.profiles import PROFILE_DEFAULTS, apply_profile  # noqa: E402

README = ROOT / "README.md"
BOUNDS = {Ge: "ge", Gt: "gt", Le: "le", Lt: "lt"}  # what Field(ge=..., ...) puts in metadata
GENERATED = "<!-- Generated from lib/config by `make docs` (tools/config_reference.py): edit the " \
    "schema, not this table. -->"


def environment_reference() -> str:
    profiles = list(PROFILE_DEFAULTS)
    merged = [apply_profile(profile, {}) for profile in profiles]
    lines = [GENERATED, "",
             "Each profile column is the default a file of that profile gets; an empty cell is "
             "the same as dev.", "",
             _header(["key", *profiles, "description"])]
    for key, defaults, text in _rows(EnvironmentConfig, "", merged):
        same = all(d == defaults[0] for d in defaults)
        cells = [defaults[0]] + ([""] * (len(defaults) - 1) if same else defaults[1:])
        lines.append(_row([f"`{key}`", *cells, text]))
    lines += ["", "The account file, `config/account.toml`, is not an environment: it describes "
              "what the bootstrap stack builds once per account.", "",
              _header(["key", "default", "description"])]
    lines += [_row([f"`{key}`", default, text])
              for key, [default], text in _rows(AccountConfig, "", [{}])]
    return "\n".join(lines) + "\n"


def services_reference() -> str:
    lines = [GENERATED, "", _header(["key", "default", "description"])]
    lines += [_row([f"`{key}`", default, text])
              for key, [default], text in _rows(ServiceConfig, "", [{}])]
    return "\n".join(lines) + "\n"


SECTIONS = {"config-reference": environment_reference,
            "config-reference:services": services_reference}


def update(text: str) -> str:
    """`text` (the README) with every generated section rewritten."""
    for name, render in SECTIONS.items():
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        if text.count(start) != 1 or text.count(end) != 1:
            raise ValueError(f"README.md needs exactly one {start} and one {end}")
        before, rest = text.split(start)
        _, after = rest.split(end)
        text = f"{before}{start}\n{render()}{end}{after}"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when README.md differs from what the schema generates")
    args = parser.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    try:
        fresh = update(text)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 1
    if args.check:
        if fresh != text:
            print("README.md: the config reference is stale; run `make docs`", file=sys.stderr)
            return 1
        return 0
    if fresh != text:
        README.write_text(fresh, encoding="utf-8")
        print("README.md: config reference rewritten")
    return 0


# --- rows -----------------------------------------------------------------------------------

def _rows(model: type[BaseModel], prefix: str,
          data: list[dict[str, Any]]) -> list[tuple[str, list[str], str]]:
    """(key, default per column, description) for every key of `model`, nested tables
    flattened. `data` holds, per column, what the profile sets below `prefix`."""
    rows = []
    for name, field in model.model_fields.items():
        if field.exclude:  # set by the loader, not the file
            continue
        key = f"{prefix}{name}"
        table, optional = _model_of(field.annotation)
        entry = _entry_model(field.annotation)
        if table is not None and not optional:  # a table that is always there: only its keys
            rows += _rows(table, f"{key}.", [d.get(name) or {} for d in data])
            continue
        if entry is not None:  # [[array of tables]]: its keys below, except a service's
            rows.append((f"[[{key}]]", [_default(field, name, d, _names) for d in data],
                         _text(field)))
            if entry is not ServiceConfig:
                rows += [(f"{key}[].{sub}", cells, text)
                         for sub, cells, text in _rows(entry, "", [{} for _ in data])]
            continue
        rows.append((key, [_default(field, name, d, _toml) for d in data], _text(field)))
        if table is not None:  # a table that may be left out: its row, then its keys
            rows += _rows(table, f"{key}.", [d.get(name) or {} for d in data])
    return rows


def _default(field: FieldInfo, name: str, data: dict[str, Any],
             render: Callable[[Any], str]) -> str:
    if name in data:
        return render(data[name])
    shown = (field.json_schema_extra or {}).get("computed_default")  # type: ignore[union-attr]
    if shown:
        return str(shown)
    if field.is_required():
        return "required"
    return render(field.get_default(call_default_factory=True))


def _toml(value: Any) -> str:
    """A default as it would be written in the file."""
    return f"`{_literal(value)}`" if value is not None else "none"


def _names(tables: list[Any]) -> str:
    """A default list of tables, by its entries' names."""
    names = [t["name"] if isinstance(t, dict) else t.name for t in tables]
    return ", ".join(f"`{n}`" for n in names) or "none"


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(map(_literal, value)) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_literal(v)}" for k, v in value.items()) + " }" \
            if value else "{}"
    return str(value)


def _text(field: FieldInfo) -> str:
    """The description, then the bounds and the choices its type allows (unless it lists them)."""
    text = field.description or ""
    bound = {type(m): _number(getattr(m, BOUNDS[type(m)])) for m in field.metadata
             if type(m) in BOUNDS}
    if Ge in bound and Le in bound and not bound[Ge].startswith("-"):
        text += f" Range: {bound[Ge]}-{bound[Le]}."
    elif bound:
        words = {Ge: "at least", Gt: "above", Le: "at most", Lt: "below"}
        limits = ", ".join(f"{words[kind]} {bound[kind]}" for kind in words if kind in bound)
        text += f" {limits[0].upper()}{limits[1:]}."
    choices = _choices(field.annotation)
    if choices and not all(f"`{c}`" in text for c in choices):
        many = typing.get_origin(field.annotation) is list
        text += f" {'Any' if many else 'One'} of {', '.join(f'`{c}`' for c in choices)}."
    return text.strip()


def _number(value: float) -> str:
    return f"{value:,}" if abs(value) >= 10_000 else str(value)


def _choices(annotation: Any) -> list[str]:
    if typing.get_origin(annotation) is Literal:
        return [_literal(a).strip('"') for a in typing.get_args(annotation)]
    return [c for arg in typing.get_args(annotation) for c in _choices(arg)]


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """(the table type, whether it may be left out) of `Model` or `Model | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is not list and type(None) in args:
        found = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        return (found[0], True) if found else (None, False)
    return None, False


def _entry_model(annotation: Any) -> type[BaseModel] | None:
    """The table type of `list[Model]`."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is list and isinstance(args[0], type) \
            and issubclass(args[0], BaseModel):
        return args[0]
    return None


def _header(columns: list[str]) -> str:
    return _row(columns) + "\n" + _row(["---"] * len(columns))


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


if __name__ == "__main__":
    sys.exit(main())
