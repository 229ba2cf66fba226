"""ECR repositories for the images this project's services build."""

import json
from dataclasses import dataclass

from constructs import Construct

from lib.core import aws
from lib.core.naming import Naming


@dataclass(frozen=True)
class ImageRepositoryProps:
    naming: Naming
    service: str
    kms_key_arn: str
    immutable_tags: bool
    keep_release_images: int  # images tagged v* to keep
    untagged_image_days: int
    force_delete: bool  # a disposable environment may delete a repository that holds images


class ImageRepository(Construct):
    """`<project>-<env>/<service>`: scan on push, KMS encryption, optional tag immutability, and a
    lifecycle that keeps the last `keep_release_images` images tagged `v*` and expires untagged
    images after `untagged_image_days`.

    Outputs: `url`, `arn`, `name`.
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
            self, "lifecycle", repository=self.name, policy=json.dumps({"rules": [
                {"rulePriority": 1,
                 "description": f"Keep the last {props.keep_release_images} release images (v*)",
                 "selection": {"tagStatus": "tagged", "tagPrefixList": ["v"],
                               "countType": "imageCountMoreThan",
                               "countNumber": props.keep_release_images},
                 "action": {"type": "expire"}},
                {"rulePriority": 2,
                 "description": f"Expire untagged images after {props.untagged_image_days} days",
                 "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                               "countUnit": "days", "countNumber": props.untagged_image_days},
                 "action": {"type": "expire"}},
            ]}))
        self.url: str = repo.repository_url
        self.arn: str = repo.arn
