"""How deep a JSON body nests, counted on its bytes before any parser or validator walks it.

Python's JSON reader turns a 100,000-deep array into nested lists, and every later recursive walk
(pydantic, the lone-surrogate check of api/body.py, a repr in a log line) then hits RecursionError:
a 500 and hundreds of kB of traceback per request (issue 25). Counting brackets first is one pass in C.
"""

from __future__ import annotations

# Our deepest body nests 5 levels (/api/chat: body, messages, message, parts, part); the AI SDK's
# tool parts and a tool's arguments add a few. 32 leaves room for them and none for an attack.
JSON_MAX_DEPTH = 32

_OPENING_CLOSING = bytes.maketrans(b"[{]}", b"(())")
_NOT_A_BRACKET = bytes(byte for byte in range(256) if byte not in b"[]{}")


def nested_deeper_than(body: bytes, limit: int) -> bool:
    """Whether an array or object in `body` sits more than `limit` levels deep; a bracket inside a
    string is text. Every step runs in C (a regex over 64 kB took 1.5 ms of the event loop):

    - drop escaped backslashes, then escaped quotes: every quote left starts or ends a string;
    - keep what is outside strings, and of that the brackets only, as "(" and ")";
    - each round removes the innermost pairs, "()", so a pair still there after `limit` rounds
      nests deeper than `limit`.

    Text that is not JSON gets an answer too; its parser refuses it either way.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # cannot nest deeper than it has brackets: most bodies stop here
    outside_strings = b"".join(body.replace(b"\\\\", b"").replace(b'\\"', b"").split(b'"')[::2])
    brackets = outside_strings.translate(_OPENING_CLOSING, _NOT_A_BRACKET)
    for _ in range(limit):
        inner_removed = brackets.replace(b"()", b"")
        if len(inner_removed) == len(brackets):
            return False  # no pair left
        brackets = inner_removed
    return b"()" in brackets
