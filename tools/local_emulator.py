"""moto's server, one request at a time. Run with moto's own interpreter:
`.tools/moto/bin/python tools/local_emulator.py <port>` (tools/deploy_local.py does).

Why not `moto_server`: it serves requests on parallel threads, and moto's in-memory backends are
not thread-safe. Under Terraform's 10 parallel operations that showed up as duplicate and
vanished security-group rules. So every request runs under one lock, each still a few
milliseconds.

Retries: now and then the AWS SDK sees a request moto has carried out fail on the connection
(the provider's debug log shows the retry ~0.1 s after the first send, with no response between)
and sends it again, which then fails on its own first attempt: "already exists"
(CreateNetworkAclEntry), "priority in use" (CreateRule), "not found" (RevokeSecurityGroupEgress).
Every attempt of one SDK operation carries the same `amz-sdk-invocation-id` header, so the
emulator answers a retry with the first attempt's response, as an idempotent API would, and
writes one line for it to stderr (the cycle's report counts them). The server is threaded so
that connections are accepted while a request runs; werkzeug closes each connection after its
answer (it has no keep-alive).
"""

import logging
import sys
import threading

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


def serialized(app):
    """`app`, one request at a time (the response body is read inside the lock too), and each
    SDK operation carried out once: a retry, which carries the first attempt's
    `amz-sdk-invocation-id`, gets the first attempt's answer instead of running again."""
    lock = threading.Lock()
    answered: dict[str, tuple[str, list, bytes]] = {}

    def serve(environ, start_response):
        invocation = environ.get("HTTP_AMZ_SDK_INVOCATION_ID")
        with lock:
            answer = answered.get(invocation) if invocation else None
            if answer is not None:
                print(f"replayed {environ.get('HTTP_X_AMZ_TARGET') or 'query'} {invocation}",
                      file=sys.stderr, flush=True)
            else:
                started = {}

                def capture(status, headers, exc_info=None):
                    started.update(status=status, headers=headers)
                    return lambda data: None  # moto's apps return their body, never write()

                body = b"".join(app(environ, capture))
                answer = (started["status"], started["headers"], body)
                if invocation:
                    answered[invocation] = answer
        start_response(answer[0], answer[1])
        return [answer[2]]
    return serve


def main() -> None:
    port = int(sys.argv[1])
    # stderr carries only the replays (tools/deploy_local.py counts them), not a line per request.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    run_simple("127.0.0.1", port, serialized(DomainDispatcherApplication(create_backend_app)),
               threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
