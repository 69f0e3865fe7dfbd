/*
 * The events of a POST /stream body: `data: {json}` lines, read as they arrive.
 *
 * Pure: bytes in, event objects out. A network read can end anywhere, also inside a line or inside
 * a multi-byte UTF-8 character, so the partial line stays buffered until its "\n" and the decoder
 * keeps a split character's first bytes for the next read. Only the event types the widget acts on
 * come out; `keepalive` and types this version does not know are dropped, and every field of an
 * event is kept as sent (a resuming client will want `seq`).
 */

/** The event types a turn's body carries that the widget acts on. */
export const EVENT_TYPES = new Set(["chunk", "tool_result", "sources", "error", "end"]);

/** One line of the body as an event, or null for anything else (blank, comment, keepalive, junk). */
export function parseEventLine(line) {
  if (line.endsWith("\r")) line = line.slice(0, -1);
  if (!line.startsWith("data:")) return null;
  const payload = line.slice(5).trim();
  if (!payload || payload === "[DONE]") return null;
  let event;
  try {
    event = JSON.parse(payload);
  } catch {
    return null;
  }
  if (!event || typeof event !== "object" || Array.isArray(event) || !EVENT_TYPES.has(event.type)) return null;
  if (event.type === "chunk" && typeof event.content !== "string") return null;
  return event;
}

/** Bytes to events, one read at a time: push() each read, then end() once the body is over. */
export class EventDecoder {
  constructor() {
    this.decoder = new TextDecoder();
    this.buffer = "";
  }

  push(bytes) {
    this.buffer += this.decoder.decode(bytes, { stream: true });
    const lines = this.buffer.split("\n");
    this.buffer = lines.pop();
    return lines.map(parseEventLine).filter(Boolean);
  }

  end() {
    const rest = this.buffer + this.decoder.decode();
    this.buffer = "";
    const event = rest ? parseEventLine(rest) : null;
    return event ? [event] : [];
  }
}

/** The events of a body (a ReadableStream of bytes), as an async iterator. */
export async function* readEvents(body) {
  const reader = body.getReader();
  const decoder = new EventDecoder();
  let finished = false;
  try {
    for (;;) {
      const step = await reader.read();
      if (step.done) break;
      yield* decoder.push(step.value);
    }
    finished = true;
    yield* decoder.end();
  } finally {
    // A reader that stops early (the caller broke out of its loop) closes the connection.
    if (finished) reader.releaseLock();
    else reader.cancel().catch(() => {});
  }
}
