"""The repository's deployment files, as the deployment checks (tests/deploy) name them."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
COMPOSE_DEV = REPO / "docker-compose.yml"
COMPOSE_PROD = REPO / "docker-compose.prod.yml"
NGINX_CONF = REPO / "deploy" / "nginx" / "nginx.conf"
HEALTHCHECK = REPO / "deploy" / "healthcheck.py"
BUILD_SCRIPT = REPO / "docker-build.sh"

APP_SERVICE = "portfoliobackend"
SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.IGNORECASE)
