-- The role the application logs in as through the RDS Proxy (`database.proxy`; README, "Database
-- access"): `<app_user>_proxy`, with the password the proxy reads from the secret
-- /<project>/<env>/database/proxy-user. Run sql/app-role.sql first: the application role gets
-- this role's privileges, so what either creates, both use.
--
-- Run it once per environment with the proxy, and again whenever you like (it is idempotent;
-- again after changing the password), as the master user, over TLS, with the password the secret
-- holds:
--
--   psql "host=<database_endpoint> dbname=<database.database_name> user=<database.master_username>
--         sslmode=verify-full sslrootcert=global-bundle.pem" \
--        -v app_user=<database_app_user output> -v proxy_password="$PROXY_PASSWORD" \
--        -f sql/proxy-role.sql
--
-- Variables (psql -v): app_user (default `app`), app_schema (default: named after app_user), as
-- for sql/app-role.sql; proxy_password (required).
--
-- What the role gets, and only that: LOGIN with that password and no rds_iam (RDS Proxy logs in
-- with a password: AWS, "Setting up database credentials for RDS Proxy"; a role that rds_iam
-- reaches, directly or through a nested role, authenticates with IAM only), CONNECT on this
-- database, USAGE and CREATE on the application's schema, its search_path there. No SUPERUSER,
-- CREATEDB or CREATEROLE. The application role becomes a member of it (so rds_iam never reaches
-- it); nothing is made a member of the application role.

\set ON_ERROR_STOP on
\if :{?app_user}
\else
  \set app_user app
\endif
\if :{?app_schema}
\else
  \set app_schema :app_user
\endif
\if :{?proxy_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'proxy_password is required: psql -v proxy_password=... (the password in the secret)'; END $$;
\endif
\set proxy_user :app_user '_proxy'

SELECT set_config('proxy_role.app_user', :'app_user', false),
       set_config('proxy_role.user', :'proxy_user', false);

DO $$
DECLARE
  app_user text := current_setting('proxy_role.app_user');
  proxy_user text := current_setting('proxy_role.user');
BEGIN
  IF proxy_user = current_user OR proxy_user = session_user THEN
    RAISE EXCEPTION 'the proxy role % is the user running this script (the master user)', proxy_user;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = app_user) THEN
    RAISE EXCEPTION 'the application role % does not exist: run sql/app-role.sql first', app_user;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = proxy_user) THEN
    EXECUTE format('CREATE ROLE %I WITH LOGIN NOCREATEDB NOCREATEROLE INHERIT', proxy_user);
  END IF;
END
$$;

ALTER ROLE :"proxy_user" WITH LOGIN NOCREATEDB NOCREATEROLE INHERIT PASSWORD :'proxy_password';
-- A role rds_iam reaches logs in with IAM tokens only: the proxy's password would stop working.
REVOKE rds_iam FROM :"proxy_user";

GRANT CONNECT ON DATABASE :"DBNAME" TO :"proxy_user";
GRANT USAGE, CREATE ON SCHEMA :"app_schema" TO :"proxy_user";
ALTER ROLE :"proxy_user" IN DATABASE :"DBNAME" SET search_path = :"app_schema";

-- The application role (the reader's user, and anyone connecting without the proxy) uses what the
-- proxy role creates. Never the other way round: that would hand the proxy role rds_iam.
GRANT :"proxy_user" TO :"app_user";
