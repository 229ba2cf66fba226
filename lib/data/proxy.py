"""RDS Proxy: a connection pool in front of the primary, reached with TLS and an IAM token."""

from dataclasses import dataclass, replace

from lib.core.cdk import Fn, TerraformLocal
from constructs import Construct

from lib.core import aws
from lib.core.access import DatabaseAccess
from lib.core.iam import service_role_with_policies
from lib.core.naming import Naming
from lib.core.security_group import port_only_from_groups

PORT = 5432


@dataclass(frozen=True)
class DatabaseProxyProps:
    naming: Naming
    vpc_id: str
    subnet_ids: list[str]  # the isolated tier: two or more, in different AZs
    client_security_group_ids: list[str]  # the only sources admitted on 5432
    database_security_group_id: str  # admits the proxy on 5432 (a rule this construct adds)
    database_identifier: str  # the primary; RDS Proxy cannot target a read replica
    # The secret of the role the proxy logs in as ({"username": ..., "password": ...}); clients
    # connect with that user name (one secret per database user).
    secret_arn: str
    secret_key_arn: str  # the key that encrypts it
    idle_client_timeout_seconds: int
    connection_borrow_timeout_seconds: int
    log_key_arn: str
    log_retention_days: int


class DatabaseProxy(Construct):
    """An RDS Proxy `<project>-<env>-db-proxy` for a PostgreSQL instance.

    - Network: in the isolated subnets, behind its own security group that admits 5432 from
      `client_security_group_ids` only and opens 5432 towards the database's group only; the
      database's group admits it.
    - Clients: TLS required, IAM authentication required (a token signed for the proxy's
      endpoint, `rds-db:connect` on the proxy's `prx-` resource id: `user_arn`).
    - Credential: the proxy logs in to the database with the user and password of `secret_arn`;
      its role may read that secret and decrypt it with `secret_key_arn` through Secrets Manager,
      nothing else, and only RDS may assume it.
    - Logs: `/aws/rds/proxy/<name>` created up front, encrypted, with the environment's
      retention; debug logging (which records SQL text) stays off.

    Outputs: `name`, `endpoint`, `port`, `resource_id` (`prx-...`), `security_group_id`,
    `user_arn(user)`, and `through(access, user)`: what a workload is given to connect through it.
    """

    def __init__(self, scope: Construct, id: str, props: DatabaseProxyProps):
        super().__init__(scope, id)
        n = self._naming = props.naming
        self.name = n.name("db-proxy")
        self.port = PORT
        self.security_group_id: str = port_only_from_groups(
            self, n, "db-proxy", props.vpc_id, PORT, props.client_security_group_ids,
            "RDS Proxy: only from the application tier")
        aws.vpc_security_group_egress_rule.VpcSecurityGroupEgressRule(
            self, "to-database", security_group_id=self.security_group_id, ip_protocol="tcp",
            from_port=PORT, to_port=PORT,
            referenced_security_group_id=props.database_security_group_id,
            description="PostgreSQL to the database only")
        aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
            self, "database-admits-proxy", security_group_id=props.database_security_group_id,
            ip_protocol="tcp", from_port=PORT, to_port=PORT,
            referenced_security_group_id=self.security_group_id,
            description="db port 5432 from the RDS Proxy")
        role, grants = service_role_with_policies(
            self, "role", n, "db-proxy", "rds.amazonaws.com", statements=[
                {"Sid": "ReadTheDatabaseSecret", "Effect": "Allow",
                 "Action": "secretsmanager:GetSecretValue", "Resource": props.secret_arn},
                {"Sid": "DecryptItThroughSecretsManager", "Effect": "Allow",
                 "Action": "kms:Decrypt", "Resource": props.secret_key_arn,
                 "Condition": {"StringEquals": {
                     "kms:ViaService": f"secretsmanager.{n.region}.amazonaws.com"}}},
            ])
        logs = aws.cloudwatch_log_group.CloudwatchLogGroup(
            self, "logs", name=f"/aws/rds/proxy/{self.name}",
            retention_in_days=props.log_retention_days, kms_key_id=props.log_key_arn,
            tags=n.tags("db-proxy"))
        proxy = aws.db_proxy.DbProxy(
            self, "proxy", name=self.name, engine_family="POSTGRESQL", role_arn=role.arn,
            vpc_subnet_ids=props.subnet_ids, vpc_security_group_ids=[self.security_group_id],
            require_tls=True, debug_logging=False,
            idle_client_timeout=props.idle_client_timeout_seconds,
            auth=[aws.db_proxy.DbProxyAuth(
                auth_scheme="SECRETS", iam_auth="REQUIRED", secret_arn=props.secret_arn,
                description="The application's proxy role; clients sign IAM tokens")],
            # The role must hold its rights when RDS first reads the secret, and the log group
            # must exist before RDS creates a never-expiring, unencrypted one.
            depends_on=[*grants, logs], tags=n.tags("db-proxy"))
        self.endpoint: str = proxy.endpoint
        # The ARN ends in the proxy's resource id (arn:<partition>:rds:<region>:<account>:
        # db-proxy:prx-...), which `rds-db:connect` names instead of a DbiResourceId. A local,
        # so that the policies that name it hold a plain reference, not an expression with
        # quotes inside their JSON.
        self.resource_id: str = TerraformLocal(
            self, "resource-id", Fn.element(Fn.split(":", proxy.arn), 6)).as_string
        targets = aws.db_proxy_default_target_group.DbProxyDefaultTargetGroup(
            self, "targets", db_proxy_name=proxy.name,
            connection_pool_config=aws.db_proxy_default_target_group.
            DbProxyDefaultTargetGroupConnectionPoolConfig(
                connection_borrow_timeout=props.connection_borrow_timeout_seconds))
        aws.db_proxy_target.DbProxyTarget(
            self, "primary", db_proxy_name=proxy.name, target_group_name=targets.name,
            db_instance_identifier=props.database_identifier)

    def user_arn(self, user: str) -> str:
        """What `rds-db:connect` names for `user` through this proxy (AWS, "Connecting to a
        database through RDS Proxy", IAM authentication: the proxy's resource id, not the
        instance's)."""
        return self._naming.arn("rds-db", f"dbuser:{self.resource_id}/{user}")

    def through(self, direct: DatabaseAccess, user: str) -> DatabaseAccess:
        """`direct` with the writer reached through this proxy as `user`, the user of its
        secret: a client's user name picks the secret the proxy logs in with (AWS, "Setting up
        database credentials for RDS Proxy"). The reader stays direct, as `direct.user`."""
        return replace(direct, endpoint=self.endpoint, port=self.port, user=user,
                       user_arn=self.user_arn(user), reader_user=direct.user
                       if direct.reader_endpoint else None)
