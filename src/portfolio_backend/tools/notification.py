"""The JSON POSTed to the owner's webhooks (NOTIFY_WEBHOOK_URL, REMINDER_WEBHOOK_URL).

The record's fields travel as JSON fields, as written; `message` is a ready plain sentence; `text`
is that sentence for Slack, whose incoming webhooks read it as mrkdwn (Mattermost and Rocket.Chat
read the same field). There `<!channel>` pings everyone in the channel and `<https://x|label>`
shows a link under a label of the writer's choosing: a visitor's name, notes or question must
not do either in the owner's channel. Slack's own escaping (`&`, `<`, `>` as entities) makes
every control sequence plain text, and Slack shows the sentence exactly as written.
"""

from __future__ import annotations

from typing import Any


def slack_escaped(text: str) -> str:
    """`text` as Slack shows it literally: `&` first, or the other entities would be escaped twice."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def notification(fields: dict[str, Any], message: str) -> dict[str, Any]:
    """The body of one notification: `fields`, `message` as written, `text` escaped for Slack."""
    return {**fields, "message": message, "text": slack_escaped(message)}
