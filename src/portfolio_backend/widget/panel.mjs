/*
 * The widget's DOM: a <portfolio-chat> element whose shadow root holds the bubble and the panel, so
 * the host page's CSS neither leaks in nor out. Built once; view.mjs draws on it.
 */

import { h, icon, ICONS } from "./dom.mjs";

/**
 * options: {title, accent, position, stylesheet (URL), t (the widget's words, i18n.mjs)}. Returns
 * the host element and the parts view.mjs drives.
 */
export function buildPanel(options) {
  const t = options.t;
  const host = document.createElement("portfolio-chat");
  host.setAttribute("data-position", options.position);
  if (options.accent) host.style.setProperty("--pb-accent", options.accent);
  const shadow = host.attachShadow({ mode: "open" });

  const stylesheet = h("link", { rel: "stylesheet", href: options.stylesheet });
  // dir on the widget's own root: the host page's dir does not reach the shadow tree's styles
  const root = h("div", { class: "pb-root pb-" + options.position, lang: t.lang, dir: t.dir, hidden: true });
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
      "aria-label": t("openChat", { title: options.title }),
      "aria-expanded": "false",
      "aria-controls": "pb-panel",
    },
    [icon(ICONS.chat, 28)]
  );
  const newButton = h(
    "button",
    { type: "button", class: "pb-icon-button pb-new", "aria-label": t("newConversation"), title: t("newConversation") },
    [icon(ICONS.new, 20)]
  );
  // the visitor's own copy, and erasure (GET /session/{id}/export, DELETE /session/{id}): shown once there is a conversation
  const downloadButton = h(
    "button",
    { type: "button", class: "pb-icon-button pb-download", "aria-label": t("downloadConversation"), title: t("downloadConversation"), hidden: true },
    [icon(ICONS.download, 20)]
  );
  const deleteButton = h(
    "button",
    { type: "button", class: "pb-icon-button pb-delete", "aria-label": t("deleteConversation"), title: t("deleteConversation"), hidden: true },
    [icon(ICONS.delete, 20)]
  );
  const closeButton = h(
    "button",
    { type: "button", class: "pb-icon-button pb-close", "aria-label": t("closeChat"), title: t("closeChat") },
    [icon(ICONS.close, 20)]
  );
  const log = h("div", {
    class: "pb-messages",
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions text",
    "aria-label": t("conversation"),
    tabindex: "0",
  });
  const notice = h("div", { class: "pb-notice", role: "alert", hidden: true });
  const quota = h("p", { class: "pb-quota", "aria-live": "polite" });
  // What happens to the visitor's messages, in one line; the owner's policy is linked once the
  // service names it (GET /widget/config: PRIVACY_URL)
  const privacy = h("p", { class: "pb-privacy" }, [h("span", { text: t("privacyNotice") })]);
  // No maxlength until the service says its limit (GET /widget/config): the service checks it anyway.
  const input = h("textarea", {
    id: "pb-input",
    class: "pb-input",
    rows: "1",
    placeholder: t("placeholder"),
    "aria-describedby": "pb-hint",
    autocomplete: "off",
  });
  const sendButton = h("button", { type: "submit", class: "pb-send", "aria-label": t("send"), title: t("sendShort") }, [
    icon(ICONS.send, 20),
  ]);
  const stopButton = h(
    "button",
    { type: "button", class: "pb-stop", "aria-label": t("stop"), title: t("stopShort"), hidden: true },
    [icon(ICONS.stop, 20)]
  );
  const form = h("form", { class: "pb-form", novalidate: true }, [
    h("label", { for: "pb-input", class: "pb-visually-hidden", text: t("yourMessage") }),
    input,
    h("span", { id: "pb-hint", class: "pb-visually-hidden", text: t("inputHint") }),
    sendButton,
    stopButton,
  ]);
  const panel = h("section", { id: "pb-panel", class: "pb-panel", role: "dialog", "aria-labelledby": "pb-title", hidden: true }, [
    // a div, not a <header>: that would be a second banner landmark on the owner's page
    h("div", { class: "pb-header" }, [
      h("h2", { id: "pb-title", class: "pb-title", text: options.title }),
      downloadButton,
      deleteButton,
      newButton,
      closeButton,
    ]),
    log,
    notice,
    h("div", { class: "pb-footer" }, [form, quota, privacy]),
  ]);

  root.append(panel, bubble);
  shadow.append(stylesheet, root);
  return { host, shadow, root, bubble, panel, newButton, downloadButton, deleteButton, closeButton, log, notice, quota, privacy, form, input, sendButton, stopButton };
}

/** The privacy line's link to the owner's policy (an absolute http(s) URL), once. */
export function linkPrivacyPolicy(privacy, url, t) {
  if (privacy.querySelector("a") || !/^https?:\/\//i.test(url)) return;
  const link = h("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: t("privacyLink") });
  privacy.append(" ", link);
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
