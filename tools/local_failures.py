"""Why a step of the local deploy cycle (tools/deploy_local.py) failed, in one line a person can
act on, and whose failure it is: the emulator's (moto lacks an API or answers wrongly: the fix
is a local-target adjustment in lib/targets/local.py), a guard the local target should have
turned off, or the bare Terraform error when neither is recognised. Pure functions over the text
Terraform, the cdktf CLI and the emulator wrote, so tests feed them canned output
(tests/test_deploy_local_report.py).
"""

import re
from dataclasses import dataclass

ADJUSTMENTS = "lib/targets/local.py"
# Terraform's diagnostics, also as the cdktf CLI shows them: the stack name before `Error:`, the
# construct path after the address ("with aws_x.cache_parameters_40CE81C8 (cache/parameters),").
_ERROR = re.compile(r"^[^\n]*?\bError: (.+)$", re.MULTILINE)
_WITH = re.compile(r"^[^\n]*?\bwith ([a-z][a-z0-9_]*)\.([\w-]+)", re.MULTILINE)
_PREVENT_DESTROY = re.compile(
    r"Resource ([a-z][a-z0-9_]*)\.([\w-]+) has lifecycle\.prevent_destroy")
# Terraform's progress lines ("aws_db_instance.x (database/primary): Destroying... [id=...]"),
# for a diagnostic without a `with` line (a destroy's): the one left unfinished is the one failed.
_STARTED = re.compile(r"\b([a-z][a-z0-9_]*\.[\w-]+)(?: \([^)]*\))?: "
                      r"(?:Creating|Destroying|Modifying)\.\.\.")
_FINISHED = re.compile(r"\b([a-z][a-z0-9_]*\.[\w-]+)(?: \([^)]*\))?: "
                       r"(?:Creation|Destruction|Modifications) complete")
# The AWS SDK's "operation error <Service>: <Operation>" names the API call that failed.
_OPERATION = re.compile(r"operation error ([\w ]+): (\w+)")
_NOT_IMPLEMENTED = re.compile(r"NotImplementedError: The (\w+) action has not been implemented")
# A server error from the emulator: AWS's own validation answers 4xx, so a 5xx is moto failing.
_SERVER_ERROR = re.compile(r"StatusCode: 5\d\d|InternalFailure|not (?:yet |been )?implemented")
_STATUS = re.compile(r"StatusCode: (\d+)")
_API_ERROR = re.compile(r"api error (.+)")
# The SDK's wrapper around an answer; its request id is noise in one line, its cause (last) is not.
_RESPONSE_ERROR = re.compile(r"https response error StatusCode: (\d+), RequestID: [^,]*, ")
_NEVER_READY = re.compile(r"timeout while waiting for|unexpected state")
# A call the emulator has no route for: an answer with no request id (AWS gives every answer
# one) and a body that is not an AWS error document, e.g. moto's 404 for CloudFront's
# CreateVpcOrigin. Matched on the diagnostic with its line breaks folded, since the cdktf CLI
# wraps it and puts its progress lines in between.
_UNROUTED = re.compile(r"operation error [\w ]+: (\w+), https response error StatusCode:"
                       r".{0,300}?\b(\d{3}), RequestID: , error while deserializing")
_PROTECTED = re.compile(r"deletion protection|DeletionProtection|protected DB", re.IGNORECASE)
# `# aws_sqs_queue.jobs will be updated in-place`; `~ redrive_policy = ...`; `~ origin {`.
_PLANNED = re.compile(r"^\s*# (\S+) (?:will|must) be ", re.MULTILINE)
_CHANGED_ATTRIBUTE = re.compile(r"^\s*[~+-] (\w+)\s*(?:=|\{)")


@dataclass(frozen=True)
class TerraformError:
    summary: str  # the text after "Error: "
    address: str | None  # "aws_db_instance.database_main" when Terraform names one
    detail: str = ""  # the diagnostic's body, up to the next one

    @property
    def resource_type(self) -> str | None:
        return self.address.split(".")[0] if self.address else None


def terraform_errors(output: str) -> list[TerraformError]:
    """Each `Error:` diagnostic in `output` with the resource its `with` line names."""
    errors = []
    unfinished = set(_STARTED.findall(output)) - set(_FINISHED.findall(output))
    matches = list(_ERROR.finditer(output))
    for i, match in enumerate(matches):
        block = output[match.end():matches[i + 1].start() if i + 1 < len(matches) else None]
        where = _WITH.search(block) or _PREVENT_DESTROY.search(block)
        address = f"{where.group(1)}.{where.group(2)}" if where else \
            next(iter(unfinished)) if len(unfinished) == 1 else None
        errors.append(TerraformError(match.group(1).strip(), address, block))
    return errors


