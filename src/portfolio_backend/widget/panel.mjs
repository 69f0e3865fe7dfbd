/*
 * The widget's DOM: a <portfolio-chat> element whose shadow root holds the bubble and the panel, so
 * the host page's CSS neither leaks in nor out. Built once; app.mjs gives it behaviour.
 */

import { h, icon, ICONS } from "./dom.mjs";

/**
 * options: {title, accent, position, stylesheet (URL)}. Returns the host element and the parts
 * app.mjs drives.
 */
export function buildPanel(options) {
  const host = document.createElement("portfolio-chat");
  host.setAttribute("data-position", options.position);
  if (options.accent) host.style.setProperty("--pb-accent", options.accent);
  const shadow = host.attachShadow({ mode: "open" });

  const stylesheet = h("link", { rel: "stylesheet", href: options.stylesheet });
  const root = h("div", { class: "pb-root pb-" + options.position, hidden: true });
  // Show nothing until the stylesheet is in: an unstyled flash of the panel would look broken.
  const reveal = () => {
    root.hidden = false;
  };
  stylesheet.addEventListener("load", reveal);
  stylesheet.addEventListener("error", reveal);

  const bubble = h(
    "button",
    {
      type: "button",
      class: "pb-bubble",
      "aria-label": "Open chat: " + options.title,
      "aria-expanded": "false",
      "aria-controls": "pb-panel",
    },
    [icon(ICONS.chat, 28)]
  );
  const newButton = h(
    "button",
    { type: "button", class: "pb-icon-button pb-new", "aria-label": "New conversation", title: "New conversation" },
    [icon(ICONS.new, 20)]
  );
  const closeButton = h(
    "button",
    { type: "button", class: "pb-icon-button pb-close", "aria-label": "Close chat", title: "Close chat" },
    [icon(ICONS.close, 20)]
  );
  const log = h("div", {
    class: "pb-messages",
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions text",
    "aria-label": "Conversation",
    tabindex: "0",
  });
  const notice = h("div", { class: "pb-notice", role: "alert", hidden: true });
  const quota = h("p", { class: "pb-quota", "aria-live": "polite" });
  // No maxlength until the service says its limit (GET /widget/config): the service checks it anyway.
  const input = h("textarea", {
    id: "pb-input",
    class: "pb-input",
    rows: "1",
    placeholder: "Type your message…",
    "aria-describedby": "pb-hint",
    autocomplete: "off",
  });
  const sendButton = h("button", { type: "submit", class: "pb-send", "aria-label": "Send message", title: "Send" }, [
    icon(ICONS.send, 20),
  ]);
  const stopButton = h(
    "button",
    { type: "button", class: "pb-stop", "aria-label": "Stop generating", title: "Stop", hidden: true },
    [icon(ICONS.stop, 20)]
  );
  const form = h("form", { class: "pb-form", novalidate: true }, [
    h("label", { for: "pb-input", class: "pb-visually-hidden", text: "Your message" }),
    input,
    h("span", { id: "pb-hint", class: "pb-visually-hidden", text: "Enter sends, Shift+Enter adds a new line." }),
    sendButton,
    stopButton,
  ]);
  const panel = h("section", { id: "pb-panel", class: "pb-panel", role: "dialog", "aria-labelledby": "pb-title", hidden: true }, [
    h("header", { class: "pb-header" }, [
      h("h2", { id: "pb-title", class: "pb-title", text: options.title }),
      newButton,
      closeButton,
    ]),
    log,
    notice,
    h("div", { class: "pb-footer" }, [form, quota]),
  ]);

  root.append(panel, bubble);
  shadow.append(stylesheet, root);
  return { host, shadow, root, bubble, panel, newButton, closeButton, log, notice, quota, form, input, sendButton, stopButton };
}

/** Text on the accent colour: white, or near-black when the owner picked a light accent. */
export function setAccentContrast(host, shadow, accent) {
  const probe = h("span", { hidden: true });
  probe.style.color = accent;
  shadow.appendChild(probe);
  const rgb = /(\d+(?:\.\d+)?)[, ]+(\d+(?:\.\d+)?)[, ]+(\d+(?:\.\d+)?)/.exec(getComputedStyle(probe).color);
  probe.remove();
  if (!rgb) return;
  const channel = (value) => {
    const c = Number(value) / 255;
    return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  };
  const luminance = 0.2126 * channel(rgb[1]) + 0.7152 * channel(rgb[2]) + 0.0722 * channel(rgb[3]);
  host.style.setProperty("--pb-on-accent", luminance > 0.45 ? "#111827" : "#ffffff");
}
