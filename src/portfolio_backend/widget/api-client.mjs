/*
 * The service's HTTP API as the widget uses it. Every refusal becomes an ApiError whose message is
 * written for the visitor: the service's own `detail` as sent, or the widget's own words, which
 * carry their catalog key (i18n.mjs) so that the UI shows them in the visitor's language.
 */

import { english } from "./i18n.mjs";

export class ApiError extends Error {
  /**
   * kind: "limit" for the message quota, "error" for anything else. key and params: the message
   * in the widget's catalogs, when it is the widget's own words (`message` is then the English).
   */
  constructor(message, kind = "error", key = null, params = {}) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    this.key = key;
    this.params = params;
  }

  /** The widget's own words: a catalog key and its params (`reset`: epoch seconds, shown as a time). */
  static of(key, params = {}, kind = "error") {
    return new ApiError(english(key, withTime(params, "en")), kind, key, params);
  }
}

function withTime(params, lang) {
  return params.reset ? { ...params, time: localTime(params.reset, lang) } : params;
}

/** What the visitor reads for an error: the widget's own words in their language (t, i18n.mjs). */
export function errorText(error, t) {
  return error.key ? t(error.key, withTime(error.params, t.lang)) : error.message;
}

/** Epoch seconds as the visitor's local time in `lang`, with the date when it is not today. */
export function localTime(resetSeconds, lang) {
  const when = new Date(resetSeconds * 1000);
  const time = when.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
  if (when.toDateString() === new Date().toDateString()) return time;
  return when.toLocaleDateString(lang, { weekday: "short", day: "numeric", month: "short" }) + ", " + time;
}

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return {};
  }
}

/** A refused request as one visitor-facing error: a 429 names the local time it resets. */
export async function refusal(response) {
  const body = await readJson(response);
  if (response.status === 429) {
    const retryAfter = Number(body.retry_after) || Number(response.headers.get("Retry-After"));
    const reset =
      Number(body.reset) || Number(response.headers.get("X-RateLimit-Reset")) || (retryAfter && Date.now() / 1000 + retryAfter);
    return reset ? ApiError.of("limitUntil", { reset }, "limit") : ApiError.of("limitLater", {}, "limit");
  }
  const detail = typeof body.detail === "string" && body.detail ? body.detail : "";
  return detail ? new ApiError(detail) : ApiError.of("serverError", { status: String(response.status) });
}

/** Any failure as what to show: an ApiError or an abort as it is, anything else as "can't reach". */
export function visible(error) {
  if (error instanceof ApiError || (error && error.name === "AbortError")) return error;
  return ApiError.of("unreachable");
}

/** The quota the service reported in a response's X-RateLimit-* headers, or null. */
export function quotaOf(response) {
  const remaining = response.headers.get("X-RateLimit-Remaining");
  if (remaining === null) return null;
  return { remaining: parseInt(remaining, 10), limit: parseInt(response.headers.get("X-RateLimit-Limit"), 10) };
}

// A turn's address; its session id binds the request to the session, as the service checks.
function turnPath(turnId, sessionId, after) {
  const query = new URLSearchParams({ session_id: sessionId });
  if (after !== undefined) query.set("after", String(after));
  return "/stream/" + encodeURIComponent(turnId) + "?" + query;
}

export class ChatApi {
  /** base: the API's base URL, without a trailing slash. */
  constructor(base) {
    this.base = base;
  }

  request(path, options) {
    return fetch(this.base + path, { credentials: "omit", cache: "no-store", ...options });
  }

  async json(path, options) {
    const response = await this.request(path, options);
    if (!response.ok) throw await refusal(response);
    return response.json();
  }

  /** What the widget needs to know about this service: {prompt_max_chars, tool_labels}. */
  config() {
    return this.json("/widget/config", { cache: "default" });
  }

  /** A new session's id. */
  async createSession() {
    return (await this.json("/session", { method: "POST" })).session_id;
  }

  /** A session's messages, or null when it expired or was deleted. */
  async history(sessionId) {
    const response = await this.request("/session/" + encodeURIComponent(sessionId));
    if (response.status === 404) return null;
    if (!response.ok) throw await refusal(response);
    return (await response.json()).messages || [];
  }

  /** Everything the service keeps about a session, as a JSON Blob; null when it is gone. */
  async exportSession(sessionId) {
    const response = await this.request("/session/" + encodeURIComponent(sessionId) + "/export");
    if (response.status === 404) return null;
    if (!response.ok) throw await refusal(response);
    return response.blob();
  }

  /** Erase a session and everything kept about it; a session already gone counts as erased. */
  async deleteSession(sessionId) {
    const response = await this.request("/session/" + encodeURIComponent(sessionId), { method: "DELETE" });
    if (!response.ok && response.status !== 404) throw await refusal(response);
  }

  /** {remaining, limit} of the visitor's quota. */
  rateLimitInfo() {
    return this.json("/rate-limit-info");
  }

  /**
   * Stop a running turn (its X-Turn-Id), upstream included. Closing the connection alone is not a
   * stop: the service keeps an answer running for a while so a dropped connection can resume it.
   * The turn's stream then ends with {"type":"end","stopped":true}.
   */
  stopTurn(turnId, sessionId) {
    return this.request(turnPath(turnId, sessionId), { method: "DELETE" });
  }

  /**
   * Reattach to a turn (resume.mjs): the response, not yet read, whose body has the turn's events
   * after seq `after` and then the rest live; a 404 when the turn is gone.
   */
  reattach(turnId, sessionId, after, signal) {
    return this.request(turnPath(turnId, sessionId, after), { headers: { Accept: "text/event-stream" }, signal });
  }

  /** Rate an answer (its turn id) "up" or "down", with an optional comment; a later rating replaces it. */
  async sendFeedback(turnId, rating, comment) {
    const response = await this.request("/feedback", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ turn_id: turnId, rating, ...(comment ? { comment } : {}) }),
    });
    if (response.status === 429) throw new ApiError("Too many ratings for now. Please try again later.", "limit");
    if (!response.ok) throw await refusal(response);
  }

  /**
   * Start a turn: the response, not yet read. The caller checks its status (a 404 means the
   * session expired, a refusal is `refusal(response)`), then reads its body with stream-reader.mjs.
   */
  postTurn(prompt, sessionId, signal) {
    return this.request("/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ prompt, session_id: sessionId }),
      signal,
    });
  }
}
