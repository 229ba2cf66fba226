"""The checkov waivers (policy/checkov-skips.toml) and the one matcher both of their tests use:
tests/test_policy.py on checkov's real findings, tests/test_waivers.py on made-up ones.

A waiver explains one check on named resources of the stacks of named profiles, optionally only
where the stack's config holds given values (`when`). A stack's profile is the `profile` of the
file it is built from (the loader's answer, so an environment named after a profile without a
`profile` key counts too); the bootstrap stack, built from an account file, has the profile
`bootstrap`. Waivers never name a stack: they follow what a stack is, so they explain the same
finding in a team's own config/ (tests/test_config_dir.py) as in the preset it started from.
"""

import tomllib
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel

from lib.config import PROFILE_DEFAULTS, EnvironmentConfig, load_environment
from lib.config.loader import is_account_file

BOOTSTRAP = "bootstrap"
PROFILES = (*PROFILE_DEFAULTS, BOOTSTRAP)
KEYS = {"check", "resources", "glob", "max_matches", "profiles", "when", "reason"}
MIN_REASON = 40  # characters: a reason, not a label


def profile_of(config_file: Path) -> str:
    """The profile a stack built from `config_file` has."""
    return BOOTSTRAP if is_account_file(config_file) else load_environment(config_file).profile


def settings_of(config_file: Path) -> dict[str, Any]:
    """The values a `when` can test, by dotted key (e.g. "edge.waf"), of the file's environment
    after its profile's defaults (none for the bootstrap stack)."""
    if is_account_file(config_file):
        return {}
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}{key}.", inner)
        else:
            flat[prefix.removesuffix(".")] = value
    walk("", load_environment(config_file).model_dump())
    return flat


@dataclass(frozen=True)
class Finding:
    stack: str  # the stack's label, e.g. "examples/lean"
    check: str  # e.g. "CKV_AWS_116"
    address: str  # "<resource type>.<construct path>"


@dataclass(frozen=True)
class Waiver:
    check: str
    profiles: tuple[str, ...]
    reason: str
    resources: tuple[str, ...] = ()  # exact addresses, or
    glob: str = ""  # a pattern over addresses, with
    max_matches: int = 0  # the most resources it may match in one stack
    # Only where the config holds these values (a preset's own choice against its profile's
    # default): ((dotted key, value), ...)
    when: tuple[tuple[str, Any], ...] = ()

    def __str__(self) -> str:
        what = self.glob or ", ".join(self.resources)
        condition = "".join(f", when {k} = {v!r}" for k, v in self.when)
        return f"{self.check} {what} [{', '.join(self.profiles)}{condition}]"

    def applies(self, profile: str, settings: dict[str, Any]) -> bool:
        """To a stack of this profile and settings, whatever its findings."""
        return profile in self.profiles and all(
            key in settings and settings[key] == value for key, value in self.when)

    def covers(self, finding: Finding, profile: str, settings: dict[str, Any]) -> bool:
        return (finding.check == self.check and self.applies(profile, settings)
                and (finding.address in self.resources
                     or bool(self.glob) and fnmatch(finding.address, self.glob)))


