/*
 * The messages in the log: the visitor's (plain text) and the assistant's (Markdown, tool chips).
 * Their own words come from t, the visitor's language (i18n.mjs).
 */

import { fragmentOf, h } from "./dom.mjs";
import { feedbackBar } from "./feedback.mjs";
import { renderMarkdown } from "./markdown.mjs";
import { MarkdownStream } from "./markdown-stream.mjs";

// A citation marker as the service asks the model to write them: [1] or [1, 3]
const MARKER = /(\[\d{1,3}(?:\s*,\s*\d{1,3})*\])/;

/** One number of a marker: a link to its source's page, or its file named on hover and focus. */
function citation(number, source, t) {
  const title = String(source.title || source.url || source.file || t("source"));
  if (typeof source.url === "string" && /^https?:\/\//i.test(source.url)) {
    return h("a", { class: "pb-cite", href: source.url, target: "_blank", rel: "noopener noreferrer", title, text: String(number) });
  }
  const named = typeof source.file === "string" ? title + " (" + source.file + ")" : title;
  return h("span", { class: "pb-cite", title: named, tabindex: "0", "aria-label": t("citation", { number, name: named }), text: String(number) });
}

/**
 * The answer's citation markers, once its sources are known (they come after its text, so a marker
 * split across chunks is whole by then), as links to the sources they number. A marker naming a
 * number the sources do not carry stays text; code is left alone.
 */
export function linkCitations(container, sources, t) {
  const numbered = new Map(sources.filter((source) => Number.isInteger(source.n)).map((source) => [source.n, source]));
  if (!numbered.size) return;
  const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
  const texts = [];
  while (walker.nextNode()) texts.push(walker.currentNode);
  for (const node of texts) {
    if (node.parentElement.closest("code, pre, a, .pb-cite")) continue;
    const parts = node.data.split(MARKER);
    if (parts.length === 1) continue;
    const fragment = document.createDocumentFragment();
    for (const part of parts) {
      const numbers = MARKER.test(part) ? part.slice(1, -1).split(",").map((n) => parseInt(n, 10)) : null;
      if (!numbers || !numbers.every((n) => numbered.has(n))) {
        fragment.append(part);
        continue;
      }
      fragment.append("[");
      numbers.forEach((n, index) => fragment.append(...(index ? [", "] : []), citation(n, numbered.get(n), t)));
      fragment.append("]");
    }
    node.replaceWith(fragment);
  }
}

export function userMessage(text, t) {
  return h("div", { class: "pb-msg pb-user" }, [
    h("span", { class: "pb-visually-hidden", text: t("speaker", { name: t("you") }) }),
    // dir="auto": a message runs in its own direction (English in an Arabic widget, and back)
    h("div", { class: "pb-text pb-plain", dir: "auto", text }),
  ]);
}

/**
 * What a tool chip says: the label in the visitor's language, else the service's (in English),
 * else the tool's name in words.
 */
export function toolLabel(labels, name, t) {
  if (t.has("tool." + name)) return t("tool." + name);
  return (labels && Object.hasOwn(labels, name) && labels[name]) || t("toolUsed", { tool: String(name).replace(/_/g, " ") });
}

export class AssistantMessage {
  /** speaker: the assistant's name for screen readers (the panel's title); t: the widget's words. */
  constructor(speaker, t) {
    this.t = t;
    this.tools = h("div", { class: "pb-tools" });
    this.text = h("div", { class: "pb-text", dir: "auto" });
    this.node = h("div", { class: "pb-msg pb-assistant" }, [
      h("span", { class: "pb-visually-hidden", text: t("speaker", { name: speaker }) }),
      this.tools,
      this.text,
    ]);
    this.stream = new MarkdownStream();
    this.openNodes = []; // the rendered open tail of the streamed answer
    this.answered = false; // whether any answer text arrived
  }

  /** A whole text at once (history, greeting). */
  setText(markdown) {
    this.answered = markdown !== "";
    this.text.replaceChildren(fragmentOf(renderMarkdown(markdown)));
  }

  /** One streamed chunk: finished blocks are added once, only the open tail is rendered again. */
  appendText(chunk) {
    if (chunk) this.answered = true;
    const { done, open } = this.stream.append(chunk);
    for (const node of this.openNodes) node.remove();
    const fresh = fragmentOf(open);
    this.openNodes = [...fresh.childNodes];
    this.text.append(fragmentOf(done), fresh);
  }

  /**
   * The owner's pages and files the answer came from (a `sources` event, or a stored answer's
   * `sources`), listed under it. Only http(s) URLs become links; a file is named as text.
   */
  setSources(sources) {
    const items = (Array.isArray(sources) ? sources : []).filter((source) => source && typeof source === "object");
    if (!items.length) return;
    const list = h(
      "ul",
      {},
      items.map((source) => {
        const title = String(source.title || source.url || source.file || this.t("source"));
        const snippet = typeof source.snippet === "string" && source.snippet ? source.snippet : null;
        const named = typeof source.file === "string" && source.file !== title ? title + " (" + source.file + ")" : title;
        const item =
          typeof source.url === "string" && /^https?:\/\//i.test(source.url)
            ? h("a", { href: source.url, target: "_blank", rel: "noopener noreferrer", title: snippet, text: title })
            : h("span", { title: snippet, text: named });
        return h("li", {}, [item]);
      })
    );
    const box = h("div", { class: "pb-sources" }, [h("span", { class: "pb-sources-label", text: this.t("sources") }), list]);
    if (this.sources) this.sources.replaceWith(box);
    else this.node.appendChild(box);
    this.sources = box;
    linkCitations(this.text, items, this.t);
  }

  /** 👍/👎 under the finished answer (feedback.mjs); `send(rating, comment)` gives them to the service. */
  offerFeedback(send) {
    if (this.feedback || !this.answered) return;
    this.feedback = feedbackBar(send, this.t);
    this.node.appendChild(this.feedback);
  }

  addTool(name, label, result) {
    this.tools.appendChild(
      h("details", { class: "pb-tool", "data-tool": name }, [
        h("summary", { class: "pb-tool-name" }, [h("span", { class: "pb-tool-dot", "aria-hidden": "true" }), label]),
        h("div", { class: "pb-tool-result", text: String(result || "") }),
      ])
    );
  }
}
