// The stream reader (stream-reader.mjs): a POST /stream body in whatever pieces the network delivers.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { EventDecoder, parseEventLine, readEvents } from "../../../src/portfolio_backend/widget/stream-reader.mjs";

const encode = (text) => new TextEncoder().encode(text);

// A body as the service writes it: data lines, each followed by a blank line.
const BODY = [
  'data: {"type":"chunk","content":"Grüße 👋 from ","timestamp":1}',
  'data: {"type":"keepalive","timestamp":2}',
  'data: {"type":"tool_result","tool_name":"get_current_time","result":"12:00 — ✓","timestamp":3}',
  'data: {"type":"chunk","content":"日本語\\n**bold**","timestamp":4,"seq":7}',
  'data: {"type":"end","session_id":"s","timestamp":5}',
]
  .map((line) => line + "\n\n")
  .join("");

const EXPECTED = [
  { type: "chunk", content: "Grüße 👋 from ", timestamp: 1 },
  { type: "tool_result", tool_name: "get_current_time", result: "12:00 — ✓", timestamp: 3 },
  { type: "chunk", content: "日本語\n**bold**", timestamp: 4, seq: 7 },
  { type: "end", session_id: "s", timestamp: 5 },
];

/** Decode `bytes` delivered in reads cut at `cuts` (byte offsets). */
function decodeInReads(bytes, cuts) {
  const decoder = new EventDecoder();
  const events = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    events.push(...decoder.push(bytes.slice(from, cut)));
    from = cut;
  }
  return [...events, ...decoder.end()];
}

function bodyOf(pieces) {
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces) controller.enqueue(piece);
      controller.close();
    },
  });
}

describe("reads split anywhere", () => {
  const bytes = encode(BODY);

  test("in one read", () => {
    assert.deepEqual(decodeInReads(bytes, []), EXPECTED);
  });

  test("cut at every single byte: inside lines and inside multi-byte characters", () => {
    for (let cut = 1; cut < bytes.length; cut++) {
      assert.deepEqual(decodeInReads(bytes, [cut]), EXPECTED, `cut at byte ${cut}`);
    }
  });

  test("one byte per read", () => {
    assert.deepEqual(decodeInReads(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1)), EXPECTED);
  });

  test("an emoji's four bytes in four reads", () => {
    const emoji = encode('data: {"type":"chunk","content":"👋"}\n');
    const start = emoji.indexOf(0xf0);
    const events = decodeInReads(emoji, [start + 1, start + 2, start + 3]);
    assert.deepEqual(events, [{ type: "chunk", content: "👋" }]);
  });

  test("CRLF line endings", () => {
    assert.deepEqual(decodeInReads(encode(BODY.replaceAll("\n", "\r\n")), [17, 18]), EXPECTED);
  });

  test("a last line without its newline still counts", () => {
    assert.deepEqual(decodeInReads(encode('data: {"type":"end"}'), [3]), [{ type: "end" }]);
  });
});

describe("what is ignored", () => {
  const ignored = {
    keepalive: 'data: {"type":"keepalive","timestamp":1}',
    "an unknown event type": 'data: {"type":"usage","tokens":3}',
    "no type": 'data: {"content":"x"}',
    "a chunk without string content": 'data: {"type":"chunk","content":5}',
    "[DONE]": "data: [DONE]",
    "a comment line": ": ping",
    "an event: line": "event: message",
    "an id: line": "id: 4",
    "a blank line": "",
    "invalid JSON": "data: {not json",
    "a JSON array": 'data: [{"type":"chunk","content":"x"}]',
    "a JSON string": 'data: "chunk"',
    "null": "data: null",
  };
  for (const [name, line] of Object.entries(ignored)) {
    test(name, () => assert.equal(parseEventLine(line), null));
  }

  test("a sources event is read with its list", () => {
    const line = 'data: {"type":"sources","sources":[{"title":"About","url":"https://alex.dev/about"}]}';
    assert.deepEqual(parseEventLine(line), { type: "sources", sources: [{ title: "About", url: "https://alex.dev/about" }] });
  });

  test("a data line without the space after the colon is read", () => {
    assert.deepEqual(parseEventLine('data:{"type":"end"}'), { type: "end" });
  });

  test("ignored lines between events do not disturb them", () => {
    const body = Object.values(ignored).join("\n") + "\n" + BODY + ": trailing comment\n";
    assert.deepEqual(decodeInReads(encode(body), [5, 200]), EXPECTED);
  });
});

describe("readEvents over a ReadableStream", () => {
  test("yields the events of every read in order", async () => {
    const bytes = encode(BODY);
    const pieces = [];
    for (let i = 0; i < bytes.length; i += 3) pieces.push(bytes.slice(i, i + 3));
    const events = [];
    for await (const event of readEvents(bodyOf(pieces))) events.push(event);
    assert.deepEqual(events, EXPECTED);
  });

  test("a reader that stops early cancels the body, closing the connection", async () => {
    let cancelled = null;
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(encode(BODY));
      },
      cancel(reason) {
        cancelled = reason ?? "cancelled";
      },
    });
    for await (const event of readEvents(body)) {
      assert.equal(event.type, "chunk");
      break;
    }
    assert.notEqual(cancelled, null);
  });

  test("a body that fails mid-way rejects, after the events before it", async () => {
    const failure = new Error("connection reset");
    let sent = false;
    const body = new ReadableStream({
      pull(controller) {
        if (sent) controller.error(failure);
        else controller.enqueue(encode(BODY.slice(0, BODY.indexOf("keepalive"))));
        sent = true;
      },
    });
    const events = [];
    await assert.rejects(async () => {
      for await (const event of readEvents(body)) events.push(event);
    }, failure);
    assert.deepEqual(events, [EXPECTED[0]]);
  });
});
