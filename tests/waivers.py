"""The checkov waivers (policy/checkov-skips.toml) and the one matcher both of their tests use:
tests/test_policy.py on checkov's real findings, tests/test_waivers.py on made-up ones.

A waiver explains one check on named resources of the stacks of named profiles. A stack's profile
is the `profile` of the file it is built from (the loader's answer, so an environment named after
a profile without a `profile` key counts too); the bootstrap stack, built from an account file,
has the profile `bootstrap`. Stack labels are those of conftest's `every_stack`.
"""

import tomllib
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from lib.config import PROFILE_DEFAULTS, load_environment
from lib.config.loader import is_account_file

BOOTSTRAP = "bootstrap"
PROFILES = (*PROFILE_DEFAULTS, BOOTSTRAP)
KEYS = {"check", "resources", "glob", "max_matches", "profiles", "stacks", "reason"}
MIN_REASON = 40  # characters: a reason, not a label


def profile_of(config_file: Path) -> str:
    """The profile a stack built from `config_file` has."""
    return BOOTSTRAP if is_account_file(config_file) else load_environment(config_file).profile


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
    stacks: tuple[str, ...] = ()  # narrows the profiles to these stacks (a preset's own choice)

    def __str__(self) -> str:
        what = self.glob or ", ".join(self.resources)
        return f"{self.check} {what} [{', '.join(self.stacks or self.profiles)}]"

    def covers(self, finding: Finding, profile: str) -> bool:
        return (finding.check == self.check and profile in self.profiles
                and (not self.stacks or finding.stack in self.stacks)
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
        if not problems:
            waivers.append(Waiver(**{k: tuple(v) if isinstance(v, list) else v
                                     for k, v in entry.items()}))
    if problems:
        raise ValueError("\n".join(problems))
    return waivers


@dataclass
class Verdict:
    """Every finding is either waived (by exactly one waiver, the first that covers it) or
    unexplained; `overflowing` names glob waivers that matched more than they were written for;
    `stale` names waivers (or parts of one) that explain nothing."""

    waived: dict[Waiver, list[Finding]]
    unexplained: list[str]
    overflowing: list[str]
    stale: list[str]


def judge(waivers: list[Waiver], findings: list[Finding], profiles: dict[str, str]) -> Verdict:
    """`profiles`: the profile of every scanned stack, by label (stacks without findings too)."""
    waived: dict[Waiver, list[Finding]] = {w: [] for w in waivers}
    unexplained = []
    for f in findings:
        waiver = next((w for w in waivers if w.covers(f, profiles[f.stack])), None)
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
    (of every stack it names, when it names stacks), and every address it lists somewhere.
    Not in every stack of a profile: presets of one profile differ by their own settings (a
    domain, a replica), and a waiver that had to be split per stack would be scoped by stack
    again."""
    stale = []
    for w, found in waived.items():
        for stack in w.stacks:
            if stack not in profiles or profiles[stack] not in w.profiles:
                stale.append(f"{w}: {stack} is not a scanned stack of {', '.join(w.profiles)}")
            elif not any(f.stack == stack for f in found):
                stale.append(f"{w}: explains nothing in {stack}")
        for profile in w.profiles:
            if not any(profiles[f.stack] == profile for f in found):
                stale.append(f"{w}: explains nothing in a stack of profile {profile}")
        unused = [a for a in w.resources if a not in {f.address for f in found}]
        if unused:
            stale.append(f"{w}: explains nothing for {', '.join(unused)}")
    return stale
