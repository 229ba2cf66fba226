"""Database access contracts (README, "Database access"): in every stack the project synthesizes,
workloads connect as the application's own user with IAM authentication, may do so as that user
on these instances only, and nothing reads the master user's secret.

AWS's rules they state:
- Service Authorization Reference, "Actions, resources, and condition keys for Amazon RDS IAM
  Authentication": `rds-db:connect` acts on the db-user resource
  `arn:${Partition}:rds-db:${Region}:${Account}:dbuser:${DbiResourceId}/${DbUserName}`; the
  DbiResourceId is the instance's resource id (Terraform's `resource_id`), each instance, a read
  replica too, has its own. Amazon RDS User Guide, "Creating and using an IAM policy for IAM
  database access": the policy names the user and the instance.
- Amazon RDS User Guide, "Enabling and disabling IAM database authentication": a token
  authenticates only on an instance with IAM database authentication enabled.
- Amazon RDS User Guide, "Database authentication with Amazon RDS": do not use the master user in
  applications; give them a user with the minimal privileges they need.
- Amazon RDS User Guide, "Connecting to a database through RDS Proxy" (IAM authentication): through
  a proxy, `rds-db:connect` names the proxy's resource id (`prx-...`, the last field of its ARN)
  instead of an instance's, and the token is signed for the proxy's endpoint. "Setting up
  database credentials for RDS Proxy": the proxy logs in as the user of the secret whose user
  name the client connects with. "Amazon RDS Proxy" (limitations): a proxy fronts the writer of
  a replication configuration, never a read replica.

A workload is found from the JSON, never from a list here: an ECS task definition (which is also
what a scheduled job runs), a Lambda function, an App Runner service, each with the roles that act
for it. The IAM questions go through the contracts' evaluator (contracts.decide).
"""

import json
from dataclasses import dataclass

import pytest

from conftest import ROOT, synthesize
from contracts import Graph, Resource, decide, graphs, listed, role_statements, trusts

# A secret RDS manages for a master user is named `rds!db-<uuid>` (README, "Deploying": the deploy
# role's grants on `secret:rds!*`); any role allowed this ARN could read the master password.
MASTER_SECRET = "arn:aws:secretsmanager:{region}:{account}:secret:rds!db-0d4e7c1a-1111-2222-3333-" \
                "444455556666-AbCdEf"
WORKLOAD_TRUST = ("ecs-tasks.amazonaws.com", "lambda.amazonaws.com", "tasks.apprunner.amazonaws.com",
                  "build.apprunner.amazonaws.com", "scheduler.amazonaws.com")


@dataclass
class Workload:
    resource: Resource
    environment: dict
    runtime_role: Resource | None  # what the code runs as: task, function or instance role
    other_roles: list[Resource]  # what starts it: the ECS execution role
    secrets: list[str]  # what ECS or App Runner injects from Secrets Manager (valueFrom)


def workloads(g: Graph) -> list[Workload]:
    found = []
    for task in g.of_type("aws_ecs_task_definition"):
        containers = json.loads(task.body["container_definitions"])
        found.append(Workload(
            task, {e["name"]: e["value"] for e in containers[0].get("environment") or []},
            g.ref(task.body.get("task_role_arn")),
            [r for r in [g.ref(task.body.get("execution_role_arn"))] if r is not None],
            [s["valueFrom"] for c in containers for s in c.get("secrets") or []]))
    for fn in g.of_type("aws_lambda_function"):
        found.append(Workload(fn, (fn.body.get("environment") or {}).get("variables") or {},
                              g.ref(fn.body["role"]), [], []))
    for runner in g.of_type("aws_apprunner_service"):
        image = runner.body["source_configuration"]["image_repository"]["image_configuration"]
        found.append(Workload(runner, image.get("runtime_environment_variables") or {},
                              g.ref(runner.body["instance_configuration"]["instance_role_arn"]),
                              [], list((image.get("runtime_environment_secrets") or {}).values())))
    return found


