/*
 * 👍/👎 under a finished answer, with an optional comment for the site owner (POST /feedback).
 *
 * Real buttons: a keyboard reaches them with Tab and presses them with Enter or Space; each has a
 * label (the emoji alone reads as "thumbs up sign"), `aria-pressed` says which rating is given, and
 * a polite status line says what happened. A second rating replaces the first on the service, so
 * the buttons stay usable; a comment is sent with the rating it explains.
 */

import { h } from "./dom.mjs";

// The service's bound (api/feedback.py): the box stops there rather than the service refusing it.
const COMMENT_MAX_CHARS = 1000;

/**
 * The bar for one answer, in the widget's words (`t`, i18n.mjs). `send(rating, comment)` resolves once the service kept the rating
 * ("up" or "down"; `comment` may be undefined) and rejects with a visitor-facing Error otherwise.
 */
export function feedbackBar(send, t) {
  const button = (rating, emoji, label) =>
    h("button", {
      type: "button",
      class: "pb-feedback-button",
      "data-rating": rating,
      "aria-pressed": "false",
      "aria-label": label,
      title: label,
      text: emoji,
    });
  const up = button("up", "👍", t("goodAnswer"));
  const down = button("down", "👎", t("badAnswer"));
  const more = h("button", {
    type: "button",
    class: "pb-feedback-more",
    "aria-expanded": "false",
    hidden: true,
    text: t("addComment"),
  });
  const comment = h("textarea", {
    class: "pb-feedback-text",
    rows: "2",
    maxlength: String(COMMENT_MAX_CHARS),
    "aria-label": t("commentLabel"),
    placeholder: t("commentPlaceholder"),
  });
  const sendComment = h("button", { type: "button", class: "pb-feedback-send", text: t("sendComment") });
  const box = h("div", { class: "pb-feedback-comment", hidden: true }, [comment, sendComment]);
  const status = h("span", { class: "pb-feedback-status", role: "status" });
  const bar = h("div", { class: "pb-feedback", role: "group", "aria-label": t("rateAnswer") }, [
    up,
    down,
    more,
    status,
    box,
  ]);
  let given = null;

  async function rate(rating, text) {
    status.textContent = "";
    try {
      await send(rating, text || undefined);
    } catch (error) {
      status.textContent = error && error.message ? error.message : t("feedbackFailed");
      return false;
    }
    given = rating;
    up.setAttribute("aria-pressed", String(rating === "up"));
    down.setAttribute("aria-pressed", String(rating === "down"));
    more.hidden = false;
    status.textContent = t(text ? "commentThanks" : "feedbackThanks");
    return true;
  }

  function showComment(open) {
    box.hidden = !open;
    more.setAttribute("aria-expanded", String(open));
    if (open) comment.focus();
  }

  up.addEventListener("click", () => rate("up"));
  down.addEventListener("click", async () => {
    if (await rate("down")) showComment(true); // a 👎 most wants the why
  });
  more.addEventListener("click", () => showComment(box.hidden));
  sendComment.addEventListener("click", async () => {
    const text = comment.value.trim();
    if (!text || !given) return comment.focus();
    if (await rate(given, text)) {
      comment.value = "";
      showComment(false);
      more.focus();
    }
  });
  return bar;
}
