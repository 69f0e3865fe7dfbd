/*
 * The answer's Markdown, parsed into plain trees: a small subset, unknown syntax stays literal text.
 *
 * Pure: no DOM, no globals but URL. A tree is a string (text) or {tag, attrs, children}, and the
 * safety rule lives here: every tag and attribute name below is a constant of this file, text from
 * the model only ever becomes a string child (dom.mjs turns strings into text nodes), and a link's
 * href is only ever an absolute http:, https: or mailto: URL that safeHref() returned.
 */

const SAFE_PROTOCOLS = new Set(["http:", "https:", "mailto:"]);

/** An absolute http(s)/mailto URL, normalised, or null: relative URLs would resolve against the host page. */
export function safeHref(raw) {
  let url;
  try {
    url = new URL(String(raw).trim());
  } catch {
    return null;
  }
  return SAFE_PROTOCOLS.has(url.protocol) ? url.href : null;
}

function el(tag, attrs, children) {
  return { tag, attrs: attrs || {}, children: children || [] };
}

function link(href, label) {
  const a = el("a", { href, target: "_blank", rel: "noopener noreferrer" });
  inline(label, a.children, true);
  return a;
}

// Find the closing `marker` for an opening one at `from`: content must not start or end with a
// space, and an underscore never closes inside a word (snake_case_names, `window.__name`).
function closing(text, marker, from) {
  let end = text.indexOf(marker, from + marker.length);
  while (end !== -1) {
    const inner = text.slice(from + marker.length, end);
    const after = text.charAt(end + marker.length);
    const intraword = marker.charAt(0) === "_" && /\w/.test(after);
    if (inner.trim() && !/^\s/.test(inner) && !/\s$/.test(inner) && !intraword && after !== marker.charAt(0)) {
      return end;
    }
    end = text.indexOf(marker, end + 1);
  }
  return -1;
}

