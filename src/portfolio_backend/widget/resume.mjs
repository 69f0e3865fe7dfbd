/*
 * An answer that survives a dropped connection or a reload: the service keeps a turn running for a
 * while after its reader left (RESUME_GRACE_SECONDS), and GET /stream/{turn_id}?after=N sends the
 * events after seq N and then the rest live.
 *
 * Pure: no DOM, no timers, no fetch of its own. The caller says how to reattach and how to wait;
 * this module decides which events are new, when to try again and when to give up, and what a tab
 * keeps of its running turn so that a reload can pick it up.
 */

import { ApiError } from "./api-client.mjs";
import { english } from "./i18n.mjs";
import { readEvents } from "./stream-reader.mjs";

/**
 * The waits before each reattach in a row that brings nothing new: 13.75 s in all, inside the
 * service's default grace period (15 s) after which a turn nobody reads is cancelled.
 */
export const RETRY_DELAYS_MS = [250, 500, 1000, 2000, 4000, 6000];

// The English of the errors thrown below (ApiError.of: the UI shows them in the visitor's language)
export const GONE_MESSAGE = english("gone");
export const UNREACHABLE_MESSAGE = english("lost");
export const CUT_OFF_MESSAGE = english("cutOff");

const FINAL = new Set(["end", "error"]);

/**
 * Which events of a turn were shown already, by `seq`: a reattach starts after the last one
 * shown, and anything at or before it is a repeat. Sequence numbers may skip (the service numbers
 * events this client never receives), so a jump is not a loss.
 */
export class SeqTracker {
  constructor() {
    this.last = 0; // the highest seq shown: where a reattach continues
  }

  /** True for an event to show; false for a repeat. An event without a seq is always shown. */
  accept(event) {
    if (!Number.isInteger(event.seq)) return true;
    if (event.seq <= this.last) return false;
    this.last = event.seq;
    return true;
  }
}

/**
 * A turn's events, each once, across dropped connections. `body` is the POST /stream response's
 * body, or null to begin with a reattach (after a reload). When a body errors or ends before the
 * turn's `end` or `error`, it waits `delays[n]` and reattaches after the last seq shown, again
 * and again while reattaches bring nothing new; a 404 means the turn is gone.
 *
 * options:
 *   reattach(after): a Promise of the GET /stream/{turn_id}?after=... Response; null when the
 *     turn has no id (then a drop is the end: "cut off")
 *   wait(ms): a Promise that resolves when it is time to try again
 *   signal: the AbortSignal of Stop and "New conversation": once aborted, any failure is that
 *     abort, not a drop
 *
 * Besides the service's events it yields its own, for the UI: {type: "reconnecting"} before each
 * wait and {type: "resumed"} when a reattach answered. It returns after `end` or `error` and
 * throws ApiError when the turn cannot be followed any more.
 */
export async function* resumableEvents(body, { reattach, wait, signal, delays = RETRY_DELAYS_MS }) {
  const seen = new SeqTracker();
  let waits = 0; // waits since an event last arrived: a bound on a connection that keeps failing
  let now = body === null; // a reload reattaches at once
  for (;;) {
    if (body) {
      try {
        for await (const event of readEvents(body)) {
          if (!seen.accept(event)) continue;
          waits = 0;
          yield event;
          if (FINAL.has(event.type)) return;
        }
      } catch (error) {
        if (signal && signal.aborted) throw signal.reason;
        // the connection dropped: reattach below
      }
      if (signal && signal.aborted) throw signal.reason;
      if (!reattach) throw ApiError.of("cutOff");
      body = null;
    }
    if (!now) {
      if (waits >= delays.length) throw ApiError.of("lost");
      yield { type: "reconnecting" };
      await wait(delays[waits++]);
    }
    now = false;
    let response;
    try {
      response = await reattach(seen.last);
    } catch {
      if (signal && signal.aborted) throw signal.reason;
      continue; // unreachable still: wait and try again
    }
    if (response.status === 404) throw ApiError.of("gone");
    if (response.ok && response.body) {
      body = response.body;
      yield { type: "resumed" };
    } else if (response.body) {
      response.body.cancel().catch(() => {}); // a 5xx: try again after the next wait
    }
  }
}

/** What a tab keeps of the turn it is showing, as stored text: {turnId, sessionId, prompt}. */
export function encodeRunningTurn({ turnId, sessionId, prompt }) {
  return JSON.stringify({ turnId, sessionId, prompt });
}

/** The stored turn, or null for nothing or anything malformed (storage is the page's to change). */
export function decodeRunningTurn(text) {
  if (!text) return null;
  let turn;
  try {
    turn = JSON.parse(text);
  } catch {
    return null;
  }
  if (!turn || typeof turn !== "object") return null;
  const { turnId, sessionId, prompt } = turn;
  if (![turnId, sessionId, prompt].every((value) => typeof value === "string" && value)) return null;
  return { turnId, sessionId, prompt };
}

/**
 * Whether a session's history (GET /session/{id} messages) holds the turn: the answer that ended
 * a turn names it (`turn_id`), and only a turn that ended is stored. When it does, the turn is
 * shown from the history; reattaching as well would show it twice.
 */
export function historyHolds(messages, turnId) {
  return messages.some((message) => message && message.turn_id === turnId);
}
