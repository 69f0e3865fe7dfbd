/*
 * Building the widget's DOM: every node with createElement, every text with createTextNode.
 *
 * There is no innerHTML in the widget, so model, tool and server text reaches the page only as
 * text: a reply holding `<img src=x onerror=...>` is shown as those characters and never parsed.
 */

const SVG_NS = "http://www.w3.org/2000/svg";

/** An element: `attrs.text` becomes its text; false/null/undefined attributes are left out. */
export function h(tag, attrs, children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children || []) {
    node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/** A markdown.mjs tree (a string, or {tag, attrs, children}) as a DOM node. */
export function toDom(tree) {
  if (typeof tree === "string") return document.createTextNode(tree);
  const node = document.createElement(tree.tag);
  for (const [name, value] of Object.entries(tree.attrs)) node.setAttribute(name, value);
  for (const child of tree.children) node.appendChild(toDom(child));
  return node;
}

/** Trees as nodes in a fragment, for one insertion. */
export function fragmentOf(trees) {
  const fragment = document.createDocumentFragment();
  for (const tree of trees) fragment.appendChild(toDom(tree));
  return fragment;
}

export function icon(paths, size = 24) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", String(size));
  svg.setAttribute("height", String(size));
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  for (const d of paths) {
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    svg.appendChild(path);
  }
  return svg;
}

export const ICONS = {
  chat: ["M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"],
  close: ["M6 6l12 12M18 6L6 18"],
  new: ["M12 5v14M5 12h14"],
  send: ["M4 12l16-8-6 16-2-7-8-1z"],
  stop: ["M7 7h10v10H7z"],
  download: ["M12 4v11M7 10l5 5 5-5M5 20h14"],
  delete: ["M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13"],
};