def parse(text: str) -> list[Waiver]:
    """The `[[waiver]]` entries of the file; ValueError names every malformed one."""
    waivers, problems = [], []
    for i, entry in enumerate(tomllib.loads(text).get("waiver", []), start=1):
        where = f"waiver {i} ({entry.get('check', 'no check')})"
        problems += [f"{where}: unknown key {k!r}" for k in sorted(set(entry) - KEYS)]
        problems += [f"{where}: {k!r} is required" for k in ("check", "profiles", "reason")
                     if k not in entry]
        if bool(entry.get("resources")) == bool(entry.get("glob")):
            problems.append(f"{where}: needs exactly one of 'resources' (exact addresses) and "
                            "'glob'")
        if bool(entry.get("glob")) != bool(entry.get("max_matches")):
            problems.append(f"{where}: a 'glob' needs 'max_matches' (>= 1), and only a glob")
        problems += [f"{where}: {a!r} in 'resources' is a pattern; use 'glob' and 'max_matches'"
                     for a in entry.get("resources", []) if any(c in a for c in "*?[")]
        problems += [f"{where}: unknown profile {p!r}; profiles: {', '.join(PROFILES)}"
                     for p in entry.get("profiles", []) if p not in PROFILES]
        if len(entry.get("reason", "")) <= MIN_REASON:
            problems.append(f"{where}: the reason must say why, in more than {MIN_REASON} "
                            "characters")
        problems += [f"{where}: when: {k!r} is not a config key (dotted, e.g. 'edge.waf')"
                     for k in entry.get("when", {}) if not _is_setting(k)]
        if not problems:
            entry["when"] = tuple(entry.get("when", {}).items())
            waivers.append(Waiver(**{k: tuple(v) if isinstance(v, list) else v
                                     for k, v in entry.items()}))
    if problems:
        raise ValueError("\n".join(problems))
    return waivers


def _is_setting(key: str) -> bool:
    """`key` names a value of the environment schema: tables down to a field that is not one."""
    model: Any = EnvironmentConfig
    for part in key.split("."):
        if not (isinstance(model, type) and issubclass(model, BaseModel)
                and part in model.model_fields):
            return False
        annotation = model.model_fields[part].annotation
        # `X | None`: the table's model, when the field is an optional table
        model = next((a for a in get_args(annotation)
                      if isinstance(a, type) and issubclass(a, BaseModel)), annotation)
    return not (isinstance(model, type) and issubclass(model, BaseModel))


@dataclass
class Verdict:
    """Every finding is either waived (by exactly one waiver, the first that covers it) or
    unexplained; `overflowing` names glob waivers that matched more than they were written for;
    `stale` names waivers (or parts of one) that explain nothing."""

    waived: dict[Waiver, list[Finding]]
    unexplained: list[str]
    overflowing: list[str]
    stale: list[str]


def judge(waivers: list[Waiver], findings: list[Finding], profiles: dict[str, str],
          settings: dict[str, dict[str, Any]] | None = None) -> Verdict:
    """`profiles`: the profile of every scanned stack, by label (stacks without findings too);
    `settings`: their config values (settings_of), for waivers with a `when`."""
    settings = settings or {}
    waived: dict[Waiver, list[Finding]] = {w: [] for w in waivers}
    unexplained = []
    for f in findings:
        waiver = next((w for w in waivers
                       if w.covers(f, profiles[f.stack], settings.get(f.stack, {}))), None)
        if waiver is None:
            unexplained.append(f"{f.stack} ({profiles[f.stack]}): {f.check} {f.address}")
        else:
            waived[waiver].append(f)
    overflowing = []
    for w in (w for w in waivers if w.glob):
        for stack in sorted({f.stack for f in waived[w]}):
            matched = sorted(f.address for f in waived[w] if f.stack == stack)
            if len(matched) > w.max_matches:
                overflowing.append(f"{w}: matches {len(matched)} resources in {stack}, "
                                   f"written for at most {w.max_matches}: {', '.join(matched)}")
    return Verdict(waived, unexplained, overflowing, _stale(waived, profiles))


def _stale(waived: dict[Waiver, list[Finding]], profiles: dict[str, str]) -> list[str]:
    """A waiver must explain a finding in at least one scanned stack of every profile it names
    (where its `when` holds), and every address it lists somewhere. Not in every stack of a
    profile: presets of one profile differ by their own settings (a domain, a replica), and a
    waiver that had to be split per stack would be scoped by stack again."""
    stale = []
    for w, found in waived.items():
        for profile in w.profiles:
            if not any(profiles[f.stack] == profile for f in found):
                stale.append(f"{w}: explains nothing in a stack of profile {profile}")
        unused = [a for a in w.resources if a not in {f.address for f in found}]
        if unused:
            stale.append(f"{w}: explains nothing for {', '.join(unused)}")
    return stale
