"""ECR repositories for the images this project's services build, and the lifecycle that expires
what no longer runs.

The tags `.github/workflows/images.yml` gives an image in a repository:
- `sha-<commit>`: every image, pushed once (tags are immutable), built or promoted by digest;
- `deployed-<run>-<attempt>`: the digest a deploy rolls out, until no task definition that runs
  names it any more (the workflow then removes that tag again);
- `v<version>`: release images, if you push them.
"""

import json
from dataclasses import dataclass

from constructs import Construct

from lib.core import aws
from lib.core.naming import Naming

COMMIT_TAGS = "sha-*"
DEPLOYED_TAGS = "deployed-*"
RELEASE_TAGS = "v*"
# The deployed-* rule only has to outrank the others: a service's task definitions name a handful
# of digests at once (the running deployment, one rolling in, the family's newest revision), and
# the workflow untags the rest, so this count is never reached.
DEPLOYED_KEEP = 100


@dataclass(frozen=True)
class ImageRepositoryProps:
    naming: Naming
    service: str
    kms_key_arn: str
    immutable_tags: bool
    keep_sha_images: int  # images tagged sha-* to keep besides the deployed and release ones
    keep_release_images: int  # images tagged v* to keep
    untagged_image_days: int
    force_delete: bool  # a disposable environment may delete a repository that holds images
    # The Lambda function (its name) that runs this repository's images, or None.
    pulled_by_function: str | None = None


def lifecycle_rules(keep_sha_images: int, keep_release_images: int,
                    untagged_image_days: int) -> list[dict]:
    """The rules, in the order ECR applies them.

    ECR (User Guide, "Automate the cleanup of images by using lifecycle policies", evaluation
    rules): rules apply from the lowest `rulePriority`; an image that matches the tagging
    requirements of a rule cannot be expired by a rule with a lower priority; an image is
    expired by one rule or none; count rules keep the newest by push time. A tag pattern list
    selects an image when its patterns match any of the image's tags ("Lifecycle policy
    properties in Amazon ECR", tagPatternList), so an image tagged both `sha-...` and `deployed-...`
    belongs to the first rule below and is never counted out by the `sha-*` one.
    """
    def tagged(pattern: str, keep: int, what: str) -> dict:
        return {"description": f"Keep the last {keep} {what} ({pattern})",
                "selection": {"tagStatus": "tagged", "tagPatternList": [pattern],
                              "countType": "imageCountMoreThan", "countNumber": keep},
                "action": {"type": "expire"}}

    rules = [
        tagged(DEPLOYED_TAGS, DEPLOYED_KEEP, "images a task definition in use names"),
        tagged(RELEASE_TAGS, keep_release_images, "release images"),
        tagged(COMMIT_TAGS, keep_sha_images, "images built from a commit"),
        {"description": f"Expire untagged images after {untagged_image_days} days",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                       "countUnit": "days", "countNumber": untagged_image_days},
         "action": {"type": "expire"}},
    ]
    return [{"rulePriority": i, **rule} for i, rule in enumerate(rules, start=1)]


class ImageRepository(Construct):
    """`<project>-<env>/<service>`: scan on push, KMS encryption, tag immutability (unless
    `immutable_tags` is off), and `lifecycle_rules`: images a running task definition names
    (tagged `deployed-*` by the deploy) never expire; besides them the repository keeps the last
    `keep_release_images` images tagged `v*` and the last `keep_sha_images` tagged `sha-*`, and
    expires untagged images after `untagged_image_days`. Tags that match no rule (a service's
    `image_tag`, if pushed) never expire. With `pulled_by_function`: a repository policy that
    lets Lambda pull images for that function only.

    Outputs: `url`, `arn`, `name`, `lambda_pull` (the repository policy, or None).
    """

    def __init__(self, scope: Construct, id: str, props: ImageRepositoryProps):
        super().__init__(scope, id)
        n = props.naming
        repo = aws.ecr_repository.EcrRepository(
            self, "repository", name=f"{n.prefix}/{props.service}",
            image_tag_mutability="IMMUTABLE" if props.immutable_tags else "MUTABLE",
            image_scanning_configuration=aws.ecr_repository.
            EcrRepositoryImageScanningConfiguration(scan_on_push=True),
            encryption_configuration=[aws.ecr_repository.EcrRepositoryEncryptionConfiguration(
                encryption_type="KMS", kms_key=props.kms_key_arn)],
            force_delete=props.force_delete,
            tags=n.tags(props.service, "images"))
        self.name: str = repo.name
        aws.ecr_lifecycle_policy.EcrLifecyclePolicy(
            self, "lifecycle", repository=self.name, policy=json.dumps({"rules": lifecycle_rules(
                props.keep_sha_images, props.keep_release_images, props.untagged_image_days)}))
        self.url: str = repo.repository_url
        self.arn: str = repo.arn
        self.lambda_pull = None  # the repository policy a function's creation waits for
        if props.pulled_by_function:
            function = n.arn("lambda", f"function:{props.pulled_by_function}")
            # Lambda pulls a function's image with these two actions, which the repository
            # policy grants it ("Create a Lambda function using a container image", Amazon ECR
            # permissions). Written here rather than left to Lambda, which would add its own
            # statement when the deploy role may set repository policies. aws:SourceArn keeps
            # Lambda from pulling for any other function (a confused deputy).
            self.lambda_pull = aws.ecr_repository_policy.EcrRepositoryPolicy(
                self, "lambda-pull", repository=self.name, policy=json.dumps({
                    "Version": "2012-10-17", "Statement": [{
                        "Sid": "LambdaPullsForItsFunction", "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                        "Condition": {"StringLike": {
                            "aws:SourceArn": [function, f"{function}:*"]}}}]}))
