"""Without NAT the config refuses, in one line each, what would leave an AWS API out of reach of
the workload that needs it: an interface endpoint for every API a function or task is told about
(secret ARNs, queue URLs) or that ECS needs to start it (ECR, awslogs, injected secrets), and no
image or sidecar that needs the internet. tests/test_reachability.py holds the same rules over the
synthesized JSON."""

import pytest

from lib.config import load_environment
from test_config import MINIMAL, problems, write

# What the dev profile's workloads need without NAT: ECR pulls and awslogs for the services, SQS
# for the email queue. Not Secrets Manager: the database takes IAM tokens, signed in the workload.
NO_NAT_ENDPOINTS = 'interface_endpoints = ["ecr.api", "ecr.dkr", "logs", "sqs"]\n'

# The lean profile's services run on Lambda: one web service beside the zip API function, which
# takes every path the service does not.
LAMBDA_WEB = '[[services]]\nname = "web"\nport = 8080\npaths = ["/app/*"]\n'

NO_NAT_CASES = [
    # (case, file text, field path, words the message must contain)
    ("worker on a queue in a VPC without egress", MINIMAL.replace(
     "[network]", '[network]\nnat = "none"\n' + NO_NAT_ENDPOINTS.replace(', "sqs"', ''))
     + '[[services]]\nname = "mailer"\nkind = "worker"\nqueue = "email"\n',
     "services.mailer.queue",
     "SQS is out of reach from a VPC without NAT; add \"sqs\" to network.interface_endpoints"),
    ("function secret in a VPC without egress", 'profile = "lean"\n' + MINIMAL.replace(
     "[network]", '[[secrets]]\nname = "jwt"\nservice = "api"\n\n[network]')
     + '[api]\nenabled = true\nsecrets = ["jwt"]\n' + LAMBDA_WEB, "api.secrets",
     "Secrets Manager is out of reach from a VPC without NAT; add \"secretsmanager\" to "
     "network.interface_endpoints"),
    ("a service's secret on Lambda in a VPC without egress", 'profile = "lean"\n'
     + MINIMAL.replace("[network]", '[[secrets]]\nname = "jwt"\nservice = "web"\n\n[network]')
     + LAMBDA_WEB + 'secrets = ["jwt"]\n', "services.web.secrets",
     "Secrets Manager is out of reach from a VPC without NAT"),
    ("ECS tasks pulling from ECR in a VPC without egress", MINIMAL + 'nat = "none"\n'
     + NO_NAT_ENDPOINTS.replace('"ecr.api", "ecr.dkr", ', ''), "services.frontend.image",
     "ECR is out of reach from a VPC without NAT; add \"ecr.api\", \"ecr.dkr\" to "
     "network.interface_endpoints (also needed by services.backend.image, "
     "services.worker.image)"),
    ("ECS tasks logging in a VPC without egress", MINIMAL + 'nat = "none"\n'
     + NO_NAT_ENDPOINTS.replace('"logs", ', ''), "compute.platform",
     "CloudWatch Logs is out of reach from a VPC without NAT; add \"logs\""),
    ("service secrets in a VPC without egress", MINIMAL.replace("[network]", '[[secrets]]\n'
     'name = "stripe-key"\nservice = "backend"\n\n[network]') + 'nat = "none"\n'
     + NO_NAT_ENDPOINTS + '[[services]]\nname = "backend"\nport = 8000\npaths = ["/*"]\n'
     'priority = 10\nsecrets = ["stripe-key"]\n', "services.backend.secrets",
     "Secrets Manager is out of reach from a VPC without NAT"),
    ("image from outside ECR in a VPC without egress", MINIMAL + 'nat = "none"\n'
     + NO_NAT_ENDPOINTS + '[[services]]\nname = "docs"\nimage = "public.ecr.aws/nginx/nginx:1.27"'
     '\nport = 80\npaths = ["/*"]\npriority = 10\n', "services.docs.image",
     "'public.ecr.aws/nginx/nginx:1.27' is pulled from outside this account's ECR, which needs "
     "internet egress"),
    ("EC2 capacity in a VPC without egress", MINIMAL.replace("[network]", "[compute.ec2]\n"
     'instance_type = "t4g.small"\n\n[network]') + 'nat = "none"\n' + NO_NAT_ENDPOINTS,
     "compute.ec2", "container instances register with the ECS API"),
    ("OpenTelemetry sidecar in a VPC without egress", MINIMAL.replace("[network]",
     "[observability]\notel_sidecar = true\n\n[network]") + 'nat = "none"\n' + NO_NAT_ENDPOINTS,
     "observability.otel_sidecar", "need internet egress"),
]


@pytest.mark.parametrize("case, text, field, words", NO_NAT_CASES,
                         ids=[c[0] for c in NO_NAT_CASES])
def test_an_api_out_of_reach_gets_one_clear_line(tmp_path, case, text, field, words):
    path = write(tmp_path, text)
    found = problems(path)
    assert len(found) == 1, found
    assert found[0].startswith(f"{path}: {field}: ") and words in found[0], found[0]


def test_without_nat_the_endpoints_every_workload_needs_load(tmp_path):
    c = load_environment(write(tmp_path, MINIMAL + 'nat = "none"\n' + NO_NAT_ENDPOINTS))
    assert (c.network.nat, c.api.enabled, [s.name for s in c.services]) == \
        ("none", True, ["frontend", "backend", "worker"])


def test_with_nat_nothing_needs_an_endpoint(tmp_path):
    text = MINIMAL.replace("[network]", "[observability]\notel_sidecar = true\n\n[compute.ec2]\n"
                           'instance_type = "t4g.small"\n\n[network]') + 'nat = "single"\n'
    assert load_environment(write(tmp_path, text)).network.interface_endpoints == []


def test_the_database_needs_no_endpoint_without_nat(tmp_path):
    """IAM database authentication signs its token in the workload with the role's credentials
    (Amazon RDS User Guide, "IAM database authentication": tokens are generated with Signature
    Version 4): no AWS API is called, so services and functions with `database` access need no
    interface endpoint, where the master secret used to need Secrets Manager's."""
    text = 'profile = "lean"\n' + MINIMAL + 'interface_endpoints = []\n[api]\nenabled = true\n' \
        + LAMBDA_WEB + 'access = ["database", "cache"]\n'
    c = load_environment(write(tmp_path, text))
    assert (c.network.nat, c.api.access, c.services[0].access) == \
        ("none", ["database", "cache"], ["database", "cache"])
