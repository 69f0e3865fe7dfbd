/*
 * The widget's state controller: sessions, sending and streaming, stop, quota, opening and closing.
 *
 * widget.js (the embed tag's script) imports this module and calls mount(); the other modules each
 * do one job: view.mjs is what the visitor sees and does (on the panel panel.mjs builds, with the
 * messages of messages.mjs), api-client.mjs talks to the service, resume.mjs follows a turn's
 * events across dropped connections and reloads (reading them with stream-reader.mjs),
 * markdown*.mjs render answers. This module holds the conversation's state; the panel's DOM is view.mjs's.
 */

import { ApiError, ChatApi, errorText, quotaOf, refusal, visible } from "./api-client.mjs";
import { fragmentOf } from "./dom.mjs";
import { renderMarkdown } from "./markdown.mjs";
import { chooseLanguage, ownerStrings, translator } from "./i18n.mjs";
import { conversationActions } from "./conversation-actions.mjs";
import { decodeRunningTurn, encodeRunningTurn, historyHolds, resumableEvents } from "./resume.mjs";
import { storageGet, storageSet } from "./storage.mjs";
import { ChatView } from "./view.mjs";

/** Markdown rendered safely into `target`, replacing what it held (window.PortfolioChat.renderMarkdown). */
export function renderInto(source, target) {
  target.replaceChildren(fragmentOf(renderMarkdown(source)));
}

/**
 * The widget's words in the visitor's language: the owner's data-lang, else the browser's
 * languages; the owner's data-strings override any of them.
 */
function wordsFor(dataset) {
  const lang = chooseLanguage(dataset.lang, navigator.languages?.length ? navigator.languages : [navigator.language]);
  const { strings, problem } = ownerStrings(dataset.strings, lang);
  if (problem) console.warn("PortfolioChat: " + problem);
  return translator(lang, strings);
}

/**
 * Put the widget on the page. options: {dataset: the script tag's data-* attributes, scriptUrl:
 * where widget.js came from (the API's default origin), stylesheet: the widget.css URL}.
 * Returns the page-facing API, window.PortfolioChat.
 */
