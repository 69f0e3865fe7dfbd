/*
 * Test helpers for markdown.mjs trees: serialise them the way the browser's innerHTML would, and
 * walk them to list every tag, attribute and href a tree could put on a page.
 */

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\u00a0": "&nbsp;" };
const VOID = new Set(["br", "hr"]);

function escapeText(text) {
  return text.replace(/[&<>\u00a0]/g, (ch) => ESCAPES[ch]);
}

function escapeAttr(text) {
  return text.replace(/[&"\u00a0]/g, (ch) => ESCAPES[ch]);
}

/** Trees as the HTML the browser's innerHTML shows for the nodes dom.mjs builds from them. */
export function html(trees) {
  return trees
    .map((tree) => {
      if (typeof tree === "string") return escapeText(tree);
      const attrs = Object.entries(tree.attrs)
        .map(([name, value]) => ` ${name}="${escapeAttr(value)}"`)
        .join("");
      if (VOID.has(tree.tag)) return `<${tree.tag}${attrs}>`;
      return `<${tree.tag}${attrs}>${html(tree.children)}</${tree.tag}>`;
    })
    .join("");
}

/** Every element of the trees, depth first. */
export function* elements(trees) {
  for (const tree of trees) {
    if (typeof tree === "string") continue;
    yield tree;
    yield* elements(tree.children);
  }
}

/** How many nodes (elements and texts) the trees hold: what dom.mjs would create for them. */
export function count(trees) {
  let total = 0;
  for (const tree of trees) total += typeof tree === "string" ? 1 : 1 + count(tree.children);
  return total;
}
