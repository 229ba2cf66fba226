"""What the plan roles may not read although AWS's ReadOnlyAccess allows it
(lib/delivery/policies.py `_no_data_reads`; tests/test_plan_read_only.py checks every data read
of ReadOnlyAccess)."""

# Values, messages, log events, query results, image layers, users and what instances hold, on
# the services the platform deploys (objects, items and parameters have statements of their own).
DATA_READS = (
    "secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue", "sqs:ReceiveMessage",
    "logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery", "logs:GetQueryResults",
    "logs:StartLiveTail", "logs:GetLogRecord", "logs:Unmask", "athena:GetQueryResults",
    "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "kinesis:GetRecords", "rds-db:connect",
    "rds:DownloadDBLogFilePortion", "rds:DownloadCompleteDBLogFile", "cognito-idp:ListUsers",
    "cognito-idp:ListUsersInGroup", "cognito-idp:AdminGetUser",
    "cognito-idp:AdminListGroupsForUser", "cognito-idp:AdminListDevices",
    "cognito-idp:AdminGetDevice", "cognito-idp:AdminListUserAuthEvents", "cognito-idp:GetUser",
    "cognito-identity:GetCredentialsForIdentity", "cognito-identity:GetOpenIdToken",
    "ec2:GetConsoleOutput", "ec2:GetConsoleScreenshot", "ec2:GetPasswordData",
    "cloudtrail:LookupEvents", "cloudtrail:GetQueryResults",
)

# ReadOnlyAccess reads these too: the platform creates none of them, but another workload of the
# account may keep its data there.
DATA_READS_ELSEWHERE = (
    "athena:GetQueryResultsStream", "cassandra:Select", "sdb:Select", "chime:GetChannelMessage",
    "chime:ListChannelMessages", "clouddirectory:GetObject*", "cloudtrail:GetEventDataStoreData",
    "codecommit:GetBlob", "codecommit:GetDifferences", "codecommit:GetFile",
    "codecommit:GetObjectIdentifier", "codecommit:GitPull",
    "cognito-identity:GetOpenIdTokenForDeveloperIdentity", "cognito-sync:ListRecords",
    "cognito-sync:QueryRecords", "dax:BatchGetItem", "dax:GetItem", "dax:Query", "dax:Scan",
    "ec2:GetLaunchTemplateData", "es:ESHttpGet", "es:ESHttpHead", "iot:GetRetainedMessage",
    "iot:ListRetainedMessages", "kendra:Query", "kinesisvideo:GetClip",
    "kinesisvideo:Get*StreamingSessionURL", "kinesisvideo:GetImages", "kinesisvideo:GetMedia*",
    "lightsail:GetRelationalDatabaseLogEvents", "mediapackagev2:GetObject", "mediastore:GetObject",
    "s3-object-lambda:GetObject*", "s3-outposts:GetObject*", "s3express:CreateSession",
    "s3tables:GetTableData", "ses:GetArchiveMessage*", "states:GetExecutionHistory",
    "waf:GetSampledRequests", "waf-regional:GetSampledRequests", "wafv2:GetSampledRequests",
    "wafv2:GetDecryptedAPIKey",
)
