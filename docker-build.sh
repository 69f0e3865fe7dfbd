#!/usr/bin/env bash
# Build the PortfolioBackend image.
#
#   ./docker-build.sh               # portfoliobackend:latest
#   ./docker-build.sh 1.2.0         # portfoliobackend:1.2.0 and portfoliobackend:latest
#   ./docker-build.sh 1.2.0 --no-cache --network host   # extra args go to docker build
#
# IMAGE_NAME overrides the repository name (default portfoliobackend). Any Docker CLI will do, with
# or without buildx: the Dockerfile needs no BuildKit-only feature, so the builder is the CLI's
# default (BuildKit where buildx is installed, else the classic builder) unless DOCKER_BUILDKIT says
# otherwise. A failed build exits with docker's own non-zero status.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

image="${IMAGE_NAME:-portfoliobackend}"
tag="latest"
if [[ $# -gt 0 && "$1" != -* ]]; then
    tag="$1"
    shift
fi
if [[ ! "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then
    echo "docker-build.sh: invalid tag '$tag'" >&2
    exit 2
fi

if ! command -v docker >/dev/null 2>&1; then
    echo "docker-build.sh: the docker CLI is not installed" >&2
    exit 1
fi

vcs_ref="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

tags=(--tag "${image}:${tag}")
if [[ "$tag" != "latest" ]]; then
    tags+=(--tag "${image}:latest")
fi

echo "Building ${image}:${tag} (revision ${vcs_ref})"
status=0
docker build \
    "${tags[@]}" \
    --build-arg "VCS_REF=${vcs_ref}" \
    --build-arg "BUILD_DATE=${build_date}" \
    "$@" \
    . || status=$?
if [[ $status -ne 0 ]]; then
    echo "docker-build.sh: the build of ${image}:${tag} failed (docker build exited with ${status})" >&2
    exit "$status"
fi
echo "Built ${image}:${tag}"