def explain(step: str, output: str, emulator_log: str = "") -> str:
    """One line: what failed in `step` and why, with who should act and where."""
    errors = terraform_errors(output)
    if not errors and _PLANNED.search(output):
        return explain_drift(output)
    if not errors:
        lines = [line.strip() for line in output.splitlines() if line.strip()]
        return f"{step} failed: {lines[-1] if lines else 'no output'}"
    error = errors[0]
    where = f" at {error.address}" if error.address else ""
    # The cycle must destroy what it deploys; the local target turns the guards off.
    if _PREVENT_DESTROY.search(output):
        return (f"{step} failed{where}: lifecycle.prevent_destroy refuses it: leave it out for "
                "the local target, as stacks/environment.py leaves out the PreventDestroy "
                "Aspect")
    if _PROTECTED.search(error.summary):
        return (f"{step} failed{where}: deletion protection refuses it: turn it off for the "
                f"local target, {error.resource_type or 'its type'} in PROTECTED in "
                f"{ADJUSTMENTS} (like aws_lb's enable_deletion_protection)")
    unrouted = _UNROUTED.search(" ".join(error.detail.split()))
    if unrouted:
        return (f"the emulator (moto) cannot {unrouted.group(1)} (HTTP {unrouted.group(2)}, "
                f"not an AWS answer: no such API there){where}: add a local-target adjustment "
                f"in {ADJUSTMENTS} for {error.resource_type or 'that resource'} (like the "
                "existing aws_cloudfront_response_headers_policy in NOT_EMULATED)")
    operation = _OPERATION.search(error.summary)
    call = operation.group(2) if operation else "answer this call"
    # moto's own log names the calls it lacks (create_db_instance for CreateDBInstance); one
    # the provider shrugged off earlier is not this error's cause.
    missing = call.lower() in {a.replace("_", "") for a in _NOT_IMPLEMENTED.findall(emulator_log)}
    if missing or _SERVER_ERROR.search(error.summary):
        why = "not implemented" if missing else _server_error(error.summary)
        return (f"the emulator (moto) cannot {call} ({why}){where}: add a local-target "
                f"adjustment in {ADJUSTMENTS} for {error.resource_type or 'that resource'} "
                "(like the existing aws_elasticache_replication_group in NOT_EMULATED)")
    if _NEVER_READY.search(error.summary):
        return (f"the emulator (moto) never reports {error.address or 'a resource'} ready "
                f"({_short(error.summary)}): add "
                f"a local-target adjustment in {ADJUSTMENTS} for "
                f"{error.resource_type or 'that resource'} (like the existing override of "
                "aws_subnet's IPv6 CIDR, which moto never associates)")
    summary = _RESPONSE_ERROR.sub(r"HTTP \1, ", error.summary)
    return f"{step} failed{where}: {_short(summary)}"


def explain_drift(plan: str) -> str:
    """One line for a second plan that is not empty: what changes again, and the usual fix."""
    changes: dict[str, list[str]] = {}
    address = None
    for line in plan.splitlines():
        planned = _PLANNED.match(line)
        if planned:
            address = planned.group(1)
            changes[address] = []
            continue
        attribute = _CHANGED_ATTRIBUTE.match(line)
        if address and attribute and attribute.group(1) not in changes[address]:
            changes[address].append(attribute.group(1))
    listed = "; ".join(f"{a} ({', '.join(attrs)})" if attrs else a
                       for a, attrs in list(changes.items())[:5])
    more = f" and {len(changes) - 5} more" if len(changes) > 5 else ""
    return (f"the second plan is not empty: {listed or 'see the log'}{more}: if the emulator "
            f"reports these back differently from what was sent, add them to DRIFTING in "
            f"{ADJUSTMENTS} (like aws_sqs_queue's redrive_policy); if real AWS would too, the "
            "construct has a perpetual diff")


def _server_error(summary: str) -> str:
    """"HTTP 500, InternalFailure: ..." from the SDK's long error, or the error itself."""
    status = _STATUS.search(summary)
    api_error = _API_ERROR.search(summary)
    parts = [f"HTTP {status.group(1)}" if status else "", api_error.group(1) if api_error else ""]
    return _short(", ".join(p for p in parts if p) or summary)


def _short(text: str, limit: int = 300) -> str:
    """`text` within `limit`, its start (what was done) and its end (the SDK's cause) kept."""
    if len(text) <= limit:
        return text
    head = limit // 2
    return text[:head - 2] + " ... " + text[-(limit - head - 3):]