@dataclass
class Database:
    primary: Resource
    replica: Resource | None
    app_user: str  # the stack's output database_app_user
    proxy: Resource | None = None  # an RDS Proxy in front of the primary
    proxy_user: str | None = None  # the stack's output database_proxy_user

    def user_arn(self, instance: Resource, user: str | None = None) -> str:
        g = instance.graph
        return (f"arn:{g.partition}:rds-db:{instance.region}:{g.account}:dbuser:"
                f"{resource_id(instance)}/{user or self.app_user}")

    @property
    def instances(self) -> list[Resource]:
        return [self.primary] + ([self.replica] if self.replica else [])

    @property
    def writer(self) -> Resource:
        """What a workload connects to for writes: the proxy where there is one."""
        return self.proxy or self.primary

    @property
    def connections(self) -> list[tuple[Resource, str]]:
        """(what is connected to, as which user) for every connection a workload may open."""
        writer = (self.proxy, self.proxy_user) if self.proxy else (self.primary, self.app_user)
        return [writer] + ([(self.replica, self.app_user)] if self.replica else [])


def resource_id(target: Resource) -> str:
    """The id `rds-db:connect` names: an instance's DbiResourceId (`resource_id`), a proxy's
    `prx-` id: the last field of its ARN, which the stack splits off into a local value."""
    if target.type != "aws_db_proxy":
        return target.attr("resource_id")
    locals_ = target.graph.json.get("locals", {})
    [name] = [k for k, v in locals_.items() if f"{target.address}.arn" in v]
    # arn:<partition>:rds:<region>:<account>:db-proxy:prx-...: the seventh field.
    assert locals_[name] == f'${{element(split(":", {target.address}.arn), 6)}}', locals_[name]
    return f"${{local.{name}}}"


def database(g: Graph) -> Database | None:
    instances = g.of_type("aws_db_instance")
    if not instances:
        return None
    [primary] = [i for i in instances if not i.body.get("replicate_source_db")]
    replicas = [i for i in instances if g.ref(i.body.get("replicate_source_db")) == primary]
    assert len(replicas) <= 1 and len(replicas) + 1 == len(instances), g.name
    proxies = g.of_type("aws_db_proxy")
    assert len(proxies) <= 1, g.name
    outputs = g.json["output"]
    return Database(primary, replicas[0] if replicas else None,
                    outputs["database_app_user"]["value"], proxies[0] if proxies else None,
                    outputs.get("database_proxy_user", {}).get("value"))


@pytest.fixture(scope="module")
def stack_graphs(every_stack) -> list[Graph]:
    return graphs(every_stack)


def statements_of(w: Workload) -> list[dict]:
    return role_statements(w.runtime_role) if w.runtime_role is not None else []


# --- the instances --------------------------------------------------------------------------------

def test_every_instance_takes_iam_authentication(stack_graphs):
    instances = [i for g in stack_graphs for i in g.of_type("aws_db_instance")]
    assert any(i.body.get("replicate_source_db") for i in instances), "a replica is checked too"
    assert [str(i) for i in instances if i.body.get("iam_database_authentication_enabled")
            is not True] == []


# --- workloads: the application user, on these instances only -----------------------------------

def test_every_workload_with_database_access_connects_as_the_app_user_over_tls(stack_graphs):
    seen = set()
    for g in stack_graphs:
        db = database(g)
        for w in workloads(g):
            env = w.environment
            if "DATABASE_HOST" not in env:
                assert not [k for k in env if k.startswith("DATABASE_")], str(w.resource)
                continue
            seen.add(w.resource.type)
            assert db is not None, f"{w.resource}: told of a database the stack does not have"
            assert g.ref(env["DATABASE_HOST"]) == db.writer, str(w.resource)
            assert env["DATABASE_PORT"] == "5432" and env["DATABASE_NAME"] == \
                db.primary.body["db_name"], str(w.resource)
            writer_user = db.connections[0][1]
            assert (env["DATABASE_USERNAME"], env["DATABASE_AUTH"], env["DATABASE_SSLMODE"]) == \
                (writer_user, "iam", "verify-full"), str(w.resource)
            assert db.primary.body["username"] not in (db.app_user, writer_user), \
                "the master user is no app user"
            if db.replica is not None:
                assert g.ref(env["DATABASE_READER_HOST"]) == db.replica, str(w.resource)
                assert env["DATABASE_READER_USERNAME"] == db.app_user, str(w.resource)
            else:
                assert "DATABASE_READER_HOST" not in env, str(w.resource)
    # Every kind of workload is checked somewhere (App Runner: the lean preset and fixture).
    assert seen == {"aws_ecs_task_definition", "aws_lambda_function", "aws_apprunner_service"}


