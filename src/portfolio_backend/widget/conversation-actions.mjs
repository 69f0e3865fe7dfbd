/*
 * "Download this conversation" and "Delete this conversation": the visitor's own copy of what the
 * service keeps about their session, and its erasure (docs/privacy.md). The buttons show only
 * while there is a session to act on; app.mjs says when (`update`).
 */

import { h } from "./dom.mjs";

/**
 * ui: buildPanel's parts; api: ChatApi; t: the widget's words; session(): the current session id
 * or null; deleted(): called once the service erased it (app.mjs starts afresh); notify(text,
 * kind): the panel's notice line.
 */
export function conversationActions({ ui, api, t, session, deleted, notify }) {
  async function download() {
    const id = session();
    if (!id) return;
    try {
      const blob = await api.exportSession(id);
      if (!blob) return update();
      const url = URL.createObjectURL(blob);
      const link = h("a", { href: url, download: "conversation.json", hidden: true });
      ui.shadow.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000); // the browser has the file by then
    } catch {
      notify(t("actionFailed"));
    }
  }

  async function erase() {
    const id = session();
    if (!id || !window.confirm(t("deleteConfirm"))) return;
    try {
      await api.deleteSession(id);
    } catch {
      notify(t("actionFailed"));
      return;
    }
    deleted();
    notify(t("conversationDeleted"), "info");
  }

  /** Show the buttons only when there is a conversation. */
  function update() {
    const none = !session();
    ui.downloadButton.hidden = none;
    ui.deleteButton.hidden = none;
  }

  ui.downloadButton.addEventListener("click", download);
  ui.deleteButton.addEventListener("click", erase);
  update();
  return { update };
}
