"""moto's server, one request at a time. Run with moto's own interpreter:
`.tools/moto/bin/python tools/local_emulator.py <port>` (tools/deploy_local.py does).

Why not `moto_server`: it serves requests on parallel threads, and moto's in-memory backends are
not thread-safe. Under Terraform's 10 parallel operations that showed up as duplicate and
vanished security-group rules (a request that failed mid-way, retried by the AWS SDK). Served
one at a time, each request is still a few milliseconds.
"""

import sys

from moto.rds import models as rds
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

# A new DB instance's CA, where the request names none. moto answers "rds-ca-default", which is
# no CA AWS has ("Using SSL/TLS to encrypt a connection to a DB instance or cluster", Amazon RDS
# User Guide, lists rds-ca-rsa2048-g1, rds-ca-rsa4096-g1, rds-ca-ecc384-g1, rds-ca-2019); new
# instances get rds-ca-rsa2048-g1. The AWS provider (5.100) leaves the CA out of CreateDBInstance
# and, when the answer differs from the configured one, modifies the instance and waits for it
# again: 80 s of every local cycle that AWS itself would not cost.
DEFAULT_CA = "rds-ca-rsa2048-g1"
_db_instance_init = rds.DBInstance.__init__


def _with_aws_default_ca(self, *args, ca_certificate_identifier=None, **kwargs) -> None:
    _db_instance_init(self, *args, ca_certificate_identifier=ca_certificate_identifier
                      or DEFAULT_CA, **kwargs)


rds.DBInstance.__init__ = _with_aws_default_ca


def main() -> None:
    port = int(sys.argv[1])
    run_simple("127.0.0.1", port, DomainDispatcherApplication(create_backend_app),
               threaded=False, use_reloader=False)


if __name__ == "__main__":
    main()
