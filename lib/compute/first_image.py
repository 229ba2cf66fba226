"""What a service built by CI runs before CI has pushed its first image: a public placeholder that
answers the load balancer's health check (web) or just stays up (worker), so the first deploy can
wait for the service to become stable and report the truth.

The placeholder is BusyBox (the Docker Official Image, mirrored on the ECR Public Gallery): a few
MB, built for arm64 and x86_64, and its `httpd` applet serves files from a directory (`-h`),
mapping a request's path to the file under it, and a directory's to its `index.html`. ECR Public
serves unauthenticated pulls, so the execution role needs no permission for it ("Pulling an
image from the Amazon ECR Public Gallery"); the task does need internet egress (NAT) to reach
public.ecr.aws, which is why a VPC without NAT gets no placeholder (ContainerService).

CI's first deploy (images.yml) swaps the image for the built one and drops the command, so the
built image runs its own.
"""

import posixpath
import shlex

# Pinned by tag: a placeholder's content does not matter, its behaviour does (httpd, sh, sleep).
PLACEHOLDER_IMAGE = "public.ecr.aws/docker/library/busybox:1.37.0"
# Under /tmp, the task's one writable mount: the root file system may be read-only.
WEB_ROOT = "/tmp/placeholder"


def health_file(health_check_path: str) -> str:
    """The file under WEB_ROOT that httpd answers `health_check_path` with: the query string
    names no file, and a path ending in / is its directory's index.html."""
    path = health_check_path.split("?", 1)[0]
    if path.endswith("/"):
        path += "index.html"
    return WEB_ROOT + path


def placeholder_command(service: str, port: int | None, health_check_path: str) -> list[str]:
    """The container command: a web service serves 200 on `port` at `health_check_path` (and a
    page at / that says no image is deployed yet); a worker (no port) only stays up. Both say in
    their log what to run next."""
    notice = (f"{service}: placeholder image, nothing built is deployed yet; run the images "
              f"workflow (.github/workflows/images.yml) with service={service}")
    if port is None:
        # Not `sleep infinity` (not every BusyBox sleep takes it); SIGTERM ends the loop, as the
        # shell is not PID 1 (initProcessEnabled).
        return ["sh", "-c", f"echo {shlex.quote(notice)}; while :; do sleep 3600; done"]
    health = health_file(health_check_path)
    index = WEB_ROOT + "/index.html"
    steps = ["set -e", f"mkdir -p {shlex.quote(posixpath.dirname(health))}",
             f"echo ok > {shlex.quote(health)}"]
    if health != index:
        steps.append(f"echo {shlex.quote(notice)} > {index}")
    steps += [f"echo {shlex.quote(notice)}", f"exec httpd -f -p {port} -h {WEB_ROOT}"]
    script = "; ".join(steps)
    return ["sh", "-c", script]
