// The Markdown renderer (markdown.mjs): what it builds, and that model text never becomes markup.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";

import { renderMarkdown, safeHref } from "../../../src/portfolio_backend/widget/markdown.mjs";
import { elements, html } from "./trees.mjs";

const render = (source) => html(renderMarkdown(source));

// Everything the renderer may ever put on a page; anything else in a tree is a hole.
const TAGS = new Set(["p", "br", "strong", "em", "del", "code", "pre", "a", "ul", "ol", "li", "blockquote", "hr"]);
const ATTRIBUTES = new Set(["href", "target", "rel", "class", "role", "aria-level", "start", "tabindex", "data-lang"]);

function assertOnlySafeMarkup(trees) {
  for (const node of elements(trees)) {
    assert.ok(TAGS.has(node.tag), `unexpected tag <${node.tag}>`);
    for (const [name, value] of Object.entries(node.attrs)) {
      assert.ok(ATTRIBUTES.has(name), `unexpected attribute ${name} on <${node.tag}>`);
      assert.equal(typeof value, "string");
    }
    if (node.tag === "a") {
      assert.match(node.attrs.href, /^(https?:\/\/|mailto:)/);
      assert.equal(node.attrs.rel, "noopener noreferrer");
      assert.equal(node.attrs.target, "_blank");
    }
    if (node.attrs["data-lang"] !== undefined) assert.match(node.attrs["data-lang"], /^[\w+#.-]+$/);
  }
}

describe("what the renderer builds", () => {
  test("the documented subset (the browser test checks the DOM built from it)", () => {
    const subset = JSON.parse(readFileSync(new URL("./markdown-subset.json", import.meta.url), "utf8"));
    assert.equal(render(subset.source), subset.html);
  });

  test("single newlines are line breaks, blank lines end paragraphs", () => {
    assert.equal(render("one\ntwo\r\n\r\nthree"), "<p>one<br>two</p><p>three</p>");
  });

  test("underscores inside words stay literal", () => {
    assert.equal(render("call window.__name and my_var_name"), "<p>call window.__name and my_var_name</p>");
  });

  test("a backslash escapes a marker", () => {
    assert.equal(render("\\*not italic\\*"), "<p>*not italic*</p>");
  });

  test("an unclosed fence shows the rest as code, as it does while streaming", () => {
    assert.equal(render("Look:\n```js\nlet a = 1;\n"), '<p>Look:</p><pre tabindex="0"><code data-lang="js">let a = 1;\n</code></pre>');
  });

  test("rules, strike-through, nested emphasis", () => {
    assert.equal(render("~~old~~ **bold *and italic***\n\n---"), "<p><del>old</del> <strong>bold <em>and italic</em></strong></p><hr>");
  });

  test("a link inside a link label is not nested", () => {
    const trees = renderMarkdown("[see https://example.com/b](https://example.com/a)");
    const links = [...elements(trees)].filter((node) => node.tag === "a");
    assert.equal(links.length, 1);
    assert.equal(links[0].attrs.href, "https://example.com/a");
  });
});

describe("model text never becomes markup", () => {
  const attacks = {
    "an img with onerror": '<img src=x onerror="alert(1)">',
    "a script element": "<script>alert(1)</script>",
    "an svg with onload": "<svg/onload=alert(1)>",
    "raw html link with javascript: and onclick": '<a href="javascript:alert(1)" onclick="alert(2)">x</a>',
    "a javascript: link": "[click](javascript:alert(1))",
    "a javascript: link without parentheses": "[click](javascript:alert%281%29)",
    "an upper-case JavaScript: link": "[click](JavaScript:alert`1`)",
    "a javascript: link with spaces and entities": "[click]( javascript&#58;alert(1) )",
    "a javascript: autolink": "<javascript:alert(1)>",
    "a data: link": "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "a vbscript: link": "[click](vbscript:msgbox(1))",
    "a protocol-relative link": "[click](//evil.example/x)",
    "a relative link": "[click](/admin)",
    "a quote breaking out of href": '[click](https://example.com/"onmouseover="alert(1))',
    "an attribute in a fence's info string": '```js" onclick="alert(1)\ncode\n```',
    "html inside inline code": "`<img src=x onerror=alert(1)>`",
    "html inside a heading, list and quote": "# <b>h</b>\n- <i>li</i>\n> <u>q</u>",
    "an entity": "&lt;img src=x onerror=alert(1)&gt; &amp;",
  };
  for (const [name, source] of Object.entries(attacks)) {
    test(name, () => {
      const trees = renderMarkdown(source);
      assertOnlySafeMarkup(trees);
      // Serialised, text "<" is "&lt;": any "<" left is a tag, and it must be one of the renderer's.
      assert.doesNotMatch(html(trees), /<(?!\/?(p|br|strong|em|del|code|pre|a|ul|ol|li|blockquote|hr)[ >])/);
    });
  }

  test("html is shown as the characters it is", () => {
    for (const source of ['<img src=x onerror="alert(1)">', '<a href="javascript:alert(1)" onclick="alert(2)">x</a>']) {
      assert.deepEqual(renderMarkdown(source), [{ tag: "p", attrs: {}, children: [source] }]);
    }
  });

  test("javascript: links keep their words and lose the link", () => {
    assert.equal(render("[click](javascript:alert%281%29) [me](JAVASCRIPT:void0)"), "<p>click me</p>");
  });

  test("an entity is shown as written, not decoded", () => {
    assert.equal(render("&lt;b&gt;"), "<p>&amp;lt;b&amp;gt;</p>");
  });

  test("only absolute http, https and mailto URLs are links", () => {
    assert.equal(safeHref("https://example.com/a b"), "https://example.com/a%20b");
    assert.equal(safeHref("mailto:me@example.com"), "mailto:me@example.com");
    for (const unsafe of ["javascript:alert(1)", " JAVASCRIPT:alert(1)", "data:text/html,x", "/relative", "//host/x", "ftp://host/x", "file:///etc/passwd"]) {
      assert.equal(safeHref(unsafe), null, unsafe);
    }
  });
});
