"""sql/app-role.sql, the application's database role (README, "Database access"): valid
PostgreSQL, the least privilege it promises, safe to run twice, and in step with the config.

AWS's rules it states:
- "Creating a database account using IAM authentication" (Amazon RDS User Guide): a PostgreSQL
  user authenticates with IAM when it is granted `rds_iam`; it needs no password.
- "Database authentication with Amazon RDS": if `rds_iam` reaches the master user, directly or
  through a nested role, IAM authentication takes precedence over its password, so the master
  user (the break-glass path) must never be granted `rds_iam` or made a member of the
  application role.
- The RDS master user is no superuser (it is a member of `rds_superuser`): the script may not
  set SUPERUSER, REPLICATION or BYPASSRLS either way, and may not rely on being a member of the
  roles it creates.

pglast (PostgreSQL's own parser, a dev package) parses the script; where it is not installed the
parse tests skip on a laptop and fail under CI, like a missing tool. Where a PostgreSQL server is
installed, the script also runs twice against a throwaway cluster with an RDS-like master user.
"""

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import ROOT, missing
from lib.config import catalog
from lib.config.data import DatabaseConfig

SQL = ROOT / "sql" / "app-role.sql"
TEXT = SQL.read_text()
VARIABLES = {"app_user": "app", "app_schema": "app", "DBNAME": "app"}
ROLE_ATTRIBUTES = ("superuser", "createrole", "createdb", "isreplication", "bypassrls")


def pglast():
    try:
        import pglast as module
    except ImportError:
        missing("pglast is not installed (run `make install`)")
    return module