export function mount({ dataset, scriptUrl, stylesheet }) {
  const t = wordsFor(dataset);
  const config = {
    title: dataset.title || t("title"),
    greeting: dataset.greeting || t("greeting"),
    accent: dataset.accent && CSS.supports("color", dataset.accent) ? dataset.accent : "",
    // the owner's corner; without one, the end of the line (bottom left in a right-to-left language)
    position: ["left", "right"].includes(dataset.position) ? dataset.position : t.dir === "rtl" ? "left" : "right",
    api: (dataset.api || new URL(scriptUrl).origin).replace(/\/+$/, ""),
  };
  const SESSION_KEY = "portfolio-chat:session:" + config.api;
  const OPEN_KEY = "portfolio-chat:open:" + config.api;
  // The turn this tab is showing, while it runs: a reload or the site's next page picks it up.
  const TURN_KEY = "portfolio-chat:turn:" + config.api;
  // A Stop answered 404 waits this long for the answer's end before it stops reading the answer
  const STOP_END_WAIT_MS = 2000;
  const api = new ChatApi(config.api);
  const view = new ChatView(config, t, stylesheet);

  let sessionId = storageGet("localStorage", SESSION_KEY);
  let server = null; // the service's widget config, once asked: {prompt_max_chars, tool_labels}
  let historyLoaded = false;
  let controller = null; // the AbortController of the answer being streamed
  let running = null; // that answer's turn, {turnId, sessionId, prompt}: Stop asks the service to stop it
  let stopping = false; // Stop was asked of the service: the stream ends with {"type":"end","stopped":true}
  let actions = null; // Download and Delete this conversation (conversation-actions.mjs)

  // --- the service's settings -------------------------------------------------------------------

  // Asked on first open, and again at the next send if that failed. Without it the widget still
  // works: chips name tools in words and the service refuses an over-long prompt with a message.
  function loadServerConfig() {
    server ??= api.config().then(
      (body) => {
        view.applySettings(body);
        return body;
      },
      () => {
        server = null;
        return {};
      }
    );
    return server;
  }

  // --- sessions -------------------------------------------------------------------------------

  async function createSession() {
    sessionId = await api.createSession();
    storageSet("localStorage", SESSION_KEY, sessionId);
    actions?.update();
    return sessionId;
  }

  function forgetSession() {
    sessionId = null;
    storageSet("localStorage", SESSION_KEY, null);
    actions?.update();
  }

  async function loadHistory() {
    historyLoaded = true;
    if (!sessionId) {
      view.showGreeting();
      return;
    }
    view.setLoading(true);
    let unfinished = null;
    let labels;
    try {
      const [messages, settings] = await Promise.all([api.history(sessionId), loadServerConfig()]);
      if (messages === null) forgetSession(); // expired or deleted: start fresh
      view.showGreeting();
      if (messages) view.showHistory(messages, settings.tool_labels, offerFeedback);
      unfinished = unfinishedTurn(messages);
      labels = settings.tool_labels;
    } catch (error) {
      if (view.isEmpty()) view.showGreeting();
      view.showNotice(errorText(visible(error), t));
    } finally {
      view.setLoading(false);
      view.scrollToEnd();
    }
    if (unfinished) resume(unfinished, labels);
  }

  // The turn this tab was showing when its page went away (a reload, the site's next page). The
  // history holds it if it has ended; otherwise it is still running, or ended after the history
  // was read: either way its events are read again from the first, into a fresh answer.
  function unfinishedTurn(messages) {
    const turn = decodeRunningTurn(storageGet("sessionStorage", TURN_KEY));
    if (turn && messages && turn.sessionId === sessionId && !historyHolds(messages, turn.turnId)) return turn;
    rememberTurn(null);
    return null;
  }

  function rememberTurn(turn) {
    storageSet("sessionStorage", TURN_KEY, turn ? encodeRunningTurn(turn) : null);
  }

  async function refreshQuota() {
    try {
      const body = await api.rateLimitInfo();
      if (!view.hasQuota()) view.showQuota(Number(body.remaining), Number(body.limit));
    } catch {
      /* the quota line is a nicety: the first answer's headers fill it in */
    }
  }

  // --- a turn ---------------------------------------------------------------------------------

  async function postTurn(prompt, signal) {
    if (!sessionId) await createSession();
    const response = await api.postTurn(prompt, sessionId, signal);
    if (response.status !== 404) return response;
    // the session expired between turns: start a new one and send again, once
    forgetSession();
    await createSession();
    view.showNotice(t("sessionExpired"), "info");
    return api.postTurn(prompt, sessionId, signal);
  }

  async function send(prompt) {
    if (controller || !prompt.trim()) return;
    view.hideNotice();
    const userNode = view.addUserMessage(prompt);
    view.clearPrompt();
    const own = begin();
    let message = null;

    try {
      const [response, settings] = await Promise.all([postTurn(prompt, own.signal), loadServerConfig()]);
      const reported = quotaOf(response);
      if (reported) view.showQuota(reported.remaining, reported.limit);
      if (!response.ok || !response.body) throw await refusal(response);
      const turnId = response.headers.get("X-Turn-Id"); // CORS_ORIGINS pages may read it: the service exposes it
      const turn = turnId ? { turnId, sessionId, prompt } : null;
      message = view.addAssistantMessage();
      await streamAnswer(turn, response.body, message, settings.tool_labels, own);
    } catch (error) {
      if (controller === own) showFailure(error, message, userNode, prompt, own);
      // else "New conversation" superseded this answer: nothing to show
    } finally {
      finish(own, message);
    }
  }

  /** After a reload: the visitor's message again, and the running turn's answer rebuilt from its first event. */
  async function resume(turn, labels) {
    if (controller) return;
    const userNode = view.addUserMessage(turn.prompt);
    const own = begin();
    const message = view.addAssistantMessage();
    try {
      await streamAnswer(turn, null, message, labels, own);
    } catch (error) {
      if (controller === own) showFailure(error, message, userNode, turn.prompt, own);
    } finally {
      finish(own, message);
    }
  }

  function begin() {
    const own = new AbortController();
    controller = own;
    stopping = false;
    view.setStreaming(true);
    return own;
  }

  /**
   * A turn's events into `message`: from `body` (null: reattach from the first event), across
   * dropped connections (resume.mjs). `turn` is null for a turn the service gave no id: then it
   * cannot be resumed or stopped but by closing the connection.
   */
  async function streamAnswer(turn, body, message, labels, own) {
    running = turn;
    if (turn) rememberTurn(turn);
    view.markStreaming(message, true);
    const reattach = turn && ((after) => api.reattach(turn.turnId, turn.sessionId, after, own.signal));
    const events = resumableEvents(body, { reattach, wait: (ms) => pause(ms, own.signal), signal: own.signal });
    let reconnecting = false;
    for await (const event of events) {
      if (event.type === "chunk") {
        message.appendText(event.content);
      } else if (event.type === "tool_result") {
        view.showTool(message, labels, event.tool_name, event.result);
      } else if (event.type === "sources") {
        message.setSources(event.sources);
      } else if (event.type === "error") {
        throw event.error ? ApiError.of("answerFailed", { reason: String(event.error) }) : ApiError.of("answerFailedPlain");
      } else if (event.type === "end") {
        if (event.stopped) view.markStopped(message);
        if (turn) offerFeedback(message, turn.turnId); // stored by now: the service finds it by its id
      } else if (event.type === "reconnecting") {
        reconnecting = true;
        view.showNotice(t("reconnecting"), "info");
      } else if (event.type === "resumed" && reconnecting) {
        reconnecting = false;
        view.hideNotice();
      }
      view.scrollToEnd();
    }
  }

  // The wait before a reattach: cut short when the browser is back online; Stop ends it.
  function pause(ms, signal) {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const settle = (then) => () => {
        clearTimeout(timer);
        window.removeEventListener("online", onOnline);
        signal.removeEventListener("abort", onAbort);
        then();
      };
      const onOnline = settle(resolve);
      const onAbort = settle(() => reject(signal.reason));
      const timer = setTimeout(onOnline, ms);
      window.addEventListener("online", onOnline);
      signal.addEventListener("abort", onAbort);
    });
  }

  function finish(own, message) {
    if (message) view.markStreaming(message, false);
    if (controller !== own) return; // "New conversation" resets the controls itself
    controller = null;
    running = null;
    rememberTurn(null);
    view.setStreaming(false);
  }

  function offerFeedback(message, turnId) {
    message.offerFeedback((rating, comment) => api.sendFeedback(turnId, rating, comment));
  }

  function showFailure(error, message, userNode, prompt, own) {
    if (own.signal.aborted) {
      if (message) view.markStopped(message);
      else view.withdraw(userNode, null, prompt);
      return;
    }
    const shown = visible(error);
    view.showNotice(errorText(shown, t), shown.kind);
    // nothing was answered: take the message back into the box so it can be sent again
    if (!message || !message.answered) view.withdraw(userNode, message, prompt);
  }

  /**
   * Stop asks the service to stop the turn (DELETE /stream/{turn_id}): it ends at once, upstream
   * included, and stores the answer so far, marked stopped. The stream is read on to its
   * {"type":"end","stopped":true}, so the answer shown is the one stored. Only when the service
   * cannot be told (or the turn has no id yet) is the request aborted instead.
   */
  function stop() {
    if (!controller || stopping) return;
    view.leaveStop();
    const own = controller;
    const turn = running;
    stopping = true;
    if (!turn) {
      own.abort();
      return;
    }
    api.stopTurn(turn.turnId, turn.sessionId).then(
      (response) => {
        if (response.ok) return;
        if (response.status !== 404) {
          own.abort();
          return;
        }
        // 404: it ended a moment ago and its end is on the way, or the replica that answered did
        // not know the turn yet (before its first flush): wait a little for the end, then stop reading
        setTimeout(() => {
          if (controller === own) own.abort();
        }, STOP_END_WAIT_MS);
      },
      () => own.abort()
    );
  }

  function newConversation() {
    if (controller) {
      if (running) api.stopTurn(running.turnId, running.sessionId).catch(() => {});
      controller.abort();
    }
    controller = null;
    running = null;
    rememberTurn(null);
    view.setStreaming(false);
    forgetSession();
    view.hideNotice();
    view.clear();
    view.focusInput();
  }

  // --- opening and closing --------------------------------------------------------------------

  // restoring: reopened on page load because it was open on the previous page; focus stays put.
  function open(restoring) {
    if (view.isOpen()) return;
    view.showOpen();
    storageSet("sessionStorage", OPEN_KEY, "1");
    loadConversation();
    if (restoring !== true) view.focusInput();
  }

  function loadConversation() {
    if (historyLoaded) return;
    loadServerConfig();
    loadHistory();
    refreshQuota();
  }

  function close() {
    if (!view.isOpen()) return;
    storageSet("sessionStorage", OPEN_KEY, null);
    view.showClosed();
  }

  view.bind({ send, stop, newConversation, open: () => open(false), close });
  // Download and Delete this conversation: the visitor's own copy, and erasure
  actions = conversationActions({
    ui: view.ui,
    api,
    t,
    session: () => sessionId,
    deleted: newConversation,
    notify: (text, kind) => view.showNotice(text, kind),
  });
  view.attach();
  if (storageGet("sessionStorage", OPEN_KEY)) open(true); // stay open across the site's pages
  // An answer was streaming when the last page went away: follow it now, panel open or not, so
  // that the service does not cancel it for want of a reader.
  else if (storageGet("sessionStorage", TURN_KEY)) loadConversation();

  return {
    open: () => open(false),
    close,
    newConversation,
  };
}
