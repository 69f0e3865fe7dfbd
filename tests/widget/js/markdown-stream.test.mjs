// The streamed answer (markdown-stream.mjs): the same result as rendering the whole text, with work
// per chunk that does not grow with the answer.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { renderMarkdown } from "../../../src/portfolio_backend/widget/markdown.mjs";
import { MarkdownStream } from "../../../src/portfolio_backend/widget/markdown-stream.mjs";
import { count, html } from "./trees.mjs";

const DOCUMENTS = {
  paragraphs: "First **bold** line\nsecond line\n\nA new paragraph with `code`.\n\nThird.",
  lists: "Intro:\n- one\n- two\n  continued\n\n- three after a blank\n\n1. first\n2. second\n   - nested\n- switch type\n\nAfter.",
  "list ended by a paragraph": "- a\n- b\n\nnot a list\n1. but this is\n10. and this",
  fences: "Code:\n```python\nprint('<b>')\n\n# not a heading\n```\nAfter the fence.\n~~~\nunclosed",
  "quotes and headings": "> quoted\n> still **quoted**\nplain\n# Heading\n---\n### Small #\ntext\n> again",
  "links and escapes": "See [the docs](https://example.com/d) or <https://example.org>, \\*literal\\* and https://x.dev/a.",
  "crlf lines": "one\r\ntwo\r\n\r\n- item\r\n- item two\r\n\r\nend",
  html: 'Look: <img src=x onerror="alert(1)"> and [bad](javascript:alert(1)).\n\n<script>x</script>',
};

/** Stream `text` in the given chunks; returns the final trees as the widget would hold them. */
function streamed(text, sizes) {
  const stream = new MarkdownStream();
  const done = [];
  let open = [];
  let at = 0;
  for (let i = 0; at < text.length; i++) {
    const size = sizes[i % sizes.length];
    const step = stream.append(text.slice(at, at + size));
    at += size;
    done.push(...step.done);
    open = step.open;
  }
  return [...done, ...open];
}

describe("streaming gives the same answer as rendering it whole", () => {
  for (const [name, text] of Object.entries(DOCUMENTS)) {
    test(name, () => {
      const whole = html(renderMarkdown(text));
      for (const sizes of [[1], [2], [3], [7], [1, 5, 2, 11], [text.length]]) {
        assert.equal(html(streamed(text, sizes)), whole, `chunks of ${sizes}`);
      }
    });
  }

  test("every prefix, too: what a visitor sees mid-answer is the prefix rendered whole", () => {
    const text = DOCUMENTS.lists + "\n\n" + DOCUMENTS.fences;
    const stream = new MarkdownStream();
    const done = [];
    for (let end = 1; end <= text.length; end++) {
      const step = stream.append(text[end - 1]);
      done.push(...step.done);
      assert.equal(html([...done, ...step.open]), html(renderMarkdown(text.slice(0, end))), `after ${end} characters`);
    }
  });
});

describe("work per chunk", () => {
  // An answer of `blocks` paragraphs and lists, streamed in chunks of about a token (5 characters).
  function measure(blocks) {
    const parts = [];
    for (let i = 0; i < blocks; i++) {
      parts.push(i % 3 === 2 ? `- item ${i % 10}\n- with **bold**` : `Paragraph ${i % 10} has *some* words and a [link](https://example.com/${i % 10}).`);
    }
    const text = parts.join("\n\n");
    const stream = new MarkdownStream();
    let maxNodes = 0;
    let maxReparsed = 0;
    for (let at = 0; at < text.length; at += 5) {
      const step = stream.append(text.slice(at, at + 5));
      maxNodes = Math.max(maxNodes, count(step.done) + count(step.open));
      maxReparsed = Math.max(maxReparsed, stream.text.length - stream.openStart);
    }
    const longestBlock = Math.max(...parts.map((part) => part.length));
    return { maxNodes, maxReparsed, longestBlock, total: count(renderMarkdown(text)) };
  }

  test("does not grow with the answer's length", () => {
    const short = measure(12);
    const long = measure(600);
    assert.ok(long.total > 40 * short.total / 2, "the long answer is much longer");
    // Nodes built per chunk and text parsed again per chunk are bounded by the open block (and
    // the one it just finished), the same for 12 blocks as for 600.
    assert.equal(long.maxNodes, short.maxNodes);
    assert.equal(long.maxReparsed, short.maxReparsed);
    // At most the open block, the blank line and the next block's start: never the whole answer.
    assert.ok(long.maxReparsed <= 2 * long.longestBlock + 2, `re-parsed ${long.maxReparsed} characters in one chunk`);
  });
});
