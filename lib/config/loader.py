"""The loader: the only code that reads config files or the process environment.

An environment file (`config/<env>.toml`) is merged over the defaults of its profile (see
profiles.py), validated into an `EnvironmentConfig`, and then checked for rules that span fields
(each section's module holds its own). Any problem raises `ConfigError`, one line per problem:
`<file>: <field path>: <what is wrong and what is allowed>`. The account file
(`config/account.toml`) is validated the same way into an `AccountConfig`.

A file may start from another: `extends = "<file>"`, relative to the file, takes that file's
values (and those of the file it extends in turn), and the file's own override them key by key,
tables merged and lists replaced as over the profile, whose defaults are under them all.
`environment` and `extends` are each file's own, never inherited. A problem with a value names
the file that wrote it. A file named `*.base.toml` holds shared settings only: no directory
listing takes it for an environment.
"""

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lib.config.delivery import AccountConfig, account_problems
from lib.config.environment import EnvironmentConfig, cross_field_problems
from lib.config.errors import ConfigError, describe
from lib.config.profiles import PROFILE_DEFAULTS, apply_profile, merge
from lib.core.target import Target

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The directory of environment and account files: config/, or $PLATFORM_CONFIG_DIR (the test
# suite points it at its own sample, so nothing but tests/test_config_dir.py reads config/).
ENV_CONFIG_DIR = "PLATFORM_CONFIG_DIR"
CONFIG_DIR = Path(os.environ.get(ENV_CONFIG_DIR, "").strip() or PROJECT_ROOT / "config")
ACCOUNT_FILE = "account.toml"  # the bootstrap stack `bootstrap-stack`
# More accounts (one per environment is the recommended layout, README "Accounts"): each
# config/account-<name>.toml builds its own bootstrap stack, `bootstrap-<name>-stack`.
ACCOUNT_FILE_PATTERN = "account-*.toml"
# Shared settings that environment files extend (`extends = "rayman.base.toml"`): not an
# environment, so `make synth`, the presets and every listing of a directory leave it out.
BASE_FILE_PATTERN = "*.base.toml"
# Keys that belong to the file that writes them: a file's environment is its own (its name by
# default), and the file a base extends is read with the base.
OWN_KEYS = ("environment", "extends")

# Environment variables this project reads (documented in the README).
ENV_CONFIG_FILES = "PLATFORM_CONFIG"  # os.pathsep-separated list of environment files to synthesize
ENV_TARGET = "PLATFORM_TARGET"  # where the synthesized stacks are meant to run, see Target
ENV_LOCAL_ENDPOINT = "PLATFORM_LOCAL_ENDPOINT"  # the emulator's URL for Target.LOCAL
DEFAULT_LOCAL_ENDPOINT = "http://127.0.0.1:4566"
ENV_SYNTH_WORKERS = "PLATFORM_SYNTH_WORKERS"  # processes `python main.py` splits the stacks over
# (PLATFORM_TYPE_CHECKS is read by main.py itself, before it imports this module.)
ENV_OUTDIR = "CDKTF_OUTDIR"  # set by the cdktf CLI: where the synthesized stacks go


@dataclass(frozen=True)
class EnvironmentFile:
    """What an environment file says once the files it extends are read: `data` merged from the
    last base to the file itself (without profile defaults), `written_by` the file that wrote
    each key path (tables and their keys; a list is written whole), `chain` the file first, then
    the file it extends, and so on."""
    data: dict[str, Any]
    written_by: dict[tuple[str, ...], str]
    chain: list[Path]


def read_environment_file(path: Path) -> EnvironmentFile:
    """An environment file with the files it extends, merged. Raises ConfigError: a file that is
    not TOML, an `extends` that is not a file name, names no file or makes a cycle."""
    chain, tables = [path], [_read_toml(path)]
    while "extends" in tables[-1]:
        value, shown = tables[-1]["extends"], _display(chain[-1])
        if not isinstance(value, str) or not value.strip():
            raise ConfigError([f"{shown}: extends: must be a quoted file name, relative to this "
                               f"file, e.g. \"app.base.toml\" (got {value!r})"])
        base = chain[-1].parent / value
        if not base.is_file():
            raise ConfigError([f"{shown}: extends: '{value}' is not a file ({_display(base)} "
                               f"does not exist)"])
        if any(base.resolve() == seen.resolve() for seen in chain):
            cycle = " -> ".join(_display(p) for p in [*chain, base])
            raise ConfigError([f"{shown}: extends: '{value}' makes a cycle ({cycle}); a file "
                               f"cannot extend itself or a file that extends it"])
        chain.append(base)
        tables.append(_read_toml(base))
    data: dict[str, Any] = {}
    written_by: dict[tuple[str, ...], str] = {}
    for file, table in reversed(list(zip(chain, tables))):
        inherited = {key: value for key, value in table.items()
                     if file == path or key not in OWN_KEYS}
        data = merge(data, inherited)
        _record(written_by, inherited, _display(file), ())
    return EnvironmentFile(data, written_by, chain)


def _record(written_by: dict[tuple[str, ...], str], table: dict[str, Any], shown: str,
            prefix: tuple[str, ...]) -> None:
    for key, value in table.items():
        written_by[(*prefix, key)] = shown
        if isinstance(value, dict):
            _record(written_by, value, shown, (*prefix, key))


def _read_toml(path: Path) -> dict[str, Any]:
    shown = _display(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError([f"{shown}: not valid TOML: {err}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{shown}: not valid TOML: the file is not UTF-8 text"]) from None


def load_environment(path: Path) -> EnvironmentConfig:
    """Read (with the files it extends), merge over profile defaults, validate. Raises
    ConfigError."""
    shown = _display(path)
    if not path.is_file():
        available = ", ".join(p.stem for p in config_files(CONFIG_DIR)[0]) or "none"
        raise ConfigError([f"{shown}: no such environment file (environments in "
                           f"{_display(CONFIG_DIR)}/: {available})"])
    if is_base_file(path):
        raise ConfigError([f"{shown}: a base file ({BASE_FILE_PATTERN}) holds settings that "
                           f"environment files extend; it is not an environment of its own"])
    written = read_environment_file(path)
    data = written.data

    data.setdefault("environment", path.stem)
    profile = data.get("profile", data["environment"])
    if not isinstance(profile, str) or profile not in PROFILE_DEFAULTS:
        allowed = ", ".join(PROFILE_DEFAULTS)
        if "profile" in data:
            message = f"profile: {profile!r} is not allowed; allowed: {allowed}"
            shown_profile = written.written_by[("profile",)]
        else:
            message = ("profile: required when the environment is not named after a profile; "
                       f"allowed: {allowed}")
            shown_profile = shown
        raise ConfigError([_located(shown_profile, shown, message)])
    data["profile"] = profile
    merged = apply_profile(profile, data)

    def line(loc: tuple[Any, ...], message: str) -> str:
        return _located(_written_by(loc, merged, written.written_by, shown), shown, message)

    try:
        config = EnvironmentConfig.model_validate(merged)
    except ValidationError as err:
        raise ConfigError([line(tuple(e["loc"]), describe(e, merged, EnvironmentConfig))
                           for e in err.errors()]) from None
    problems = [line(tuple(part.split("[")[0] for part in field.split(".")),
                     f"{field}: {message}") for field, message in cross_field_problems(config)]
    if problems:
        raise ConfigError(problems)
    return config.model_copy(update={"source": shown})


def _written_by(loc: tuple[Any, ...], merged: dict[str, Any],
                written_by: dict[tuple[str, ...], str], shown: str) -> str:
    """The file that wrote the value at `loc` (a pydantic location or a field path): the deepest
    table key a file wrote, down to a list or a value, which one file writes whole. A key no file
    wrote (a profile default, a missing field) is the environment file's."""
    node: Any = merged
    path: tuple[str, ...] = ()
    found = shown
    for key in loc:
        if not isinstance(node, dict):
            break
        path = (*path, key)
        if path not in written_by:
            return shown
        found, node = written_by[path], node.get(key)
    return found


def _located(written_in: str, shown: str, message: str) -> str:
    """`<file>: <message>`, naming the environment file too when a file it extends wrote it."""
    if written_in == shown:
        return f"{shown}: {message}"
    return f"{written_in}: {message} (inherited by {shown})"


def load_environments(paths: list[Path] | None = None) -> list[EnvironmentConfig]:
    """Load every environment to synthesize: `paths`, else $PLATFORM_CONFIG, else config/*.toml."""
    if paths is None:
        paths = config_paths()
    configs: list[EnvironmentConfig] = []
    problems: list[str] = []
    for path in paths:
        try:
            configs.append(load_environment(path))
        except ConfigError as err:
            problems.extend(err.problems)
    by_name: dict[str, EnvironmentConfig] = {}
    for config in configs:
        if config.environment in by_name:
            problems.append(f"{config.source}: environment: '{config.environment}' is already "
                            f"defined by {by_name[config.environment].source}; each environment "
                            "needs its own name (it names the stack and every resource)")
        by_name[config.environment] = config
    problems += _prefix_problems(configs)
    if problems:
        raise ConfigError(problems)
    if not configs:
        raise ConfigError([f"{_display(CONFIG_DIR)}: no environment files (*.toml) found"])
    return configs


def _prefix_problems(configs: list[EnvironmentConfig]) -> list[str]:
    """Two environments of one project in one account whose names are `<a>` and `<a>-<b>`:
    IAM grants each environment's deploy role its resources by name prefix
    (`<project>-<a>-*`, lib/delivery/policies.py), which covers every `<project>-<a>-<b>-*` name
    too, so the first would reach the second's resources."""
    problems = []
    for config in configs:
        for other in configs:
            if (other is not config and (other.project, other.account_id) ==
                    (config.project, config.account_id)
                    and other.environment.startswith(f"{config.environment}-")):
                problems.append(
                    f"{other.source}: environment: '{other.environment}' starts with "
                    f"'{config.environment}-', the environment of {config.source} in the same "
                    f"account: its deploy role, granted '{config.project}-{config.environment}-*' "
                    f"names, would reach this one's resources; rename one (or use another "
                    f"account)")
    return problems


def config_paths() -> list[Path]:
    override = os.environ.get(ENV_CONFIG_FILES, "").strip()
    if override:
        return [Path(p) for p in override.split(os.pathsep) if p]
    return config_files()[0]


def config_files(directory: Path | None = None) -> tuple[list[Path], list[Path]]:
    """(environment files, account files) of a config directory, config/ by default; sorted.
    Base files (*.base.toml) are neither."""
    tomls = [p for p in sorted((directory or CONFIG_DIR).glob("*.toml")) if not is_base_file(p)]
    return [p for p in tomls if not is_account_file(p)], [p for p in tomls if is_account_file(p)]


def is_account_file(path: Path) -> bool:
    return path.name == ACCOUNT_FILE or path.match(ACCOUNT_FILE_PATTERN)


def is_base_file(path: Path) -> bool:
    return path.match(BASE_FILE_PATTERN)


def load_environment_named(name: str) -> EnvironmentConfig:
    """config/<name>.toml, for the tools the workflows call with an environment's name."""
    return load_environment(CONFIG_DIR / f"{name}.toml")


def load_config_dir(directory: Path) -> tuple[list[EnvironmentConfig], list[AccountConfig]]:
    """Every file of a config directory, checked as `make synth` checks config/: each loads, and
    every environment has its account file. Raises ConfigError."""
    environments = load_environments(config_files(directory)[0])
    accounts = load_accounts(directory)
    check_accounts(environments, accounts)
    return environments, accounts


def load_accounts(directory: Path | None = None) -> list[AccountConfig]:
    """Every account file of a config directory, config/ by default (account.toml,
    account-<name>.toml), one bootstrap stack each. Raises ConfigError, also when two files name
    the same account."""
    paths = config_files(directory)[1]
    accounts = [load_account(p) for p in paths] or [
        load_account((directory or CONFIG_DIR) / ACCOUNT_FILE)]
    seen: dict[str, str] = {}
    for account in accounts:
        if account.account_id in seen:
            raise ConfigError([f"{account.source}: account_id: {account.account_id} is already "
                               f"bootstrapped by {seen[account.account_id]}; one account file "
                               f"per account"])
        seen[account.account_id] = account.source
    return accounts


def check_accounts(environments: list[EnvironmentConfig], accounts: list[AccountConfig]) -> None:
    """Every environment belongs to an account file of the same project: the bootstrap stack of
    its account creates its deploy roles, boundary and state bucket, and names them by the
    account file's project. Raises ConfigError, one line per environment that has none."""
    by_id = {account.account_id: account for account in accounts}
    problems = []
    for env in environments:
        account = by_id.get(env.account_id)
        if account is None:
            known = ", ".join(f"{a.source}: {a.account_id}" for a in accounts)
            problems.append(_located(_written_in(env, "account_id"), env.source,
                                     f"account_id: {env.account_id} is in no account file "
                                     f"({known}), so no bootstrap stack would create its roles "
                                     f"and state; use one of those ids or add "
                                     f"config/account-<name>.toml for it"))
        elif account.project != env.project:
            problems.append(_located(_written_in(env, "project"), env.source,
                                     f"project: '{env.project}' differs from "
                                     f"'{account.project}' in {account.source}, whose bootstrap "
                                     f"stack names this environment's roles and state; write "
                                     f"the same project in both"))
    if problems:
        raise ConfigError(problems)


def _written_in(env: EnvironmentConfig, key: str) -> str:
    """The file that wrote a top-level key of a loaded environment: its own, or one it extends
    (read again: only a problem asks)."""
    return read_environment_file(PROJECT_ROOT / env.source).written_by.get((key,), env.source)


def load_account(path: Path | None = None) -> AccountConfig:
    """The account file (config/account.toml). Raises ConfigError."""
    path = path or CONFIG_DIR / ACCOUNT_FILE
    shown = _display(path)
    if not path.is_file():
        raise ConfigError([f"{shown}: no account file (it names the project, account and region "
                           "the bootstrap stack is built for)"])
    data = _read_toml(path)
    try:
        account = AccountConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError([f"{shown}: {describe(e, data, AccountConfig)}"
                           for e in err.errors()]) from None
    problems = account_problems(account)
    if problems:
        raise ConfigError([f"{shown}: {field}: {message}" for field, message in problems])
    suffix = path.stem.removeprefix("account").removeprefix("-")
    stack_name = f"bootstrap-{suffix}-stack" if suffix else "bootstrap-stack"
    return account.model_copy(update={"source": shown, "stack_name": stack_name})


def load_local_endpoint() -> str:
    return os.environ.get(ENV_LOCAL_ENDPOINT, "").strip() or DEFAULT_LOCAL_ENDPOINT


def load_outdir() -> Path:
    return Path(os.environ.get(ENV_OUTDIR, "").strip() or "cdktf.out")


def load_synth_workers() -> int:
    """$PLATFORM_SYNTH_WORKERS, else one per CPU this process may use."""
    value = os.environ.get(ENV_SYNTH_WORKERS, "").strip()
    if not value:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
            else os.cpu_count() or 1
    if not value.isdigit() or int(value) < 1:
        raise ConfigError([f"${ENV_SYNTH_WORKERS}: '{value}' is not a number of worker "
                           "processes; allowed: a whole number of at least 1"])
    return int(value)


def load_target() -> Target:
    value = os.environ.get(ENV_TARGET, Target.AWS.value).strip() or Target.AWS.value
    try:
        return Target(value)
    except ValueError:
        allowed = ", ".join(t.value for t in Target)
        raise ConfigError([f"${ENV_TARGET}: '{value}' is not a target; allowed: {allowed}"]) from None


def _display(path: Path) -> str:
    """Paths in messages are relative to the project when they are inside it."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)
