// Resuming an answer (resume.mjs): a turn's events, each once, across dropped connections and reloads.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  CUT_OFF_MESSAGE,
  GONE_MESSAGE,
  RETRY_DELAYS_MS,
  SeqTracker,
  UNREACHABLE_MESSAGE,
  decodeRunningTurn,
  encodeRunningTurn,
  historyHolds,
  resumableEvents,
} from "../../../src/portfolio_backend/widget/resume.mjs";

const encode = (text) => new TextEncoder().encode(text);

// A turn as the service numbers it: a tool result, chunks with multi-byte characters, the end.
const WORDS = ["Grüße ", "👋 and ", "**bold** ", "日本語 ", "done."];
const TURN = [
  { type: "tool_result", tool_name: "calculate", result: "4", seq: 1 },
  ...WORDS.map((content, index) => ({ type: "chunk", content, seq: index + 2 })),
  { type: "end", seq: WORDS.length + 2 },
];

const lines = (events) => events.map((event) => "data: " + JSON.stringify(event) + "\n\n").join("");
const size = (events) => encode(lines(events)).length; // in bytes, as cuts are

/** A body of `bytes` that fails like a dropped connection after `cut` bytes (or ends, `cleanly`). */
function bodyOf(bytes, cut = bytes.length, { cleanly = false } = {}) {
  let sent = cut === 0;
  return new ReadableStream({
    // pulled: the bytes are read before the failure, as from a socket (an error drops what is queued)
    pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(bytes.slice(0, cut));
      } else if (cut >= bytes.length || cleanly) {
        controller.close();
      } else {
        controller.error(new TypeError("network error"));
      }
    },
  });
}

/**
 * The service's side: `reattach(after)` answers the events after `after`, like GET
 * /stream/{turn_id}?after=N. `answers` scripts what each reattach gets instead, in order: a
 * status, a thrown error, or {from} to send events from an earlier seq (a repeat).
 */
function service(events, answers = []) {
  const calls = [];
  const reattach = async (after) => {
    calls.push(after);
    const scripted = answers.shift();
    if (scripted instanceof Error) throw scripted;
    if (typeof scripted === "number") return new Response(JSON.stringify({ error: "x" }), { status: scripted });
    const from = scripted && "from" in scripted ? scripted.from : after;
    const bytes = encode(lines(events.filter((event) => event.seq > from)));
    return new Response(bodyOf(bytes, scripted && "cut" in scripted ? scripted.cut : bytes.length), { status: 200 });
  };
  return { reattach, calls };
}

function waiting() {
  const waits = [];
  return { waits, wait: async (ms) => void waits.push(ms) };
}

/** Everything resumableEvents yields, and what it threw. */
async function collect(body, options) {
  const out = [];
  try {
    for await (const event of resumableEvents(body, options)) out.push(event);
  } catch (error) {
    return { out, error };
  }
  return { out, error: null };
}

const turnEvents = (out) => out.filter((event) => event.seq !== undefined);
const textOf = (out) => out.filter((event) => event.type === "chunk").map((event) => event.content).join("");

describe("a dropped connection", () => {
  const whole = encode(lines(TURN));

  test("cut at every byte, the answer continues from the last event shown: each event exactly once", async () => {
    for (let cut = 0; cut < whole.length; cut++) {
      const { reattach, calls } = service(TURN);
      const { wait, waits } = waiting();
      const { out, error } = await collect(bodyOf(whole, cut), { reattach, wait });
      assert.equal(error, null, `cut at byte ${cut}`);
      assert.deepEqual(turnEvents(out), TURN, `cut at byte ${cut}`);
      assert.equal(textOf(out), WORDS.join(""));
      // an event is read once its line's newline is in (the blank line after it is not needed)
      const shown = TURN.filter((_, index) => size(TURN.slice(0, index + 1)) - 1 <= cut);
      if (shown.length === TURN.length) {
        assert.deepEqual(calls, [], "the end was read before the drop: nothing to resume");
        continue;
      }
      assert.deepEqual(calls, [shown.length ? shown[shown.length - 1].seq : 0], `cut at byte ${cut}`);
      assert.deepEqual(waits, [RETRY_DELAYS_MS[0]]);
      assert.deepEqual(
        out.filter((event) => event.seq === undefined).map((event) => event.type),
        ["reconnecting", "resumed"]
      );
    }
  });

  test("a body that ends without end or error is a drop too", async () => {
    const { reattach, calls } = service(TURN);
    const { out } = await collect(bodyOf(whole, size(TURN.slice(0, 3)), { cleanly: true }), {
      reattach,
      ...waiting(),
    });
    assert.deepEqual(calls, [3]);
    assert.deepEqual(turnEvents(out), TURN);
  });

  test("events a reattach repeats are shown once", async () => {
    const { reattach } = service(TURN, [{ from: 0 }]);
    const { out } = await collect(bodyOf(whole, size(TURN.slice(0, 4))), { reattach, ...waiting() });
    assert.deepEqual(turnEvents(out), TURN);
  });

  test("a reattach that drops again continues from where that one got to", async () => {
    const { reattach, calls } = service(TURN, [{ cut: size(TURN.slice(2, 4)) + 5 }]);
    const { out } = await collect(bodyOf(whole, size(TURN.slice(0, 2))), { reattach, ...waiting() });
    assert.deepEqual(calls, [2, 4]);
    assert.equal(textOf(out), WORDS.join(""));
  });

  test("a connection that drops after every event still finishes: progress resets the bound", async () => {
    const answers = TURN.map(() => ({ cut: size([TURN[0]]) + 3 })); // each reattach: one more event, then a drop
    const { reattach } = service(TURN, answers);
    const { out, error } = await collect(bodyOf(whole, 0), { reattach, ...waiting(), delays: [1, 2] });
    assert.equal(error, null);
    assert.deepEqual(turnEvents(out), TURN);
  });

  test("an error event ends it like end: shown, then nothing more", async () => {
    const failed = [...TURN.slice(0, 3), { type: "error", error: "The answer was cancelled.", seq: 4 }];
    const { reattach, calls } = service(failed);
    const { out, error } = await collect(bodyOf(encode(lines(failed)), 10), { reattach, ...waiting() });
    assert.equal(error, null);
    assert.deepEqual(turnEvents(out), failed);
    assert.equal(calls.length, 1);
  });
});

