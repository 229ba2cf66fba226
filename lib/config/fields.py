"""The reusable field types of the config schema, each with a message that says what is allowed,
and `Section`, the base of every section model.

A type here is a plain `Annotated[..., AfterValidator(...)]`, so a section declares `cidr: VpcCidr`
and pydantic reports a bad value as `<field path>: <message>` (see errors.py). The values AWS
offers (instance classes, retention periods...) come from catalog.py.

Every field of every section carries its documentation: `Field(description=...)` with the unit
and what is allowed beyond what its type and bounds say (tools/config_reference.py prints those),
and `computed_default(...)` where leaving it out means something a literal cannot say.
"""

import re
from ipaddress import IPv4Network, IPv6Network
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict

from lib.config import catalog


def is_slug(value: str) -> bool:
    return re.fullmatch(r"[a-z][a-z0-9-]{0,18}[a-z0-9]", value) is not None and "--" not in value


def _slug(value: str) -> str:
    if not is_slug(value):
        raise ValueError(
            f"'{value}' is not allowed; use 2-20 lowercase letters, digits and single hyphens, "
            "starting with a letter"
        )
    return value


def _cidr(value: str) -> str:
    try:
        network = IPv4Network(value)
    except ValueError:
        raise ValueError(
            f"'{value}' is not an IPv4 network in CIDR form with no host bits set, "
            "e.g. 10.0.0.0/16"
        ) from None
    if "/" not in value:
        raise ValueError(f"'{value}' has no prefix length; write it like 10.0.0.0/16")
    if not network.is_private:
        raise ValueError(f"'{value}' is not a private range (10.0.0.0/8, 172.16.0.0/12 or "
                         "192.168.0.0/16)")
    return str(network)


def _vpc_cidr(value: str) -> str:
    value = _cidr(value)
    prefix = IPv4Network(value).prefixlen
    if not 16 <= prefix <= 24:
        raise ValueError(f"'{value}' has prefix /{prefix}; a VPC must be between /16 and /24")
    return value


def _log_retention(value: int) -> int:
    if value not in catalog.LOG_RETENTION_DAYS:
        allowed = ", ".join(map(str, catalog.LOG_RETENTION_DAYS))
        raise ValueError(f"{value} is not a CloudWatch Logs retention; allowed days: {allowed}")
    return value


def _region(value: str) -> str:
    if not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", value):
        raise ValueError(f"'{value}' is not an AWS region name, e.g. us-east-1")
    return value


def _account_id(value: str) -> str:
    if not re.fullmatch(r"\d{12}", value):
        raise ValueError(f"'{value}' is not an AWS account id (12 digits, as a quoted string)")
    return value


def _az_name(value: str) -> str:
    if not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d[a-z]", value):
        raise ValueError(f"'{value}' is not an availability zone name, e.g. us-east-1a")
    return value


def _daily_window(value: str) -> str:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", value):
        raise ValueError(f"'{value}' is not a daily UTC window; write it like 03:00-04:00")
    return value


def _time_of_day(value: str) -> str:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise ValueError(f"'{value}' is not a UTC time of day; write it like 03:00")
    return value


def _weekly_window(value: str) -> str:
    day = "(mon|tue|wed|thu|fri|sat|sun)"
    if not re.fullmatch(rf"{day}:([01]\d|2[0-3]):[0-5]\d-{day}:([01]\d|2[0-3]):[0-5]\d", value):
        raise ValueError(f"'{value}' is not a weekly UTC window; write it like mon:04:00-mon:05:00")
    return value