def test_a_workload_may_connect_as_the_app_user_on_its_instances_and_nothing_else(stack_graphs):
    checked = 0
    for g in stack_graphs:
        db = database(g)
        for w in workloads(g):
            stmts = statements_of(w)
            if "DATABASE_HOST" not in w.environment:
                if db is not None:  # no database access: no connect at all
                    for target, user in [(db.primary, None), *db.connections]:
                        assert decide(stmts, "rds-db:connect", db.user_arn(target, user)) != \
                            "allow", str(w.resource)
                continue
            checked += 1
            allowed = [db.user_arn(target, user) for target, user in db.connections]
            for arn in allowed:
                assert decide(stmts, "rds-db:connect", arn) == "allow", f"{w.resource}: {arn}"
            # Exactly those: no other user (dbuser:*/* or a wildcard user), not the master user,
            # no other instance, and nothing but the runtime role holds rds-db:connect. Behind a
            # proxy, not the primary directly either.
            master = db.primary.body["username"]
            targets = [t for t, _ in db.connections]
            probes = [db.user_arn(t, user) for t in targets
                      for user in (master, "postgres", "rdsadmin", f"{db.app_user}_other")]
            probes += [db.user_arn(t, u).replace(resource_id(t), "db-ANOTHERINSTANCE000000000")
                       for t, u in db.connections]
            if db.proxy is not None:
                probes += [db.user_arn(db.primary, u) for u in (db.app_user, db.proxy_user)]
                probes.append(db.user_arn(db.proxy, db.app_user))
            assert [p for p in probes if decide(stmts, "rds-db:connect", p) == "allow"] == [], \
                str(w.resource)
            named = {arn for s in stmts if any(a.lower().startswith("rds-db:")
                                               for a in listed(s.get("Action")))
                     for arn in listed(s.get("Resource"))}
            assert named == set(allowed), f"{w.resource}: {named}"
            for role in w.other_roles:
                assert decide(role_statements(role), "rds-db:connect", allowed[0]) != "allow", \
                    f"{role}: only the runtime role connects"
    assert checked >= 20, checked  # every environment, preset and fixture with a database user


# --- nothing reads the master user's secret ------------------------------------------------------

def test_no_workload_is_given_the_master_secret(stack_graphs):
    """Not injected (ECS `secrets`, App Runner `runtime_environment_secrets`), not handed over
    (an environment value), in no stack: only the output `database_secret_arn` names it."""
    for g in stack_graphs:
        for w in workloads(g):
            told = json.dumps(w.environment) + json.dumps(w.secrets)
            assert "master_user_secret" not in told and "rds!" not in told, str(w.resource)
        referring = [str(r) for r in g.resources.values()
                     if ".master_user_secret[" in json.dumps(r.body)]
        assert referring == [], referring


def test_no_workload_role_may_read_the_master_secret(stack_graphs):
    """Whatever the policy says (the instance's secret by reference, a wildcard secret ARN,
    `secretsmanager:*`), no role a workload or a schedule acts as may read a secret RDS manages
    for a master user."""
    roles = 0
    for g in stack_graphs:
        secret = MASTER_SECRET.format(region=g.region(None), account=g.account)
        for role in g.of_type("aws_iam_role"):
            if not any(trusts(role, service) for service in WORKLOAD_TRUST):
                continue
            roles += 1
            statements = role_statements(role)
            assert decide(statements, "secretsmanager:GetSecretValue", secret) != "allow", \
                str(role)
            # by reference too (the evaluator cannot resolve `master_user_secret[0].secret_arn`)
            assert "master_user_secret" not in json.dumps(statements), str(role)
    assert roles > 50, roles


# --- the local target (moto): no replica, so nothing may refer to one -----------------------------

def test_locally_workloads_are_told_of_the_primary_alone(tmp_path, fixture_stacks):
    """The emulator gets no read replica (lib/targets/local.py, count = 0): a reference to its
    address or resource id would stop Terraform, so the workloads are told of the primary only."""
    real = Graph(fixture_stacks["full-stack"])
    local = Graph(synthesize(tmp_path, [ROOT / "tests" / "fixtures" / "full.toml"],
                             target="local")["full-stack"])
    db = database(local)
    assert database(real).replica is not None and db.replica.body["count"] == 0
    for w in workloads(local):
        body = json.dumps(w.resource.body) + json.dumps(statements_of(w))
        assert db.replica.id not in body, str(w.resource)
        if "DATABASE_HOST" in w.environment:
            assert decide(statements_of(w), "rds-db:connect", db.user_arn(db.primary)) == "allow"