const BARE_URL = /^(https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]])/;
const ESCAPABLE = /[\\`*_{}[\]()#+\-.!~<>|]/;

/**
 * One line of inline Markdown, pushed onto `out` as trees.
 * inLink: inside a link's label, where another link would nest anchors.
 */
export function inline(text, out, inLink = false) {
  let buffer = "";
  const flush = () => {
    if (buffer) out.push(buffer);
    buffer = "";
  };
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    const rest = text.slice(i);
    const prev = i > 0 ? text[i - 1] : " ";

    if (ch === "\\" && i + 1 < text.length && ESCAPABLE.test(text[i + 1])) {
      buffer += text[i + 1];
      i += 2;
      continue;
    }
    if (ch === "`") {
      const ticks = /^`+/.exec(rest)[0];
      const close = text.indexOf(ticks, i + ticks.length);
      if (close !== -1) {
        flush();
        out.push(el("code", {}, [text.slice(i + ticks.length, close).trim() || " "]));
        i = close + ticks.length;
        continue;
      }
      buffer += ticks;
      i += ticks.length;
      continue;
    }
    if (rest.startsWith("**") || rest.startsWith("__") || rest.startsWith("~~")) {
      const marker = rest.slice(0, 2);
      const end = marker === "__" && /\w/.test(prev) ? -1 : closing(text, marker, i);
      if (end !== -1) {
        flush();
        const strong = el(marker === "~~" ? "del" : "strong");
        inline(text.slice(i + 2, end), strong.children, inLink);
        out.push(strong);
        i = end + 2;
        continue;
      }
    }
    if ((ch === "*" || ch === "_") && !(ch === "_" && /\w/.test(prev))) {
      const end = closing(text, ch, i);
      if (end !== -1) {
        flush();
        const em = el("em");
        inline(text.slice(i + 1, end), em.children, inLink);
        out.push(em);
        i = end + 1;
        continue;
      }
    }
    if (ch === "[" && !inLink) {
      const label = /^\[([^\]\n]+)\]\(\s*<?([^()\s<>]+)>?\s*\)/.exec(rest);
      if (label) {
        const href = safeHref(label[2]);
        flush();
        if (href) out.push(link(href, label[1]));
        else inline(label[1], out, inLink); // unsafe or relative target: keep the words, drop the link
        i += label[0].length;
        continue;
      }
    }
    if (ch === "<" && !inLink) {
      const auto = /^<((?:https?:\/\/|mailto:)[^\s<>]+)>/.exec(rest);
      const href = auto && safeHref(auto[1]);
      if (href) {
        flush();
        out.push(link(href, auto[1]));
        i += auto[0].length;
        continue;
      }
    }
    if ((ch === "h" || ch === "H") && !inLink && !/\w/.test(prev)) {
      const bare = BARE_URL.exec(rest);
      const href = bare && safeHref(bare[1]);
      if (href) {
        flush();
        out.push(link(href, bare[1]));
        i += bare[1].length;
        continue;
      }
    }
    buffer += ch;
    i += 1;
  }
  flush();
}

function inlineLines(lines, out) {
  lines.forEach((line, index) => {
    if (index) out.push(el("br"));
    inline(line, out);
  });
}

const FENCE = /^\s{0,3}(```+|~~~+)\s*([\w+#.-]*)\s*$/;
const LIST_ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;
const QUOTE = /^\s{0,3}>\s?(.*)$/;

/** Text as lines: "\n" or "\r\n" ends a line. */
export function splitLines(text) {
  return String(text)
    .split("\n")
    .map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
}

function lastOf(list) {
  return list.children[list.children.length - 1];
}

/**
 * Lines of Markdown as top-level blocks: [{line, node}], `line` being the index of the block's
 * first line. A block depends only on its own lines and on the line after a blank line in a list,
 * so a block that another block follows can never change: markdown-stream.mjs relies on that.
 */
export function parseBlocks(lines) {
  const blocks = [];
  let paragraph = [];
  let paragraphLine = 0;
  let listStack = []; // [{indent, list, ordered}]

  const add = (line, node) => blocks.push({ line, node });
  const endParagraph = () => {
    if (!paragraph.length) return;
    const p = el("p");
    inlineLines(paragraph, p.children);
    add(paragraphLine, p);
    paragraph = [];
  };

  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    const fence = FENCE.exec(line);
    if (fence) {
      endParagraph();
      listStack = [];
      const start = n;
      const body = [];
      const closeFence = new RegExp("^\\s{0,3}" + fence[1][0] + "{" + fence[1].length + ",}\\s*$");
      n += 1;
      while (n < lines.length && !closeFence.test(lines[n])) body.push(lines[n++]);
      // An unclosed fence (still streaming) shows everything after it as code.
      const code = el("code", fence[2] ? { "data-lang": fence[2] } : {}, [body.join("\n")]);
      add(start, el("pre", { tabindex: "0" }, [code]));
      continue;
    }
    if (!line.trim()) {
      endParagraph();
      // A blank line inside a list keeps the list open only if the next line continues it.
      if (listStack.length && !LIST_ITEM.test(lines[n + 1] || "")) listStack = [];
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      endParagraph();
      const indent = item[1].replace(/\t/g, "    ").length;
      const ordered = /\d/.test(item[2]);
      while (listStack.length && indent < listStack[listStack.length - 1].indent) listStack.pop();
      const top = listStack[listStack.length - 1];
      if (top && indent > top.indent + 1 && lastOf(top.list)) {
        const nested = el(ordered ? "ol" : "ul");
        lastOf(top.list).children.push(nested);
        listStack.push({ indent, list: nested, ordered });
      } else if (!top || top.ordered !== ordered) {
        if (top) listStack.pop();
        const start = parseInt(item[2], 10);
        const list = el(ordered ? "ol" : "ul", ordered && start !== 1 ? { start: String(start) } : {});
        if (listStack.length) lastOf(listStack[listStack.length - 1].list).children.push(list);
        else add(n, list);
        listStack.push({ indent, list, ordered });
      }
      const li = el("li");
      inline(item[3], li.children);
      listStack[listStack.length - 1].list.children.push(li);
      continue;
    }
    if (listStack.length && /^\s+\S/.test(line)) {
      // a continuation line of the last list item
      const last = lastOf(listStack[listStack.length - 1].list);
      last.children.push(el("br"));
      inline(line.trim(), last.children);
      continue;
    }
    listStack = [];
    const heading = HEADING.exec(line);
    if (heading) {
      endParagraph();
      const level = Math.min(6, heading[1].length + 2); // inside a chat, h1 reads as a level-3 heading
      const node = el("p", { class: "pb-heading", role: "heading", "aria-level": String(level) });
      inline(heading[2], node.children);
      add(n, node);
      continue;
    }
    if (RULE.test(line)) {
      endParagraph();
      add(n, el("hr"));
      continue;
    }
    const quote = QUOTE.exec(line);
    if (quote) {
      endParagraph();
      const start = n;
      const quoted = [quote[1]];
      while (n + 1 < lines.length && QUOTE.test(lines[n + 1])) quoted.push(QUOTE.exec(lines[++n])[1]);
      add(start, el("blockquote", {}, parseBlocks(quoted).map((block) => block.node)));
      continue;
    }
    if (!paragraph.length) paragraphLine = n;
    paragraph.push(line);
  }
  endParagraph();
  return blocks;
}

/** A whole Markdown text as a list of block trees. */
export function renderMarkdown(source) {
  return parseBlocks(splitLines(source)).map((block) => block.node);
}
