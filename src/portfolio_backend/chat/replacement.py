"""Answering a visitor's message again: a regenerated answer, or an edited message (the AI SDK's
`regenerate()` and `sendMessage({text, messageId})`).

The server keeps one history per session, a line of turns, and replaces only its last turn (the
stores drop it in the same atomic append that stores the new one, `replace_last_turn`). A message
is known by the id the visitor's client gave it, kept with it in history (`Message.client_id`), so
the rule needs no positions, which the client's copy and the server's history do not share (the
server trims, stores tool messages, and a page may send only the newest message):

- the last turn's message: its turn is replaced;
- an earlier message: refused (409), since turns after it would have to go or be kept out of order;
- a message the history does not hold: its answer was never stored (it failed, or the visitor
  left), so there is nothing to replace and the answer is a new turn. A regenerate whose id is
  unknown also matches the last turn by its text: a page that lost the ids it sent, or turns
  stored before ids were kept.
"""

from __future__ import annotations

from ..errors import Conflict
from ..store import Message

EARLIER_MESSAGE = (
    "Only the chat's last message can be edited or answered again: this server keeps one history "
    "per chat, and later turns follow that message. Send it as a new message instead."
)


def replaced_turn_start(history: list[Message], client_id: str, same_text: str | None = None) -> int | None:
    """Where the turn that the visitor's message `client_id` began starts in `history`, when it is
    the last turn: the new answer replaces history from there. None when no stored turn began with
    that message. `same_text`: a regenerate's text, matched against the last turn's when the id is
    not in history. Raises Conflict when the message began an earlier turn."""
    users = [index for index, message in enumerate(history) if message.role == "user"]
    if not users:
        return None
    last = users[-1]
    if history[last].client_id == client_id:
        return last
    if any(history[index].client_id == client_id for index in users[:-1]):
        raise Conflict(EARLIER_MESSAGE)
    if same_text is not None and history[last].content == same_text:
        return last
    return None
