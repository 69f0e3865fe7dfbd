/*
 * A streamed answer's Markdown, rendered as it grows without re-rendering what is finished.
 *
 * Pure. Each append() re-parses only the open tail: the blocks from the last one that could still
 * change. A block followed by another block in complete lines is finished (parseBlocks documents
 * why) and is handed out once, in `done`; the rest comes back as `open`, to replace the previous
 * `open`. So the work per chunk grows with the open block (one paragraph, list or code block), not
 * with the answer.
 */

import { parseBlocks, splitLines } from "./markdown.mjs";

// Offset in `text` of the start of line `index` (0 is the start of the text).
function lineOffset(text, index) {
  let offset = 0;
  for (let n = 0; n < index; n++) offset = text.indexOf("\n", offset) + 1;
  return offset;
}

export class MarkdownStream {
  constructor() {
    this.source = "";
    this.openStart = 0; // where the open tail begins in `source`
  }

  /** Add text; returns {done: trees finished by it, open: the trees of the open tail}. */
  append(text) {
    this.source += text;
    let tail = this.source.slice(this.openStart);
    const done = [];
    const cut = tail.lastIndexOf("\n");
    if (cut !== -1) {
      // Only complete lines decide what is finished: a partial line "1" may yet become "1. item".
      const blocks = parseBlocks(splitLines(tail.slice(0, cut)));
      if (blocks.length > 1) {
        const last = blocks[blocks.length - 1];
        for (const block of blocks.slice(0, -1)) done.push(block.node);
        this.openStart += lineOffset(tail, last.line);
        tail = this.source.slice(this.openStart);
      }
    }
    return { done, open: parseBlocks(splitLines(tail)).map((block) => block.node) };
  }

  /** The whole text so far. */
  get text() {
    return this.source;
  }
}
