"""moto's server, one request at a time. Run with moto's own interpreter:
`.tools/moto/bin/python tools/local_emulator.py <port>` (tools/deploy_local.py does).

Why not `moto_server`: it serves requests on parallel threads, and moto's in-memory backends are
not thread-safe. Under Terraform's 10 parallel operations that showed up as duplicate and
vanished security-group rules (a request that failed mid-way, retried by the AWS SDK). Served
one at a time, each request is still a few milliseconds.
"""

import sys

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    port = int(sys.argv[1])
    run_simple("127.0.0.1", port, DomainDispatcherApplication(create_backend_app),
               threaded=False, use_reloader=False)


if __name__ == "__main__":
    main()