describe("giving up", () => {
  const half = encode(lines(TURN.slice(0, 3)));

  test("a 404 (the turn is gone) ends it at once with a message", async () => {
    const { reattach, calls } = service(TURN, [404]);
    const { out, error } = await collect(bodyOf(half, half.length - 1), { reattach, ...waiting() });
    assert.equal(error.message, GONE_MESSAGE);
    assert.equal(error.name, "ApiError");
    assert.equal(calls.length, 1);
    assert.deepEqual(turnEvents(out), TURN.slice(0, 3)); // what was shown stays
  });

  test("an unreachable service: one try per delay, growing, then a message", async () => {
    const { reattach, calls } = service(TURN, RETRY_DELAYS_MS.map(() => new TypeError("Failed to fetch")));
    const { wait, waits } = waiting();
    const { error } = await collect(bodyOf(half, 0), { reattach, wait });
    assert.equal(error.message, UNREACHABLE_MESSAGE);
    assert.deepEqual(waits, RETRY_DELAYS_MS);
    assert.equal(calls.length, RETRY_DELAYS_MS.length);
    assert.ok(RETRY_DELAYS_MS.every((delay, index) => index === 0 || delay > RETRY_DELAYS_MS[index - 1]));
    const total = RETRY_DELAYS_MS.reduce((sum, delay) => sum + delay, 0);
    assert.ok(total < 15_000, "all tries fall inside the service's default grace period");
  });

  test("a 5xx is tried again", async () => {
    const { reattach, calls } = service(TURN, [503, 502]);
    const { out, error } = await collect(bodyOf(half, 0), { reattach, ...waiting() });
    assert.equal(error, null);
    assert.deepEqual(calls, [0, 0, 0]);
    assert.deepEqual(turnEvents(out), TURN);
  });

  test("a turn without an id cannot be resumed: a drop is the end", async () => {
    const { error } = await collect(bodyOf(half, half.length - 2), { reattach: null, ...waiting() });
    assert.equal(error.message, CUT_OFF_MESSAGE);
  });

  test("Stop or New conversation during a wait ends it as an abort, with no further reattach", async () => {
    const controller = new AbortController();
    const { reattach, calls } = service(TURN);
    const wait = () => {
      controller.abort();
      return Promise.reject(controller.signal.reason);
    };
    const { error } = await collect(bodyOf(half, 0), { reattach, wait, signal: controller.signal });
    assert.equal(error.name, "AbortError");
    assert.equal(calls.length, 0);
  });

  test("an aborted read is an abort, not a drop", async () => {
    const controller = new AbortController();
    controller.abort();
    const { reattach, calls } = service(TURN);
    const { error } = await collect(bodyOf(half, 5), { reattach, ...waiting(), signal: controller.signal });
    assert.equal(error.name, "AbortError");
    assert.equal(calls.length, 0);
  });
});

describe("after a reload", () => {
  test("no body: it reattaches at once from the turn's first event", async () => {
    const { reattach, calls } = service(TURN);
    const { wait, waits } = waiting();
    const { out } = await collect(null, { reattach, wait });
    assert.deepEqual(calls, [0]);
    assert.deepEqual(waits, []);
    assert.deepEqual(turnEvents(out), TURN);
    assert.deepEqual(out[0], { type: "resumed" });
  });

  test("a turn the service no longer has is gone at once", async () => {
    const { error } = await collect(null, { ...service(TURN, [404]), ...waiting() });
    assert.equal(error.message, GONE_MESSAGE);
  });

  test("the running turn is kept as text and read back; anything malformed is nothing", () => {
    const turn = { turnId: "abc123", sessionId: "s-1", prompt: "Tell me more" };
    assert.deepEqual(decodeRunningTurn(encodeRunningTurn(turn)), turn);
    for (const text of [null, "", "{", "[]", "null", '{"turnId":"a","sessionId":"s"}', '{"turnId":1,"sessionId":"s","prompt":"p"}']) {
      assert.equal(decodeRunningTurn(text), null, String(text));
    }
  });

  test("the history holds a turn when an answer in it names the turn", () => {
    const history = [
      { role: "user", content: "Tell me more", timestamp: 1 },
      { role: "assistant", content: "More.", timestamp: 2, turn_id: "first" },
      { role: "user", content: "Tell me more", timestamp: 3 }, // the same prompt again: no help
      { role: "assistant", content: "Even more.", timestamp: 4, turn_id: "second" },
    ];
    assert.equal(historyHolds(history, "second"), true);
    assert.equal(historyHolds(history.slice(0, 2), "second"), false);
    assert.equal(historyHolds([], "second"), false);
  });
});

test("seq: repeats are dropped, jumps are not losses, events without seq pass", () => {
  const seen = new SeqTracker();
  assert.deepEqual(
    [1, 2, 2, 1, 5, 3, 6].map((seq) => seen.accept({ seq })),
    [true, true, false, false, true, false, true]
  );
  assert.equal(seen.last, 6);
  assert.equal(seen.accept({}), true);
});