def _identifier(value: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", value) or value in catalog.POSTGRES_RESERVED:
        raise ValueError(f"'{value}' is not allowed; use a lowercase letter then up to 62 letters, "
                         "digits or underscores, not a reserved word")
    return value


def _role_name(value: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", value) or value in catalog.POSTGRES_RESERVED \
            or value.startswith(catalog.ROLE_PREFIXES_RESERVED):
        raise ValueError(f"'{value}' is not allowed; use a lowercase letter then up to 62 letters, "
                         "digits or underscores, not a reserved word, not starting with pg_ or "
                         "rds (PostgreSQL's and RDS's own roles)")
    return value


def _pi_retention(value: int) -> int:
    if value != 7 and not (value % 31 == 0 and 31 <= value <= 713) and value != 731:
        raise ValueError(f"{value} is not a Performance Insights retention; allowed: 7 (free), "
                         "a multiple of 31 up to 713, or 731")
    return value


def _image_tag(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", value):
        raise ValueError(f"'{value}' is not a container image tag (letters, digits, _ . -, up to "
                         "128 characters)")
    return value


def _domain(value: str) -> str:
    label = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
    if len(value) > 253 or not re.fullmatch(rf"({label}\.)+[a-z]{{2,63}}", value):
        raise ValueError(f"'{value}' is not a lowercase DNS name such as app.example.com")
    return value


def _any_cidr(value: str) -> str:
    try:
        return str(IPv4Network(value))
    except ValueError:
        raise ValueError(f"'{value}' is not an IPv4 network in CIDR form, e.g. 203.0.113.0/24 or "
                         "0.0.0.0/0") from None


def _any_ipv6_cidr(value: str) -> str:
    try:
        return str(IPv6Network(value))
    except ValueError:
        raise ValueError(f"'{value}' is not an IPv6 network in CIDR form, e.g. 2001:db8::/32 or "
                         "::/0") from None


def _email(value: str) -> str:
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", value):
        raise ValueError(f"'{value}' is not an email address")
    return value


def _slack_id(prefixes: str, what: str):
    # Slack's object ids: an uppercase letter naming the kind (T a workspace, C a channel, G an
    # older private channel) and uppercase letters and digits, 9-11 characters today.
    def check(value: str) -> str:
        if not re.fullmatch(rf"[{prefixes}][A-Z0-9]{{8,20}}", value):
            raise ValueError(f"'{value}' is not a Slack {what} id ({' or '.join(prefixes)} and "
                             "8 or more uppercase letters or digits, e.g. "
                             f"{prefixes[0]}0123ABCD)")
        return value
    return check


def _callback_url(value: str) -> str:
    local = re.fullmatch(r"http://localhost(:\d+)?(/.*)?", value)
    if not local and not re.fullmatch(r"https://[^\s/]+(/\S*)?", value):
        raise ValueError(f"'{value}' is not allowed; Cognito needs https:// URLs (http:// only "
                         "for localhost)")
    return value


# EventBridge's six cron fields, as its cron reference lists them: name, lowest and highest
# number, the names that may stand for 1, 2, ..., whether /n steps are allowed (not in
# day-of-week), and what the field takes besides *, ranges and lists.
_CRON_FIELDS = [
    ("minutes", 0, 59, [], True, "0-59"),
    ("hours", 0, 23, [], True, "0-23"),
    ("day-of-month", 1, 31, [], True, "1-31, ?, L, LW, nW (the weekday nearest day n)"),
    ("month", 1, 12, "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), True,
     "1-12 or JAN-DEC"),
    ("day-of-week", 1, 7, "SUN MON TUE WED THU FRI SAT".split(), False,
     "1-7 or SUN-SAT, ?, L, nL (the month's last day n), n#k (its k-th day n, k 1-5)"),
    ("year", 1970, 2199, [], True, "1970-2199"),
]


def _cron_field_ok(field: str, index: int) -> bool:
    _, low, high, names, steps, _ = _CRON_FIELDS[index]

    def value(text: str) -> bool:
        return (text.isdigit() and low <= int(text) <= high) or text in names

    if field == "?":
        return index in (2, 4)
    if index == 2 and (field in ("L", "LW") or (field.endswith("W") and value(field[:-1]))):
        return True
    if index == 4:
        day, nth = field.split("#", 1) if "#" in field else (None, None)
        if day is not None:  # alone in the field: EventBridge reads "3#1,6#3" as two expressions
            return value(day) and nth in ("1", "2", "3", "4", "5")
        if field == "L" or (field.endswith("L") and value(field[:-1])):
            return True
    for part in field.split(","):  # each a value, a range a-b or *, with an optional /n step
        base, slash, step = part.partition("/")
        if slash and not (steps and step.isdigit() and 1 <= int(step) <= high):
            return False
        first, dash, last = base.partition("-")
        if base != "*" and not (value(first) and (not dash or value(last))):
            return False
    return True


def _schedule_expression(value: str) -> str:
    rate = re.fullmatch(r"rate\(([0-9]+) (minute|hour|day)(s?)\)", value)
    cron = re.fullmatch(r"cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)", value)
    if rate:
        count, plural = int(rate.group(1)), rate.group(3) == "s"
        if count >= 1 and (count == 1) != plural:
            return value
        raise ValueError(f"'{value}' is not a rate; write a whole number of 1 or more and "
                         "minute|hour|day (singular for 1) or minutes|hours|days, e.g. "
                         "rate(1 hour) or rate(5 minutes)")
    if cron:
        bad = [f"the {name} field '{field}' takes only {allowed}, *, ranges a-b, lists a,b"
               + (" and steps */n or a/n" if steps else "")
               for i, ((name, *_, steps, allowed), field)
               in enumerate(zip(_CRON_FIELDS, cron.groups())) if not _cron_field_ok(field, i)]
        if bad:
            raise ValueError(f"'{value}' is not a schedule: {'; '.join(bad)}")
        if (cron.group(3) == "?") != (cron.group(5) == "?"):
            return value
    raise ValueError(f"'{value}' is not a schedule; allowed: rate(N minutes|hours|days) "
                     "(singular for 1) or cron(minutes hours day-of-month month day-of-week year) "
                     "with ? in exactly one of the two day fields, e.g. cron(0 3 * * ? *)")


def _github_repository(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9-]+/[A-Za-z0-9_.-]+", value):
        raise ValueError(f"'{value}' does not name exactly one repository; write owner/name "
                         "(no wildcards: the deploy role must not trust any other repository)")
    return value


Slug = Annotated[str, AfterValidator(_slug)]
GithubRepository = Annotated[str, AfterValidator(_github_repository)]
Email = Annotated[str, AfterValidator(_email)]
CallbackUrl = Annotated[str, AfterValidator(_callback_url)]
SlackWorkspaceId = Annotated[str, AfterValidator(_slack_id("T", "workspace"))]
SlackChannelId = Annotated[str, AfterValidator(_slack_id("CG", "channel"))]
ScheduleExpression = Annotated[str, AfterValidator(_schedule_expression)]
ImageTag = Annotated[str, AfterValidator(_image_tag)]
DomainName = Annotated[str, AfterValidator(_domain)]
AnyCidr = Annotated[str, AfterValidator(_any_cidr)]
AnyIpv6Cidr = Annotated[str, AfterValidator(_any_ipv6_cidr)]
PostgresVersion = Annotated[str, AfterValidator(catalog.check_postgres_version)]
RedisVersion = Annotated[str, AfterValidator(catalog.check_redis_version)]
ValkeyMajor = Annotated[str, AfterValidator(catalog.check_valkey_major)]
DailyWindow = Annotated[str, AfterValidator(_daily_window)]
WeeklyWindow = Annotated[str, AfterValidator(_weekly_window)]
TimeOfDay = Annotated[str, AfterValidator(_time_of_day)]
Identifier = Annotated[str, AfterValidator(_identifier)]
RoleName = Annotated[str, AfterValidator(_role_name)]
PerformanceInsightsRetention = Annotated[int, AfterValidator(_pi_retention)]
# What a service or function may use: the database, Redis, the media uploads bucket.
StoreAccess = Literal["database", "cache", "media"]
MaxmemoryPolicy = Literal[catalog.MAXMEMORY_POLICIES]  # type: ignore[valid-type]
Cidr = Annotated[str, AfterValidator(_cidr)]
VpcCidr = Annotated[str, AfterValidator(_vpc_cidr)]
Region = Annotated[str, AfterValidator(_region)]
# A Region the catalog lists (a second Region: it must exist, not only look like one).
KnownRegion = Annotated[str, AfterValidator(catalog.check_region)]
AccountId = Annotated[str, AfterValidator(_account_id)]
AzName = Annotated[str, AfterValidator(_az_name)]
LogRetentionDays = Annotated[int, AfterValidator(_log_retention)]
RdsInstanceClass = Annotated[str, AfterValidator(catalog.check_rds_instance_class)]
CacheNodeType = Annotated[str, AfterValidator(catalog.check_cache_node_type)]
InterfaceEndpoint = Literal[catalog.INTERFACE_ENDPOINTS]  # type: ignore[valid-type]


class Section(BaseModel):
    """Base of every config section: unknown keys are errors (a typo must not be ignored), and
    every value must have its field's TOML type: a boolean is true or false, never "yes", "on" or
    1 (which pydantic would otherwise read as true); an integer is never true, "2" or 2.0; a float
    takes an integer too but never a boolean, a string, inf or nan."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def computed_default(text: str) -> dict[str, str]:
    """`json_schema_extra` for a field whose default is worked out (by a property, a construct or
    the loader) rather than written down: the config reference shows `text` as its default."""
    return {"computed_default": text}
