"""A Dockerfile read the way `docker build` reads it: stages, instructions, ARG expansion, ENV, the
exec form, and the build-context paths it uses. For checks that need no Docker engine.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class Instruction:
    keyword: str
    value: str
    line: int

    def flags_and_args(self) -> tuple[dict[str, str], list[str]]:
        """`--flag=value` options and the remaining words (exec-form JSON is not split here)."""
        flags: dict[str, str] = {}
        words = shlex.split(self.value, posix=True)
        rest: list[str] = []
        for index, word in enumerate(words):
            if word.startswith("--") and not rest:
                name, _, val = word[2:].partition("=")
                # --mount may repeat: keep every value, newline-separated
                flags[name] = f"{flags[name]}\n{val}" if name in flags else val
            else:
                rest = words[index:]
                break
        return flags, rest


@dataclass
class Stage:
    base: str
    name: str | None
    args: dict[str, str] = field(default_factory=dict)
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [item for item in self.instructions if item.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None

    def env(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for item in self.all("ENV"):
            env.update(parse_env(item.value))
        return env


@dataclass
class Dockerfile:
    global_args: dict[str, str]
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def expand(self, text: str, stage: Stage | None = None) -> str:
        """Substitute ARG defaults (${NAME}, $NAME, ${NAME:-x}) the way a default build would."""
        values = dict(self.global_args)
        if stage is not None:
            values.update(stage.args)

        def replace(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(3)
            default = match.group(2)
            value = values.get(name, "")
            return value if value else (default or "")

        return re.sub(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)", replace, text)


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not buffer and (not stripped or stripped.startswith("#")):
            continue
        if buffer and stripped.startswith("#"):
            continue  # comment lines inside a continued instruction are dropped by Docker too
        if not buffer:
            start = number
        if raw.rstrip().endswith("\\"):
            buffer.append(raw.rstrip()[:-1])
            continue
        buffer.append(raw)
        yield start, " ".join(part.strip() for part in buffer if part.strip())
        buffer = []
    if buffer:
        yield start, " ".join(part.strip() for part in buffer)


def parse_env(value: str) -> dict[str, str]:
    """ENV in `k=v k2="v 2"` form, or the legacy `ENV key value` form."""
    words = shlex.split(value, posix=True)
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    result: dict[str, str] = {}
    for word in words:
        key, _, val = word.partition("=")
        result[key] = val
    return result


def parse_dockerfile(text: str) -> Dockerfile:
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line, logical in _logical_lines(text):
        keyword, _, value = logical.partition(" ")
        keyword = keyword.upper()
        value = value.strip()
        if keyword == "FROM":
            words = value.split()
            words = [word for word in words if not word.startswith("--platform")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
            continue
        if keyword == "ARG":
            name, _, default = value.partition("=")
            target = stages[-1].args if stages else global_args
            # a stage ARG without a default re-imports the global value
            target[name.strip()] = default.strip().strip('"') if default else global_args.get(name.strip(), "")
            if not stages:
                continue
        if not stages:
            continue
        stages[-1].instructions.append(Instruction(keyword, value, line))
    return Dockerfile(global_args, stages)


def exec_form(instruction: Instruction) -> list[str] | None:
    """The JSON array of CMD/ENTRYPOINT/HEALTHCHECK CMD, or None for the shell form."""
    value = instruction.value
    if instruction.keyword == "HEALTHCHECK":
        _, _, value = value.partition("CMD")
    try:
        parsed = json.loads(value.strip())
    except ValueError:
        return None
    return parsed if isinstance(parsed, list) and all(isinstance(x, str) for x in parsed) else None


def context_sources(dockerfile: Dockerfile) -> list[str]:
    """Every build-context path the Dockerfile reads: COPY/ADD sources and RUN bind mounts."""
    sources: list[str] = []
    for stage in dockerfile.stages:
        for item in stage.instructions:
            flags, words = item.flags_and_args()
            if item.keyword in ("COPY", "ADD") and "from" not in flags:
                sources.extend(words[:-1])
            if item.keyword == "RUN" and "mount" in flags:
                for mount in flags["mount"].split("\n"):
                    options = dict(part.partition("=")[::2] for part in mount.split(","))
                    if options.get("type") == "bind" and "from" not in options:
                        sources.append(options.get("source", options.get("src", ".")))
    return sources
