"""A topic's messages to PagerDuty: a function subscribed to the topic posts each one to
PagerDuty's Events API v2 with the routing key it reads from Secrets Manager at run time.

Why not an SNS `https` subscription to PagerDuty's URL: SNS needs the endpoint when it subscribes,
so Terraform would hold it (`aws_sns_topic_subscription.endpoint`, in the JSON and the state), and
the key is part of that URL. Here the JSON and the state hold the secret's name and ARN only; the
operator puts the routing key into the empty secret (`aws secretsmanager put-secret-value`).
"""

from dataclasses import dataclass

from constructs import Construct

from lib.core import aws
from lib.core.naming import Naming
from lib.serverless.functions import Function, FunctionProps, ZipCode

SECRET_NAME = "pagerduty-routing-key"
# One message at a time, a few HTTPS calls: the smallest memory, and well inside Lambda's
# asynchronous retries (SNS invokes the function asynchronously).
MEMORY_MB = 128
TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class PagerDutyRelayProps:
    naming: Naming
    topic: str  # the topic's short name: names the function, the secret and the subscription
    topic_arn: str
    code: ZipCode  # functions/pagerduty
    secrets_key_arn: str  # encrypts the secret
    secret_recovery_days: int  # 7-30
    log_key_arn: str
    log_retention_days: int
    environment_key_arn: str


class PagerDutyRelay(Construct):
    """- The secret `/<project>/<env>/<topic>/pagerduty-routing-key`, empty, encrypted with the
      secrets key.
    - The function `<project>-<env>-<topic>-pagerduty` outside the VPC (it calls PagerDuty and
      Secrets Manager over the internet, so it needs no NAT), its role limited to reading that
      one secret (decrypted only through Secrets Manager) and writing its logs; events that fail
      Lambda's asynchronous retries go to its dead-letter queue.
    - The topic's `lambda` subscription to it, and the permission for SNS to invoke it from this
      topic only.

    Outputs: `secret_arn`, `secret_name`, `function` (the Function: `function_name`,
    `dead_letter_queue_name` for alarms).
    """

    def __init__(self, scope: Construct, id: str, props: PagerDutyRelayProps):
        super().__init__(scope, id)
        n = props.naming
        self.secret_name = n.secret(props.topic, SECRET_NAME)
        secret = aws.secretsmanager_secret.SecretsmanagerSecret(
            self, "routing-key", name=self.secret_name,
            description=f"PagerDuty Events API v2 routing key for the {props.topic} topic (set "
                        "out of band)",
            kms_key_id=props.secrets_key_arn, recovery_window_in_days=props.secret_recovery_days,
            tags=n.tags(props.topic, SECRET_NAME))
        self.secret_arn: str = secret.arn
        region = n.region
        self.function = Function(self, "function", FunctionProps(
            naming=n, name=f"{props.topic}-pagerduty", code=props.code, vpc_id=None,
            subnet_ids=[], extra_security_group_ids=[], log_key_arn=props.log_key_arn,
            log_retention_days=props.log_retention_days,
            environment_key_arn=props.environment_key_arn, memory_mb=MEMORY_MB,
            timeout_seconds=TIMEOUT_SECONDS,
            environment={"ROUTING_KEY_SECRET_ARN": self.secret_arn},
            statements=[
                {"Sid": "ReadTheRoutingKey", "Effect": "Allow",
                 "Action": "secretsmanager:GetSecretValue", "Resource": self.secret_arn},
                {"Sid": "DecryptItThroughSecretsManager", "Effect": "Allow",
                 "Action": "kms:Decrypt", "Resource": props.secrets_key_arn,
                 "Condition": {"StringEquals": {
                     "kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}}],
            dead_letter_queue=True))
        # Lambda Developer Guide, "Using Lambda with Amazon SNS": SNS invokes the function
        # through its resource policy, here for this topic only.
        invoke = aws.lambda_permission.LambdaPermission(
            self, "sns-invokes", action="lambda:InvokeFunction",
            function_name=self.function.name, principal="sns.amazonaws.com",
            source_arn=props.topic_arn, statement_id="TopicInvokes")
        aws.sns_topic_subscription.SnsTopicSubscription(
            self, "subscription", topic_arn=props.topic_arn, protocol="lambda",
            endpoint=self.function.arn, depends_on=[invoke])
