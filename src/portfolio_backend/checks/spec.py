"""checks.yaml: the owner's questions and what each answer must (not) hold.

    checks:
      - question: What are Alex's rates?
        assert:
          - type: icontains          # promptfoo's names where they overlap:
            value: 650 EUR           #   contains, icontains, not-contains, regex
          - type: source             # a file or URL that must be among the sources shown (or
                                     # a source's title: "The owner's own answer")
            value: services.md
      - question: What is 15 * 7 + 23?
        assert:
          - type: contains
            value: "128"
          - type: no-source          # no source shown (takes no value)

Read through PyYAML's node graph (`yaml.compose`), not its objects, so every mistake names the
line it is on: `checks.yaml:7: ...`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

# Every assertion type, and whether it takes a value
ASSERTION_TYPES = {
    "contains": True,
    "icontains": True,
    "not-contains": True,
    "regex": True,
    "source": True,
    "no-source": False,
}


class CheckFileError(Exception):
    """The file cannot be used; the message names the file and the line."""


@dataclass(frozen=True, slots=True)
class Assertion:
    kind: str
    value: str | None
    line: int  # 1-based, in the checks file

    def describe(self) -> str:
        return self.kind if self.value is None else f"{self.kind} {self.value!r}"


@dataclass(frozen=True, slots=True)
class Check:
    question: str
    assertions: tuple[Assertion, ...]
    line: int


def load_checks(path: Path) -> list[Check]:
    """The checks in `path`; CheckFileError naming the line of the first mistake."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckFileError(f"{path}: cannot be read ({exc})") from exc
    return parse_checks(text, str(path))


def parse_checks(text: str, name: str) -> list[Check]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        context = f" ({exc.context} on line {exc.context_mark.line + 1})" if exc.context and exc.context_mark else ""
        raise CheckFileError(f"{name}{line}: not valid YAML: {exc.problem or exc}{context}") from exc
    except yaml.YAMLError as exc:
        raise CheckFileError(f"{name}: not valid YAML: {exc}") from exc
    return _Reader(name).checks(root)


class _Reader:
    def __init__(self, name: str) -> None:
        self.name = name

    def error(self, node: yaml.Node | None, message: str) -> CheckFileError:
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        return CheckFileError(f"{self.name}{line}: {message}")

    def mapping(self, node: yaml.Node, what: str, keys: dict[str, bool]) -> dict[str, yaml.Node]:
        """A mapping's nodes by key; `keys` says which are allowed and which required."""
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"{what} must be a mapping")
        found: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key not in keys:
                allowed = ", ".join(keys)
                raise self.error(key_node, f"{what} has an unknown key {key!r} (allowed: {allowed})")
            if key in found:
                raise self.error(key_node, f"{what} has {key!r} twice")
            found[key] = value_node
        for key, required in keys.items():
            if required and key not in found:
                raise self.error(node, f"{what} needs {key!r}")
        return found

    def text(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            raise self.error(node, f"{what} must be text")
        value = str(node.value)
        if not value.strip():
            raise self.error(node, f"{what} must not be empty")
        return value

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, f"{what} must be a list")
        return list(node.value)

    def checks(self, root: yaml.Node | None) -> list[Check]:
        if root is None:
            raise self.error(None, "is empty: write a `checks:` list")
        items = self.sequence(self.mapping(root, "the file", {"checks": True})["checks"], "`checks`")
        if not items:
            raise self.error(root, "`checks` is empty")
        return [self.check(item) for item in items]

    def check(self, node: yaml.Node) -> Check:
        fields = self.mapping(node, "a check", {"question": True, "assert": True})
        question = self.text(fields["question"], "`question`")
        assertions = self.sequence(fields["assert"], "`assert`")
        if not assertions:
            raise self.error(fields["assert"], "`assert` is empty: say what the answer must hold")
        return Check(question, tuple(self.assertion(item) for item in assertions), node.start_mark.line + 1)

    def assertion(self, node: yaml.Node) -> Assertion:
        fields = self.mapping(node, "an assertion", {"type": True, "value": False})
        kind = self.text(fields["type"], "`type`")
        if kind not in ASSERTION_TYPES:
            raise self.error(fields["type"], f"unknown assertion type {kind!r} (known: {', '.join(ASSERTION_TYPES)})")
        takes_value = ASSERTION_TYPES[kind]
        if takes_value and "value" not in fields:
            raise self.error(node, f"`{kind}` needs a `value`")
        if not takes_value and "value" in fields:
            raise self.error(fields["value"], f"`{kind}` takes no `value`")
        value = self.text(fields["value"], "`value`") if takes_value else None
        if kind == "regex" and value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise self.error(fields["value"], f"`regex` {value!r} is not a regular expression: {exc}") from exc
        return Assertion(kind, value, node.start_mark.line + 1)
