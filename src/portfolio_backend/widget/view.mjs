/*
 * The widget's view: what the visitor sees and does. It draws the panel (panel.mjs), the messages
 * (messages.mjs), notices, the quota line, the busy state and the open or closed panel, and hands
 * the visitor's actions (send, stop, new conversation, open, close) to the controller, app.mjs. It
 * holds nothing of the conversation and never talks to the service.
 */

import { h } from "./dom.mjs";
import { AssistantMessage, toolLabel, userMessage } from "./messages.mjs";
import { buildPanel, linkPrivacyPolicy, setAccentContrast } from "./panel.mjs";

// The message box grows with its text up to this height (px), then scrolls
const MAX_INPUT_HEIGHT = 160;

export class ChatView {
  /** config: {title, greeting, accent, position}; t: the widget's words (i18n.mjs); stylesheet: widget.css's URL. */
  constructor(config, t, stylesheet) {
    this.config = config;
    this.t = t;
    this.ui = buildPanel({ ...config, stylesheet, t });
  }

  /** On the page: the host element appended to the body, its accent's text colour set. */
  attach() {
    document.body.appendChild(this.ui.host);
    if (this.config.accent) setAccentContrast(this.ui.host, this.ui.shadow, this.config.accent);
  }

  /**
   * The visitor's actions, each to its handler: {send(prompt), stop(), newConversation(),
   * open(), close()}.
   */
  bind(on) {
    const { bubble, closeButton, newButton, stopButton, form, input, root } = this.ui;
    bubble.addEventListener("click", () => (this.isOpen() ? on.close() : on.open()));
    closeButton.addEventListener("click", () => on.close());
    newButton.addEventListener("click", () => on.newConversation());
    stopButton.addEventListener("click", () => on.stop());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      on.send(input.value);
    });
    input.addEventListener("input", () => this.autosize());
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        on.send(input.value);
      }
    });
    root.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.isOpen()) {
        event.preventDefault();
        on.close();
      }
    });
  }

  /** The service's widget settings (GET /widget/config): the prompt's limit, the privacy policy's link. */
  applySettings(body) {
    const limit = Number(body.prompt_max_chars);
    if (limit > 0) this.ui.input.maxLength = limit;
    if (typeof body.privacy_url === "string") linkPrivacyPolicy(this.ui.privacy, body.privacy_url, this.t);
  }

  // --- the log --------------------------------------------------------------------------------

  scrollToEnd() {
    this.ui.log.scrollTop = this.ui.log.scrollHeight;
  }

  addUserMessage(text) {
    const node = userMessage(text, this.t);
    this.ui.log.appendChild(node);
    this.scrollToEnd();
    return node;
  }

  addAssistantMessage() {
    const message = new AssistantMessage(this.config.title, this.t);
    this.ui.log.appendChild(message.node);
    this.scrollToEnd();
    return message;
  }

  showGreeting() {
    const message = this.addAssistantMessage();
    message.node.classList.add("pb-greeting");
    message.setText(this.config.greeting);
  }

  /** The log emptied, the greeting alone. */
  clear() {
    this.ui.log.replaceChildren();
    this.showGreeting();
  }

  /** Whether the log shows anything yet. */
  isEmpty() {
    return !this.ui.log.firstChild;
  }

  /** The log's busy state while the history loads. */
  setLoading(on) {
    this.ui.log.setAttribute("aria-busy", on ? "true" : "false");
  }

  /** A stored conversation; `offerFeedback(message, turnId)` under each answer the service can find. */
  showHistory(messages, labels, offerFeedback) {
    let current = null;
    for (const message of messages) {
      const content = typeof message.content === "string" ? message.content : "";
      if (message.role === "user") {
        this.addUserMessage(content);
        current = null;
      } else if (message.role === "tool") {
        if (!current || current.answered) current = this.addAssistantMessage();
        this.showTool(current, labels, message.name || "tool", content);
      } else if (message.role === "assistant" && content) {
        if (!current || current.answered) current = this.addAssistantMessage();
        current.setText(content);
        current.setSources(message.sources);
        if (message.stopped) this.markStopped(current);
        if (message.turn_id) offerFeedback(current, message.turn_id);
      } // an assistant message with no content is a tool-call stub: its tools follow
    }
  }

  /** A tool's chip on `message`, named by the service's labels or in words. */
  showTool(message, labels, name, result) {
    message.addTool(name, toolLabel(labels, name, this.t), result);
  }

  markStreaming(message, on) {
    message.node.classList.toggle("pb-streaming", on);
  }

  markStopped(message) {
    message.node.classList.add("pb-stopped");
    message.node.appendChild(h("p", { class: "pb-stopped-note", text: this.t("stopped") }));
  }

  /** A message nothing answered taken back: its nodes removed, its text in the box to send again. */
  withdraw(userNode, message, prompt) {
    if (message) message.node.remove();
    userNode.remove();
    if (!this.ui.input.value) {
      this.ui.input.value = prompt;
      this.autosize();
    }
  }

  // --- notice, quota, busy --------------------------------------------------------------------

  showNotice(text, kind = "error") {
    const { notice } = this.ui;
    notice.textContent = text;
    notice.className = "pb-notice pb-" + kind;
    notice.hidden = false;
  }

  hideNotice() {
    this.ui.notice.hidden = true;
    this.ui.notice.textContent = "";
  }

  showQuota(remaining, limit) {
    if (remaining === null || remaining === undefined || Number.isNaN(remaining)) return;
    const known = limit && !Number.isNaN(limit);
    const { quota } = this.ui;
    quota.textContent = known ? this.t("messagesLeftOf", { count: remaining, limit }) : this.t("messagesLeft", { count: remaining });
    quota.setAttribute("data-remaining", String(remaining));
  }

  hasQuota() {
    return Boolean(this.ui.quota.textContent);
  }

  /** Send or Stop, and the busy state. Stop disappearing with focus on it hands focus to the box. */
  setStreaming(on) {
    const { sendButton, stopButton, log, root, shadow } = this.ui;
    const focusOnStop = shadow.activeElement === stopButton;
    sendButton.hidden = on;
    stopButton.hidden = !on;
    sendButton.disabled = on;
    log.setAttribute("aria-busy", on ? "true" : "false");
    root.classList.toggle("pb-busy", on);
    if (!on && focusOnStop) this.ui.input.focus(); // do not drop focus on the page
  }

  // --- the box --------------------------------------------------------------------------------

  clearPrompt() {
    this.ui.input.value = "";
    this.autosize();
  }

  focusInput() {
    this.ui.input.focus();
  }

  /** Focus off the Stop button (about to disappear) to the box. */
  leaveStop() {
    if (this.ui.shadow.activeElement === this.ui.stopButton) this.ui.input.focus();
  }

  autosize() {
    const { input } = this.ui;
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, MAX_INPUT_HEIGHT) + "px";
  }

  // --- opening and closing --------------------------------------------------------------------

  isOpen() {
    return !this.ui.panel.hidden;
  }

  showOpen() {
    const { panel, root, bubble } = this.ui;
    panel.hidden = false;
    root.classList.add("pb-open");
    bubble.setAttribute("aria-expanded", "true");
    bubble.setAttribute("aria-label", this.t("closeChatNamed", { title: this.config.title }));
  }

  showClosed() {
    const { panel, root, bubble } = this.ui;
    panel.hidden = true;
    root.classList.remove("pb-open");
    bubble.setAttribute("aria-expanded", "false");
    bubble.setAttribute("aria-label", this.t("openChat", { title: this.config.title }));
    bubble.focus();
  }
}