def as_sql(text: str = TEXT) -> str:
    """What psql sends the server: meta-commands (\\set, \\if...) dropped, `:'var'` and
    `:"var"` interpolated."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("\\")]
    sql = "\n".join(lines)
    for name, value in VARIABLES.items():
        sql = sql.replace(f":'{name}'", f"'{value}'").replace(f':"{name}"', f'"{value}"')
    assert not re.search(r":['\"]?[A-Za-z_]", re.sub(r"--.*", "", sql).replace("::", "")), \
        "a psql variable is left uninterpolated"
    return sql


def statements() -> list:
    return [raw.stmt for raw in pglast().parse_sql(as_sql())]


def do_bodies() -> list[str]:
    return [s.args[0].arg.sval for s in statements() if type(s).__name__ == "DoStmt"]


def dynamic_sql() -> list:
    """The statements the DO blocks EXECUTE: format('...') with its %I filled in."""
    found = []
    for body in do_bodies():
        for template in re.findall(r"EXECUTE\s+format\('((?:[^']|'')*)'", body):
            found += [raw.stmt for raw in pglast().parse_sql(template.replace("%I", "app"))]
    return found


def kinds(nodes) -> list[str]:
    return [type(n).__name__ for n in nodes]


# --- valid PostgreSQL ----------------------------------------------------------------------------

def test_the_script_parses_as_postgresql_and_its_blocks_as_plpgsql():
    parsed = statements()
    assert kinds(parsed) == ["SelectStmt", "DoStmt", "AlterRoleStmt", "GrantRoleStmt",
                             "GrantStmt", "GrantStmt", "CreateSchemaStmt", "GrantStmt",
                             "AlterRoleSetStmt"]
    for body in do_bodies():  # PL/pgSQL is parsed only inside a function: wrap the block in one
        pglast().parse_plpgsql(
            f"CREATE FUNCTION check_block() RETURNS void LANGUAGE plpgsql AS $body${body}$body$")
    assert kinds(dynamic_sql()) == ["CreateRoleStmt"]


def test_psql_stops_at_the_first_error():
    """Otherwise a refused step (the master-user guard) would let the grants run on."""
    assert re.search(r"^\\set ON_ERROR_STOP on$", TEXT, re.M)


# --- least privilege -----------------------------------------------------------------------------

def role_options(stmt) -> dict:
    return {o.defname: getattr(o.arg, "boolval", getattr(o.arg, "ival", None))
            for o in stmt.options or ()}


def test_the_role_never_gets_superuser_createrole_or_createdb():
    roles = [s for s in statements() + dynamic_sql()
             if type(s).__name__ in ("CreateRoleStmt", "AlterRoleStmt")]
    assert len(roles) == 2, kinds(roles)
    for stmt in roles:
        options = role_options(stmt)
        assert options.get("canlogin") is True
        assert not any(options.get(a) for a in ROLE_ATTRIBUTES), options
        # The RDS master user may not name these even to turn them off: CREATE ROLE leaves them off
        assert not {"superuser", "isreplication", "bypassrls"} & set(options), options
        assert options.get("createdb") is False and options.get("createrole") is False
    # ALTER ROLE clears any password a hand-made role had: an IAM token is its only password.
    [alter] = [s for s in roles if type(s).__name__ == "AlterRoleStmt"]
    assert "password" in role_options(alter) and role_options(alter)["password"] is None


def test_only_rds_iam_is_granted_and_only_to_the_application_role():
    [grant] = [s for s in statements() if type(s).__name__ == "GrantRoleStmt"]
    assert grant.is_grant
    assert [r.priv_name for r in grant.granted_roles] == ["rds_iam"]
    assert [r.rolename for r in grant.grantee_roles] == ["app"]
    assert not grant.opt  # no WITH ADMIN OPTION: the application cannot hand rds_iam on
    # Nobody (the master user least of all) is made a member of the application role, which
    # would pass rds_iam on to them.
    assert not re.search(r"\bGRANT\s+:\"app_user\"\s+TO", TEXT, re.I)


def test_privileges_are_connect_and_its_own_schema_and_public_is_closed():
    grants = [(s.is_grant, s.objtype.name, [p.priv_name for p in s.privileges or ()],
               [o.sval if hasattr(o, "sval") else o for o in s.objects],
               [g.roletype.name if g.rolename is None else g.rolename for g in s.grantees])
              for s in statements() if type(s).__name__ == "GrantStmt"]
    assert grants == [
        (True, "OBJECT_DATABASE", ["connect"], ["app"], ["app"]),
        (False, "OBJECT_SCHEMA", ["create"], ["public"], ["ROLESPEC_PUBLIC"]),
        (True, "OBJECT_SCHEMA", ["usage", "create"], ["app"], ["app"]),
    ]
    # The schema is the master user's (no AUTHORIZATION: that needs membership of the role).
    [schema] = [s for s in statements() if type(s).__name__ == "CreateSchemaStmt"]
    assert schema.authrole is None and schema.schemaname == "app"


def test_the_script_refuses_to_make_the_master_user_an_iam_user():
    [guard, _] = do_bodies()[0].split("CREATE ROLE has no IF NOT EXISTS")
    assert re.search(r"IF app_user = current_user OR app_user = session_user THEN\s+RAISE "
                     r"EXCEPTION", guard)


# --- safe to run twice ---------------------------------------------------------------------------

def test_every_step_can_run_again():
    parsed = statements()
    [schema] = [s for s in parsed if type(s).__name__ == "CreateSchemaStmt"]
    assert schema.if_not_exists
    # CREATE ROLE has no IF NOT EXISTS: it only runs when pg_roles has no such role.
    assert re.search(r"IF NOT EXISTS \(SELECT FROM pg_catalog\.pg_roles WHERE rolname = app_user\)"
                     r" THEN\s+EXECUTE format\('CREATE ROLE", do_bodies()[0])
    assert not [k for k in kinds(parsed) if k.startswith("Drop")]
    # GRANT of a role or privilege already held and REVOKE of one not held are notices, not errors
    # (PostgreSQL documentation, GRANT and REVOKE).


# --- in step with the config ---------------------------------------------------------------------

def test_the_defaults_and_the_names_refused_match_the_config():
    assert DatabaseConfig.model_fields["app_user"].default == "app"
    assert re.search(r"^  \\set app_user app$", TEXT, re.M)
    assert "'^[a-z][a-z0-9_]{0,62}$'" in TEXT  # as lib/config/fields.py _role_name
    refused = re.search(r"app_user ~ '\^\(([^)]*)\)'", TEXT)[1].split("|")
    assert sorted(refused) == sorted(catalog.ROLE_PREFIXES_RESERVED)


# --- run twice against a real PostgreSQL, where one is installed ---------------------------------

def postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    for candidate in [shutil.which("initdb"), *map(str, found[::-1])]:
        if candidate and Path(candidate).resolve().parent.joinpath("pg_ctl").exists():
            return Path(candidate).resolve().parent
    return None


@pytest.fixture(scope="module")
def server():
    """A throwaway cluster with what RDS gives a new instance: `rds_superuser` and `rds_iam`
    roles, a master user that is no superuser (CREATEROLE, CREATEDB, member of rds_superuser),
    and the database it owns. Yields a function that runs psql as a given user."""
    bindir = postgres_bin()
    if bindir is None or shutil.which("psql") is None:
        pytest.skip("no PostgreSQL server installed (the parse tests above still run)")
    as_owner: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root
        if shutil.which("runuser") is None or subprocess.run(
                ["id", "postgres"], capture_output=True).returncode:
            pytest.skip("running as root without a postgres user to run the server as")
        as_owner = ["runuser", "-u", "postgres", "--"]
    work = Path(tempfile.mkdtemp(prefix="app-role-sql-"))
    if as_owner:
        shutil.chown(work, "postgres")
    data, port = work / "data", str(40000 + os.getpid() % 20000)
    subprocess.run([*as_owner, bindir / "initdb", "-D", data, "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)
    subprocess.run([*as_owner, bindir / "pg_ctl", "-D", data, "-w", "-l", work / "log", "-o",
                    f"-p {port} -k {work} -c listen_addresses=", "start"],
                   check=True, capture_output=True)

    def psql(user: str, *args: str, sql: str | None = None,
             database: str = "app") -> subprocess.CompletedProcess:
        return subprocess.run(["psql", "-X", "-h", str(work), "-p", port, "-U", user, "-d",
                               database, *args], input=sql, capture_output=True, text=True,
                              timeout=60)
    try:
        setup = psql("postgres", "-v", "ON_ERROR_STOP=1", database="postgres", sql=(
            "CREATE ROLE rds_superuser NOLOGIN; CREATE ROLE rds_iam NOLOGIN;"
            "CREATE ROLE app_admin LOGIN CREATEROLE CREATEDB IN ROLE rds_superuser;"
            "CREATE DATABASE app OWNER app_admin;"))
        assert setup.returncode == 0, setup.stderr
        yield psql
    finally:
        subprocess.run([*as_owner, bindir / "pg_ctl", "-D", data, "-m", "immediate", "stop"],
                       capture_output=True)
        time.sleep(0.2)
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.slow  # a PostgreSQL cluster of its own: initdb and a server start
def test_the_master_user_runs_it_twice_and_the_role_is_what_it_promises(server):
    for _ in range(2):
        run = server("app_admin", "-f", str(SQL))
        assert run.returncode == 0, run.stderr
    facts = server("postgres", "-A", "-t", sql=(
        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, rolpassword IS NULL"
        " FROM pg_authid WHERE rolname = 'app';"
        "SELECT string_agg(r.rolname, ',' ORDER BY r.rolname) FROM pg_auth_members m"
        " JOIN pg_roles r ON r.oid = m.roleid WHERE m.member = 'app'::regrole;"
        "SELECT pg_has_role('app_admin', 'rds_iam', 'MEMBER');")).stdout.split()
    assert facts == ["f|f|f|t|t", "rds_iam", "f"]
    app = server("app", "-v", "ON_ERROR_STOP=1", sql=(
        "CREATE TABLE items (id int PRIMARY KEY);"
        "SELECT schemaname || '.' || tablename || ':' || tableowner FROM pg_tables"
        " WHERE tablename = 'items';"))
    assert app.returncode == 0 and "app.items:app" in app.stdout, app.stderr
    for forbidden in ("CREATE TABLE public.nope (id int)", "CREATE DATABASE other",
                      "CREATE ROLE other", "DROP SCHEMA app CASCADE"):
        refused = server("app", "-v", "ON_ERROR_STOP=1", sql=forbidden + ";")
        assert refused.returncode != 0, forbidden
        assert re.search(r"permission denied|must be owner", refused.stderr), refused.stderr


@pytest.mark.slow
def test_it_refuses_the_master_user_as_the_application_user(server):
    run = server("app_admin", "-v", "app_user=app_admin", "-f", str(SQL))
    assert run.returncode != 0 and "is the user running this script" in run.stderr
    member = server("postgres", "-A", "-t",
                    sql="SELECT pg_has_role('app_admin', 'rds_iam', 'MEMBER');")
    assert member.stdout.split() == ["f"]
