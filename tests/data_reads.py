"""What reads data, in one place: the plan roles must be denied each such action of
ReadOnlyAccess (tests/test_plan_read_only.py), and no deploy role may hold one on another
environment's resources (tests/test_isolation.py)."""

import fnmatch
import re

# What reads data: an action that returns what the account stores or processes (contents,
# values, records, users), as opposed to configuration (what resources exist and how they are
# set up), which `terraform plan` refreshes. The rule is by AWS's API names, which say what an
# action returns (fnmatch, case-insensitive, over "service:Action"); "*:" patterns hold for
# every service, so an action added to ReadOnlyAccess under a known name is caught unreviewed.
DATA_READS = {
    "object, file and source contents": (
        "*:GetObject*", "*:GetBlob", "*:GetFile", "*:GetDifferences", "*:GitPull",
        "s3tables:GetTableData",
        # S3 User Guide, "CreateSession": a ReadOnly session reads directory-bucket objects.
        "s3express:CreateSession"),
    "secret and parameter values, decryption": (
        "*:GetSecretValue", "*:BatchGetSecretValue", "ssm:GetParameter*", "*:Decrypt",
        "*:GetDecrypted*"),
    "items, rows and documents": (
        "*:GetItem", "*:BatchGetItem", "*:Query", "*:Scan", "*:Select", "*:PartiQLSelect",
        "es:ESHttpGet", "es:ESHttpHead"),
    "messages": (
        "*:ReceiveMessage", "*:GetChannelMessage", "*:ListChannelMessages",
        "*:GetArchiveMessage*", "*:GetRetainedMessage", "*:ListRetainedMessages"),
    "stream records and media": (
        "*:GetRecords", "*:ListRecords", "*:QueryRecords", "*:GetMedia",
        "*:GetMediaForFragmentList", "*:GetClip", "*:GetImages", "*:Get*StreamingSessionURL"),
    "log events, requests and query results": (
        "*:*LogEvents", "*:GetLogRecord", "*:StartLiveTail", "*:Unmask", "*:StartQuery",
        "*:GetQueryResults*", "*:GetStatementResult*", "*:GetSampledRequests",
        "cloudtrail:LookupEvents", "cloudtrail:GetEventDataStoreData",
        "states:GetExecutionHistory"),
    "downloads": ("*:Download*",),
    "what instances hold": (
        "ec2:GetPasswordData", "ec2:GetConsoleOutput", "ec2:GetConsoleScreenshot",
        "ec2:GetLaunchTemplateData"),
    "container images": ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"),
    "users and their credentials": (
        "cognito-idp:ListUsers*", "cognito-idp:AdminGet*", "cognito-idp:AdminList*",
        "cognito-idp:GetUser", "cognito-identity:GetCredentialsForIdentity",
        "cognito-identity:GetOpenIdToken*"),
}


# One case-insensitive expression per category: thousands of actions are classified per run.
_COMPILED = {category: re.compile("|".join(fnmatch.translate(p) for p in patterns), re.I)
             for category, patterns in DATA_READS.items()}


def data_reading(name: str) -> str | None:
    """The DATA_READS category of an action, None for a configuration read."""
    return next((c for c, expression in _COMPILED.items() if expression.match(name)), None)
