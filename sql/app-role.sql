-- The application's own database role: what every service, function and scheduled task with
-- `database` access connects as, with IAM authentication (README, "Database access").
--
-- Run it once per environment, and again whenever you like (it is idempotent), as the master user
-- with the master password from Secrets Manager, over TLS:
--
--   psql "host=<database_endpoint> dbname=<database.database_name> user=<database.master_username>
--         sslmode=verify-full sslrootcert=global-bundle.pem" \
--        -v app_user=<database_app_user output> -f sql/app-role.sql
--
-- Variables (psql -v): app_user (default `app`: database.app_user's default), app_schema (the
-- schema the application works in; default: named after app_user).
--
-- What the role gets, and only that: LOGIN without a password (rds_iam: an IAM token is its
-- password), CONNECT on this database, USAGE and CREATE on its own schema (it owns the tables it
-- creates there; the master user owns the schema), its search_path there. No SUPERUSER (RDS has
-- none to give), no CREATEDB, no CREATEROLE, no membership of rds_superuser.
--
-- Never run it with app_user set to the master user: AWS, "Database authentication with Amazon
-- RDS": once rds_iam is granted to the master user, directly or through a nested role, IAM
-- authentication takes precedence and its password (the break-glass path) stops working. The
-- script refuses that, and never makes the master user a member of the application role.

\set ON_ERROR_STOP on
\if :{?app_user}
\else
  \set app_user app
\endif
\if :{?app_schema}
\else
  \set app_schema :app_user
\endif

-- Dollar-quoted blocks do not see psql variables: hand them over as session settings.
SELECT set_config('app_role.user', :'app_user', false),
       set_config('app_role.schema', :'app_schema', false);

DO $$
DECLARE
  app_user text := current_setting('app_role.user');
BEGIN
  IF app_user = current_user OR app_user = session_user THEN
    RAISE EXCEPTION 'app_user % is the user running this script (the master user): IAM authentication would replace its password', app_user;
  END IF;
  IF app_user !~ '^[a-z][a-z0-9_]{0,62}$' OR app_user ~ '^(pg_|rds)' THEN
    RAISE EXCEPTION 'app_user % is not allowed: a lowercase letter, then up to 62 letters, digits or underscores, not starting with pg_ or rds', app_user;
  END IF;
  -- CREATE ROLE has no IF NOT EXISTS.
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = app_user) THEN
    EXECUTE format('CREATE ROLE %I WITH LOGIN NOCREATEDB NOCREATEROLE INHERIT', app_user);
  END IF;
END
$$;

-- Again on a second run: a role created or changed by hand keeps no password and no privilege.
-- (SUPERUSER, REPLICATION and BYPASSRLS are not named: the RDS master user may not set them
-- either way, and CREATE ROLE leaves them off.)
ALTER ROLE :"app_user" WITH LOGIN NOCREATEDB NOCREATEROLE INHERIT PASSWORD NULL;
GRANT rds_iam TO :"app_user";

GRANT CONNECT ON DATABASE :"DBNAME" TO :"app_user";

-- Nothing but owners creates objects in public (the default from PostgreSQL 15 on; older majors
-- let every role create there).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- Its own schema, owned by the master user: CREATE SCHEMA ... AUTHORIZATION <app_user> would need
-- the master user to be a member of the application role, which would hand it rds_iam (above).
CREATE SCHEMA IF NOT EXISTS :"app_schema";
GRANT USAGE, CREATE ON SCHEMA :"app_schema" TO :"app_user";
ALTER ROLE :"app_user" IN DATABASE :"DBNAME" SET search_path = :"app_schema";
