"""sql/proxy-role.sql, the role the application logs in as through the RDS Proxy (README,
"Database access"): valid PostgreSQL, a password role that rds_iam never reaches, the least
privilege, safe to run twice.

AWS's rules it states:
- "Setting up database credentials for RDS Proxy" (Amazon RDS User Guide): the proxy logs in to
  the database with the user name and password of a Secrets Manager secret, one secret per
  database user, and the credentials must match a user of the database.
- "Database authentication with Amazon RDS": a role that `rds_iam` reaches, directly or through
  a nested role, authenticates with IAM only, so its password (the proxy's) would stop working.
"""

import re

import pytest

from conftest import ROOT
from test_app_role_sql import kinds, pglast, role_options, server  # noqa: F401

SQL = ROOT / "sql" / "proxy-role.sql"
TEXT = SQL.read_text()
VARIABLES = {"app_user": "app", "app_schema": "app", "proxy_user": "app_proxy",
             "proxy_password": "x", "DBNAME": "app"}


def statements() -> list:
    lines = [line for line in TEXT.splitlines() if not line.lstrip().startswith("\\")]
    sql = "\n".join(lines)
    for name, value in VARIABLES.items():
        sql = sql.replace(f":'{name}'", f"'{value}'").replace(f':"{name}"', f'"{value}"')
    return [raw.stmt for raw in pglast().parse_sql(sql)]


def test_the_script_parses_as_postgresql():
    assert kinds(statements()) == ["DoStmt", "SelectStmt", "DoStmt", "AlterRoleStmt",
                                   "GrantRoleStmt", "GrantStmt", "GrantStmt",
                                   "AlterRoleSetStmt", "GrantRoleStmt"]
    assert re.search(r"^\\set ON_ERROR_STOP on$", TEXT, re.M)


def test_the_proxy_role_has_a_password_and_rds_iam_never_reaches_it():
    [alter] = [s for s in statements() if type(s).__name__ == "AlterRoleStmt"]
    options = role_options(alter)
    assert options.get("canlogin") is True and "password" in options
    assert options.get("createdb") is False and options.get("createrole") is False
    revoke, membership = [s for s in statements() if type(s).__name__ == "GrantRoleStmt"]
    assert not revoke.is_grant and [r.priv_name for r in revoke.granted_roles] == ["rds_iam"]
    # The application role (an IAM user) is made a member of the proxy role, never the reverse.
    assert membership.is_grant and [r.priv_name for r in membership.granted_roles] == \
        ["app_proxy"] and [r.rolename for r in membership.grantee_roles] == ["app"]
    assert not re.search(r"GRANT\s+rds_iam", TEXT, re.I)


@pytest.mark.slow  # a PostgreSQL cluster of its own: initdb and a server start
def test_after_the_app_role_it_runs_twice_and_both_roles_share_the_tables(server):  # noqa: F811
    assert server("app_admin", "-f", str(ROOT / "sql" / "app-role.sql")).returncode == 0
    for _ in range(2):
        run = server("app_admin", "-v", "proxy_password=s3cret-Pw", "-f", str(SQL))
        assert run.returncode == 0, run.stderr
    facts = server("postgres", "-A", "-t", sql=(
        "SELECT rolcanlogin, rolcreaterole, rolcreatedb, rolpassword IS NOT NULL"
        " FROM pg_authid WHERE rolname = 'app_proxy';"
        "SELECT pg_has_role('app_proxy', 'rds_iam', 'MEMBER'),"
        " pg_has_role('app', 'app_proxy', 'MEMBER');")).stdout.split()
    assert facts == ["t|f|f|t", "f|t"]
    made = server("app_proxy", "-v", "ON_ERROR_STOP=1", sql="CREATE TABLE orders (id int);")
    assert made.returncode == 0, made.stderr
    read = server("app", "-v", "ON_ERROR_STOP=1", sql="SELECT count(*) FROM orders;")
    assert read.returncode == 0, read.stderr


@pytest.mark.slow
def test_it_refuses_to_run_without_a_password(server):  # noqa: F811
    run = server("app_admin", "-f", str(SQL))
    assert run.returncode != 0 and "proxy_password is required" in run.stderr
