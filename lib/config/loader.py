"""The loader: the only code that reads config files or the process environment.

An environment file (`config/<env>.toml`) is merged over the defaults of its profile (see
profiles.py), validated into an `EnvironmentConfig`, and then checked for rules that span fields
(each section's module holds its own). Any problem raises `ConfigError`, one line per problem:
`<file>: <field path>: <what is wrong and what is allowed>`. The account file
(`config/account.toml`) is validated the same way into an `AccountConfig`.
"""

import os
import tomllib
from pathlib import Path

from pydantic import ValidationError

from lib.config.delivery import AccountConfig, account_problems
from lib.config.environment import EnvironmentConfig, cross_field_problems
from lib.config.errors import ConfigError, describe
from lib.config.profiles import PROFILE_DEFAULTS, apply_profile
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

# Environment variables this project reads (documented in the README).
ENV_CONFIG_FILES = "PLATFORM_CONFIG"  # os.pathsep-separated list of environment files to synthesize
ENV_TARGET = "PLATFORM_TARGET"  # where the synthesized stacks are meant to run, see Target
ENV_LOCAL_ENDPOINT = "PLATFORM_LOCAL_ENDPOINT"  # the emulator's URL for Target.LOCAL
DEFAULT_LOCAL_ENDPOINT = "http://127.0.0.1:4566"
ENV_SYNTH_WORKERS = "PLATFORM_SYNTH_WORKERS"  # processes `python main.py` splits the stacks over
# (PLATFORM_TYPE_CHECKS is read by main.py itself, before it imports this module.)
ENV_OUTDIR = "CDKTF_OUTDIR"  # set by the cdktf CLI: where the synthesized stacks go


def load_environment(path: Path) -> EnvironmentConfig:
    """Read, merge over profile defaults, validate. Raises ConfigError."""
    shown = _display(path)
    if not path.is_file():
        available = ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.toml")
                                     if not is_account_file(p))) or "none"
        raise ConfigError([f"{shown}: no such environment file (environments in "
                           f"{_display(CONFIG_DIR)}/: {available})"])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError([f"{shown}: not valid TOML: {err}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{shown}: not valid TOML: the file is not UTF-8 text"]) from None

    data.setdefault("environment", path.stem)
    profile = data.get("profile", data["environment"])
    if not isinstance(profile, str) or profile not in PROFILE_DEFAULTS:
        allowed = ", ".join(PROFILE_DEFAULTS)
        if "profile" in data:
            message = f"profile: {profile!r} is not allowed; allowed: {allowed}"
        else:
            message = ("profile: required when the environment is not named after a profile; "
                       f"allowed: {allowed}")
        raise ConfigError([f"{shown}: {message}"])
    data["profile"] = profile
    merged = apply_profile(profile, data)

    try:
        config = EnvironmentConfig.model_validate(merged)
    except ValidationError as err:
        raise ConfigError([f"{shown}: {describe(e, merged, EnvironmentConfig)}"
                           for e in err.errors()]) from None
    problems = [f"{shown}: {field}: {message}" for field, message in cross_field_problems(config)]
    if problems:
        raise ConfigError(problems)
    return config.model_copy(update={"source": shown})


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
    """(environment files, account files) of a config directory, config/ by default; sorted."""
    tomls = sorted((directory or CONFIG_DIR).glob("*.toml"))
    return [p for p in tomls if not is_account_file(p)], [p for p in tomls if is_account_file(p)]


def is_account_file(path: Path) -> bool:
    return path.name == ACCOUNT_FILE or path.match(ACCOUNT_FILE_PATTERN)


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
            problems.append(f"{env.source}: account_id: {env.account_id} is in no account file "
                            f"({known}), so no bootstrap stack would create its roles and state; "
                            f"use one of those ids or add config/account-<name>.toml for it")
        elif account.project != env.project:
            problems.append(f"{env.source}: project: '{env.project}' differs from "
                            f"'{account.project}' in {account.source}, whose bootstrap stack "
                            f"names this environment's roles and state; write the same project "
                            f"in both")
    if problems:
        raise ConfigError(problems)


def load_account(path: Path | None = None) -> AccountConfig:
    """The account file (config/account.toml). Raises ConfigError."""
    path = path or CONFIG_DIR / ACCOUNT_FILE
    shown = _display(path)
    if not path.is_file():
        raise ConfigError([f"{shown}: no account file (it names the project, account and region "
                           "the bootstrap stack is built for)"])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError([f"{shown}: not valid TOML: {err}"]) from None
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
