# PortfolioBackend image: a uv-built virtualenv on python:3.11-slim, run as a fixed non-root uid.
#
#   ./docker-build.sh            # or: docker build -t portfoliobackend:latest .
#
# Plain Dockerfile syntax only (no `# syntax=` line, no RUN --mount): it builds with BuildKit or the
# legacy builder, from any Docker CLI with or without buildx, and needs no registry but the two base
# images and PyPI. Dependencies are cached as an image layer that only uv.lock changes invalidate.
#
# The image holds no secrets (no .env is copied: see .dockerignore); configuration comes from the
# environment at run time. It runs with a read-only root filesystem: nothing is written outside
# /tmp (mount a tmpfs) and /data (the volume for the embedded SQLite store when REDIS_URL is unset).

ARG PYTHON_IMAGE=python:3.11-slim
ARG UV_VERSION=0.13.9

# uv comes from its official image; only its two static binaries are used.
FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

# ---------------------------------------------------------------------------------------------
# builder: resolve the locked dependencies into /app/.venv, then install the project itself
# (non-editable, so the runtime stage needs no source tree), all compiled to bytecode.
# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder
COPY --from=uv /uv /uvx /bin/

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3 \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /src

# Dependencies first, from the lock file alone, so this layer survives source edits.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project --no-editable

# Then the project (uv_build needs pyproject.toml, README.md and the package under src/).
COPY README.md ./
COPY src ./src
RUN uv sync --frozen --no-dev --no-editable

# ---------------------------------------------------------------------------------------------
# runtime: the same base image (the venv's python links to /usr/local/bin/python3.11), the venv,
# the entry point and the default system prompt. Everything is owned by root and read-only to
# the app user; only /data belongs to it.
# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ARG APP_UID=10001

RUN groupadd --system --gid "${APP_UID}" app \
 && useradd --system --uid "${APP_UID}" --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app \
 && install -d -o app -g app -m 0700 /data

WORKDIR /app
COPY --from=builder /app/.venv /app/.venv
COPY main.py ./main.py
COPY data/system_prompt.md ./data/system_prompt.md
COPY deploy/healthcheck.py ./healthcheck.py

# PYTHONDONTWRITEBYTECODE: the venv is precompiled; nothing may try to write __pycache__ at run time.
# FORWARDED_ALLOW_IPS="": uvicorn itself believes no X-Forwarded-For (it would otherwise trust
# 127.0.0.1); the app applies its own TRUSTED_PROXIES list instead.
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    FORWARDED_ALLOW_IPS="" \
    DATABASE_PATH=/data/portfolio.sqlite3 \
    KNOWLEDGE_INDEX_PATH=/data/knowledge.sqlite3 \
    SYSTEM_PROMPT_FILE=/app/data/system_prompt.md

VOLUME ["/data"]
USER ${APP_UID}:${APP_UID}
EXPOSE 8000

# Liveness only (the process answers); /health and /health/ready also report the store.
# Python's stdlib is used because the slim image has no curl or wget.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "/app/healthcheck.py"]

STOPSIGNAL SIGTERM
CMD ["python", "main.py"]

# Last, so that a new revision or build date (docker-build.sh passes both) changes only this
# metadata and every layer above stays cached.
ARG VCS_REF=unknown
ARG BUILD_DATE=unknown
LABEL org.opencontainers.image.title="PortfolioBackend" \
      org.opencontainers.image.description="Streaming chat API for AI assistants on personal and small-business sites" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.revision="${VCS_REF}" \
      org.opencontainers.image.created="${BUILD_DATE}"
