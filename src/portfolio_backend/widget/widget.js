/*
 * PortfolioBackend chat widget: one script tag, no build step, no dependencies.
 *
 *   <script src="https://api.example.com/widget.js" defer
 *           data-title="Ask me" data-greeting="Hi! Ask me about my work."
 *           data-accent="#0b6bcb" data-position="right"></script>
 *
 * data-api sets the API base URL; by default it is the origin this script was loaded from.
 *
 * Safety rule of this file: model, tool and server text only ever reaches the page through
 * textContent / createTextNode (see renderMarkdown). There is no innerHTML anywhere, so a
 * reply holding `<img src=x onerror=...>` is shown as those characters and never parsed.
 */
(function () {
  "use strict";

  if (window.PortfolioChat) return; // the tag was included twice: one widget is enough

  var script =
    document.currentScript ||
    (function () {
      var tags = document.querySelectorAll('script[src*="widget.js"]');
      return tags[tags.length - 1] || null;
    })();
  if (!script || !script.src) return;

  var SVG_NS = "http://www.w3.org/2000/svg";
  var scriptUrl = new URL(script.src, document.baseURI);
  var data = script.dataset;

  var config = {
    title: data.title || "Chat",
    greeting: data.greeting || "Hi! How can I help you?",
    accent: data.accent && CSS.supports("color", data.accent) ? data.accent : "",
    position: data.position === "left" ? "left" : "right",
    api: (data.api || scriptUrl.origin).replace(/\/+$/, ""),
  };

  // Storage can throw (disabled cookies, sandboxed frames): fall back to memory for the page's life.
  var memory = {};
  function storageGet(area, key) {
    try {
      return window[area].getItem(key);
    } catch (e) {
      return memory[area + key] || null;
    }
  }
  function storageSet(area, key, value) {
    try {
      if (value === null) window[area].removeItem(key);
      else window[area].setItem(key, value);
    } catch (e) {
      if (value === null) delete memory[area + key];
      else memory[area + key] = value;
    }
  }
  var SESSION_KEY = "portfolio-chat:session:" + config.api;
  var OPEN_KEY = "portfolio-chat:open:" + config.api;

  // ---------------------------------------------------------------------------------------------
  // DOM helpers: every node is built with createElement and text goes in as text.

  function h(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        var value = attrs[name];
        if (value === false || value === null || value === undefined) return;
        if (name === "text") node.textContent = value;
        else node.setAttribute(name, value === true ? "" : value);
      });
    }
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function icon(paths, size) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", String(size || 24));
    svg.setAttribute("height", String(size || 24));
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    paths.forEach(function (d) {
      var path = document.createElementNS(SVG_NS, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }

  var ICON_CHAT = ["M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"];
  var ICON_CLOSE = ["M6 6l12 12M18 6L6 18"];
  var ICON_NEW = ["M12 5v14M5 12h14"];
  var ICON_SEND = ["M4 12l16-8-6 16-2-7-8-1z"];
  var ICON_STOP = ["M7 7h10v10H7z"];

  // ---------------------------------------------------------------------------------------------
  // Markdown: a small subset, rendered straight to DOM nodes. Unknown syntax stays literal text.

  var SAFE_PROTOCOLS = { "http:": true, "https:": true, "mailto:": true };

  function safeHref(raw) {
    var url;
    try {
      url = new URL(raw.trim()); // absolute URLs only: a relative one would resolve against the host page
    } catch (e) {
      return null;
    }
    return SAFE_PROTOCOLS[url.protocol] ? url.href : null;
  }

  function link(href, label) {
    var a = h("a", { href: href, target: "_blank", rel: "noopener noreferrer" });
    renderInline(label, a, true);
    return a;
  }

  // Find the closing `marker` for an opening one at `from`: content must not start or end with a
  // space, and an underscore never closes inside a word (snake_case_names, `window.__name`).
  function closing(text, marker, from) {
    var end = text.indexOf(marker, from + marker.length);
    while (end !== -1) {
      var inner = text.slice(from + marker.length, end);
      var after = text.charAt(end + marker.length);
      var intraword = marker.charAt(0) === "_" && /\w/.test(after);
      if (inner.trim() && !/^\s/.test(inner) && !/\s$/.test(inner) && !intraword && after !== marker.charAt(0)) {
        return end;
      }
      end = text.indexOf(marker, end + 1);
    }
    return -1;
  }

  var BARE_URL = /^(https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]])/;

  // inLink: inside a link's label, where another link would nest anchors.
  function renderInline(text, parent, inLink) {
    var buffer = "";
    function flush() {
      if (buffer) parent.appendChild(document.createTextNode(buffer));
      buffer = "";
    }
    var i = 0;
    while (i < text.length) {
      var ch = text[i];
      var rest = text.slice(i);
      var prev = i > 0 ? text[i - 1] : " ";

      if (ch === "\\" && i + 1 < text.length && /[\\`*_{}\[\]()#+\-.!~<>|]/.test(text[i + 1])) {
        buffer += text[i + 1];
        i += 2;
        continue;
      }
      if (ch === "`") {
        var ticks = /^`+/.exec(rest)[0];
        var close = text.indexOf(ticks, i + ticks.length);
        if (close !== -1) {
          flush();
          parent.appendChild(h("code", { text: text.slice(i + ticks.length, close).trim() || " " }));
          i = close + ticks.length;
          continue;
        }
        buffer += ticks;
        i += ticks.length;
        continue;
      }
      if (rest.startsWith("**") || rest.startsWith("__") || rest.startsWith("~~")) {
        var marker = rest.slice(0, 2);
        var end2 = marker === "__" && /\w/.test(prev) ? -1 : closing(text, marker, i);
        if (end2 !== -1) {
          flush();
          var strong = h(marker === "~~" ? "del" : "strong");
          renderInline(text.slice(i + 2, end2), strong, inLink);
          parent.appendChild(strong);
          i = end2 + 2;
          continue;
        }
      }
      if ((ch === "*" || ch === "_") && !(ch === "_" && /\w/.test(prev))) {
        var end1 = closing(text, ch, i);
        if (end1 !== -1) {
          flush();
          var em = h("em");
          renderInline(text.slice(i + 1, end1), em, inLink);
          parent.appendChild(em);
          i = end1 + 1;
          continue;
        }
      }
      if (ch === "[" && !inLink) {
        var label = /^\[([^\]\n]+)\]\(\s*<?([^()\s<>]+)>?\s*\)/.exec(rest);
        if (label) {
          var href = safeHref(label[2]);
          flush();
          if (href) parent.appendChild(link(href, label[1]));
          else renderInline(label[1], parent, inLink); // unsafe or relative target: keep the words, drop the link
          i += label[0].length;
          continue;
        }
      }
      if (ch === "<" && !inLink) {
        var auto = /^<((?:https?:\/\/|mailto:)[^\s<>]+)>/.exec(rest);
        if (auto && safeHref(auto[1])) {
          flush();
          parent.appendChild(link(safeHref(auto[1]), auto[1]));
          i += auto[0].length;
          continue;
        }
      }
      if ((ch === "h" || ch === "H") && !inLink && !/\w/.test(prev)) {
        var bare = BARE_URL.exec(rest);
        if (bare && safeHref(bare[1])) {
          flush();
          parent.appendChild(link(safeHref(bare[1]), bare[1]));
          i += bare[1].length;
          continue;
        }
      }
      buffer += ch;
      i += 1;
    }
    flush();
  }

  function appendLines(lines, parent) {
    lines.forEach(function (line, index) {
      if (index) parent.appendChild(h("br"));
      renderInline(line, parent);
    });
  }

  var FENCE = /^\s{0,3}(```+|~~~+)\s*([\w+#.-]*)\s*$/;
  var LIST_ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
  var HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
  var RULE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;
  var QUOTE = /^\s{0,3}>\s?(.*)$/;

  function renderMarkdown(source, target) {
    var lines = String(source).replace(/\r\n?/g, "\n").split("\n");
    var fragment = document.createDocumentFragment();
    var paragraph = [];
    var listStack = []; // [{indent, list}]

    function endParagraph() {
      if (!paragraph.length) return;
      var p = h("p");
      appendLines(paragraph, p);
      fragment.appendChild(p);
      paragraph = [];
    }
    function endLists() {
      listStack = [];
    }

    for (var n = 0; n < lines.length; n++) {
      var line = lines[n];
      var fence = FENCE.exec(line);
      if (fence) {
        endParagraph();
        endLists();
        var body = [];
        var closeFence = new RegExp("^\\s{0,3}" + fence[1][0] + "{" + fence[1].length + ",}\\s*$");
        n += 1;
        while (n < lines.length && !closeFence.test(lines[n])) body.push(lines[n++]);
        // An unclosed fence (still streaming) shows everything after it as code.
        var code = h("code", { text: body.join("\n") });
        if (fence[2]) code.setAttribute("data-lang", fence[2]);
        fragment.appendChild(h("pre", { tabindex: "0" }, [code]));
        continue;
      }
      if (!line.trim()) {
        endParagraph();
        // A blank line inside a list keeps the list open only if the next line continues it.
        if (listStack.length && !LIST_ITEM.test(lines[n + 1] || "")) endLists();
        continue;
      }
      var item = LIST_ITEM.exec(line);
      if (item) {
        endParagraph();
        var indent = item[1].replace(/\t/g, "    ").length;
        var ordered = /\d/.test(item[2]);
        while (listStack.length && indent < listStack[listStack.length - 1].indent) listStack.pop();
        var top = listStack[listStack.length - 1];
        if (top && indent > top.indent + 1 && top.list.lastChild) {
          var nested = h(ordered ? "ol" : "ul");
          top.list.lastChild.appendChild(nested);
          listStack.push({ indent: indent, list: nested, ordered: ordered });
        } else if (!top || top.ordered !== ordered) {
          if (top) listStack.pop();
          var list = h(ordered ? "ol" : "ul");
          var start = parseInt(item[2], 10);
          if (ordered && start !== 1) list.setAttribute("start", String(start));
          (listStack.length ? listStack[listStack.length - 1].list.lastChild : fragment).appendChild(list);
          listStack.push({ indent: indent, list: list, ordered: ordered });
        }
        var li = h("li");
        renderInline(item[3], li);
        listStack[listStack.length - 1].list.appendChild(li);
        continue;
      }
      if (listStack.length && /^\s+\S/.test(line)) {
        // a continuation line of the last list item
        var last = listStack[listStack.length - 1].list.lastChild;
        last.appendChild(h("br"));
        renderInline(line.trim(), last);
        continue;
      }
      endLists();
      var heading = HEADING.exec(line);
      if (heading) {
        endParagraph();
        var level = Math.min(6, heading[1].length + 2); // inside a chat, h1 reads as a level-3 heading
        var hd = h("p", { class: "pb-heading", role: "heading", "aria-level": String(level) });
        renderInline(heading[2], hd);
        fragment.appendChild(hd);
        continue;
      }
      if (RULE.test(line)) {
        endParagraph();
        fragment.appendChild(h("hr"));
        continue;
      }
      var quote = QUOTE.exec(line);
      if (quote) {
        endParagraph();
        var quoted = [quote[1]];
        while (n + 1 < lines.length && QUOTE.test(lines[n + 1])) quoted.push(QUOTE.exec(lines[++n])[1]);
        var blockquote = h("blockquote");
        renderMarkdown(quoted.join("\n"), blockquote);
        fragment.appendChild(blockquote);
        continue;
      }
      paragraph.push(line);
    }
    endParagraph();
    while (target.firstChild) target.removeChild(target.firstChild);
    target.appendChild(fragment);
  }

  // ---------------------------------------------------------------------------------------------
  // The widget's DOM, inside a shadow root so the host page's CSS neither leaks in nor out.

  var host = document.createElement("portfolio-chat");
  host.setAttribute("data-position", config.position);
  if (config.accent) host.style.setProperty("--pb-accent", config.accent);
  var shadow = host.attachShadow({ mode: "open" });

  var stylesheet = h("link", { rel: "stylesheet", href: new URL("widget.css", scriptUrl).href });
  var root = h("div", { class: "pb-root pb-" + config.position, hidden: true });
  // Show nothing until the stylesheet is in: an unstyled flash of the panel would look broken.
  stylesheet.addEventListener("load", function () {
    root.hidden = false;
  });
  stylesheet.addEventListener("error", function () {
    root.hidden = false;
  });

  var bubble = h("button", {
    type: "button",
    class: "pb-bubble",
    "aria-label": "Open chat: " + config.title,
    "aria-expanded": "false",
    "aria-controls": "pb-panel",
  }, [icon(ICON_CHAT, 28)]);

  var titleNode = h("h2", { id: "pb-title", class: "pb-title", text: config.title });
  var newButton = h("button", {
    type: "button",
    class: "pb-icon-button pb-new",
    "aria-label": "New conversation",
    title: "New conversation",
  }, [icon(ICON_NEW, 20)]);
  var closeButton = h("button", {
    type: "button",
    class: "pb-icon-button pb-close",
    "aria-label": "Close chat",
    title: "Close chat",
  }, [icon(ICON_CLOSE, 20)]);

  var log = h("div", {
    class: "pb-messages",
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions text",
    "aria-label": "Conversation",
    tabindex: "0",
  });
  var notice = h("div", { class: "pb-notice", role: "alert", hidden: true });
  var quota = h("p", { class: "pb-quota", "aria-live": "polite" });
  var input = h("textarea", {
    id: "pb-input",
    class: "pb-input",
    rows: "1",
    maxlength: "4000",
    placeholder: "Type your message…",
    "aria-describedby": "pb-hint",
    autocomplete: "off",
  });
  var hint = h("span", { id: "pb-hint", class: "pb-visually-hidden", text: "Enter sends, Shift+Enter adds a new line." });
  var sendButton = h("button", { type: "submit", class: "pb-send", "aria-label": "Send message", title: "Send" }, [
    icon(ICON_SEND, 20),
  ]);
  var stopButton = h("button", {
    type: "button",
    class: "pb-stop",
    "aria-label": "Stop generating",
    title: "Stop",
    hidden: true,
  }, [icon(ICON_STOP, 20)]);
  var form = h("form", { class: "pb-form", novalidate: true }, [
    h("label", { for: "pb-input", class: "pb-visually-hidden", text: "Your message" }),
    input,
    hint,
    sendButton,
    stopButton,
  ]);

  var panel = h("section", {
    id: "pb-panel",
    class: "pb-panel",
    role: "dialog",
    "aria-labelledby": "pb-title",
    hidden: true,
  }, [
    h("header", { class: "pb-header" }, [titleNode, newButton, closeButton]),
    log,
    notice,
    h("div", { class: "pb-footer" }, [form, quota]),
  ]);

  root.appendChild(panel);
  root.appendChild(bubble);
  shadow.appendChild(stylesheet);
  shadow.appendChild(root);

  // ---------------------------------------------------------------------------------------------
  // State

  var sessionId = storageGet("localStorage", SESSION_KEY);
  var historyLoaded = false;
  var controller = null; // the AbortController of the answer being streamed
  var turnId = null; // X-Turn-Id of that answer: Stop asks the service to stop it (DELETE /stream/{id})

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function addUserMessage(text) {
    var node = h("div", { class: "pb-msg pb-user" }, [
      h("span", { class: "pb-visually-hidden", text: "You: " }),
      h("div", { class: "pb-text pb-plain", text: text }),
    ]);
    log.appendChild(node);
    scrollToEnd();
    return node;
  }

  function addAssistantMessage() {
    var tools = h("div", { class: "pb-tools" });
    var text = h("div", { class: "pb-text" });
    var node = h("div", { class: "pb-msg pb-assistant" }, [
      h("span", { class: "pb-visually-hidden", text: config.title + ": " }),
      tools,
      text,
    ]);
    log.appendChild(node);
    scrollToEnd();
    return { node: node, tools: tools, text: text, markdown: "" };
  }

  var TOOL_LABELS = {
    get_current_time: "Checked the time",
    calculate: "Calculated",
    get_weather: "Looked up the weather",
    web_search: "Searched the web",
    get_session_info: "Looked at this conversation",
    create_reminder: "Created a reminder",
  };

  function addToolChip(message, name, result) {
    var label = TOOL_LABELS[name] || "Used " + String(name).replace(/_/g, " ");
    var chip = h("details", { class: "pb-tool", "data-tool": name }, [
      h("summary", { class: "pb-tool-name" }, [h("span", { class: "pb-tool-dot", "aria-hidden": "true" }), label]),
      h("div", { class: "pb-tool-result", text: String(result || "") }),
    ]);
    message.tools.appendChild(chip);
    scrollToEnd();
  }

  // The owner's pages and files an answer came from (the `sources` event, or a stored answer's
  // `sources`), listed under it. Only http(s) URLs become links; a file is named as text.
  function setSources(message, sources) {
    var items = (Array.isArray(sources) ? sources : []).filter(function (source) {
      return source && typeof source === "object";
    });
    if (!items.length) return;
    var list = h("ul", {}, items.map(function (source) {
      var title = String(source.title || source.url || source.file || "Source");
      var snippet = typeof source.snippet === "string" && source.snippet ? source.snippet : null;
      var named = typeof source.file === "string" && source.file !== title ? title + " (" + source.file + ")" : title;
      var item = typeof source.url === "string" && /^https?:\/\//i.test(source.url)
        ? h("a", { href: source.url, target: "_blank", rel: "noopener noreferrer", title: snippet, text: title })
        : h("span", { title: snippet, text: named });
      return h("li", {}, [item]);
    }));
    var box = h("div", { class: "pb-sources" }, [h("span", { class: "pb-sources-label", text: "Sources" }), list]);
    if (message.sources) message.node.replaceChild(box, message.sources);
    else message.node.appendChild(box);
    message.sources = box;
    scrollToEnd();
  }

  function setText(message, markdown) {
    message.markdown = markdown;
    renderMarkdown(markdown, message.text);
    scrollToEnd();
  }

  function showGreeting() {
    var message = addAssistantMessage();
    message.node.classList.add("pb-greeting");
    setText(message, config.greeting);
  }

  function clearLog() {
    while (log.firstChild) log.removeChild(log.firstChild);
  }

  function showNotice(text, kind) {
    notice.textContent = text;
    notice.className = "pb-notice pb-" + (kind || "error");
    notice.hidden = false;
  }
  function hideNotice() {
    notice.hidden = true;
    notice.textContent = "";
  }

  function localTime(resetSeconds) {
    var when = new Date(resetSeconds * 1000);
    var time = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    if (when.toDateString() === new Date().toDateString()) return time;
    return when.toLocaleDateString([], { weekday: "short", day: "numeric", month: "short" }) + ", " + time;
  }

  function showQuota(remaining, limit) {
    if (remaining === null || remaining === undefined || isNaN(remaining)) return;
    var text = remaining === 1 ? "1 message left" : remaining + " messages left";
    if (limit && !isNaN(limit)) text = remaining + " of " + limit + " messages left";
    quota.textContent = text;
    quota.setAttribute("data-remaining", String(remaining));
  }

  function quotaFromHeaders(response) {
    var remaining = response.headers.get("X-RateLimit-Remaining");
    if (remaining !== null) showQuota(parseInt(remaining, 10), parseInt(response.headers.get("X-RateLimit-Limit"), 10));
  }

  function setStreaming(on) {
    sendButton.hidden = on;
    stopButton.hidden = !on;
    sendButton.disabled = on;
    log.setAttribute("aria-busy", on ? "true" : "false");
    root.classList.toggle("pb-busy", on);
  }

  // ---------------------------------------------------------------------------------------------
  // The API

  function ApiError(message, kind) {
    this.message = message;
    this.kind = kind || "error";
  }

  function api(path, options) {
    return fetch(config.api + path, Object.assign({ credentials: "omit", cache: "no-store" }, options || {}));
  }

  function readJson(response) {
    return response.json().catch(function () {
      return {};
    });
  }

  // A refused request as one user-facing message: 429 names the local reset time.
  function failure(response) {
    return readJson(response).then(function (body) {
      if (response.status === 429) {
        var reset = Number(body.reset) || Number(response.headers.get("X-RateLimit-Reset"));
        if (!reset && Number(body.retry_after)) reset = Date.now() / 1000 + Number(body.retry_after);
        if (!reset && Number(response.headers.get("Retry-After"))) {
          reset = Date.now() / 1000 + Number(response.headers.get("Retry-After"));
        }
        return new ApiError(
          "You've reached the message limit for now." +
            (reset ? " You can send more messages after " + localTime(reset) + "." : " Please try again later."),
          "limit"
        );
      }
      var detail = typeof body.detail === "string" && body.detail ? body.detail : "";
      return new ApiError(
        detail || "Something went wrong on the server (HTTP " + response.status + "). Please try again."
      );
    });
  }

  function networkError(error) {
    if (error instanceof ApiError || (error && error.name === "AbortError")) return error;
    return new ApiError("Can't reach the chat service. Check your connection and try again.");
  }

  function createSession() {
    return api("/session", { method: "POST" }).then(function (response) {
      if (!response.ok) return failure(response).then(function (error) { throw error; });
      return response.json().then(function (body) {
        sessionId = body.session_id;
        storageSet("localStorage", SESSION_KEY, sessionId);
        return sessionId;
      });
    });
  }

  function forgetSession() {
    sessionId = null;
    storageSet("localStorage", SESSION_KEY, null);
  }

  function loadHistory() {
    historyLoaded = true;
    if (!sessionId) {
      showGreeting();
      return Promise.resolve();
    }
    log.setAttribute("aria-busy", "true");
    return api("/session/" + encodeURIComponent(sessionId))
      .then(function (response) {
        if (response.status === 404) {
          forgetSession(); // expired or deleted: start fresh
          showGreeting();
          return;
        }
        if (!response.ok) return failure(response).then(function (error) { throw error; });
        return response.json().then(function (body) {
          showGreeting();
          var current = null;
          (body.messages || []).forEach(function (message) {
            var content = typeof message.content === "string" ? message.content : "";
            if (message.role === "user") {
              addUserMessage(content);
              current = null;
            } else if (message.role === "tool") {
              if (!current || current.markdown) current = addAssistantMessage();
              addToolChip(current, message.name || "tool", content);
            } else if (message.role === "assistant" && content) {
              if (!current || current.markdown) current = addAssistantMessage();
              setText(current, content);
              setSources(current, message.sources);
            } // an assistant message with no content is a tool-call stub: its tools follow
          });
        });
      })
      .catch(function (error) {
        if (!log.firstChild) showGreeting();
        showNotice(networkError(error).message);
      })
      .then(function () {
        log.setAttribute("aria-busy", "false");
        scrollToEnd();
      });
  }

  function refreshQuota() {
    api("/rate-limit-info")
      .then(function (response) {
        if (!response.ok || quota.textContent) return;
        return response.json().then(function (body) {
          if (!quota.textContent) showQuota(Number(body.remaining), Number(body.limit));
        });
      })
      .catch(function () {
        /* the quota line is a nicety: the first answer's headers fill it in */
      });
  }

  // Read `data: {json}` lines from the body as they arrive. A network chunk can end anywhere,
  // also inside a line or a multi-byte character, so partial lines stay buffered until their "\n".
  function readEvents(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    function handle(line) {
      if (line.charAt(line.length - 1) === "\r") line = line.slice(0, -1);
      if (line.indexOf("data:") !== 0) return;
      var payload = line.slice(5).trim();
      if (!payload || payload === "[DONE]") return;
      var event;
      try {
        event = JSON.parse(payload);
      } catch (e) {
        return;
      }
      if (event && typeof event === "object") onEvent(event);
    }
    function pump() {
      return reader.read().then(function (step) {
        if (step.done) {
          buffer += decoder.decode();
          if (buffer) handle(buffer);
          return;
        }
        buffer += decoder.decode(step.value, { stream: true });
        var newline;
        while ((newline = buffer.indexOf("\n")) !== -1) {
          var line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          handle(line);
        }
        return pump();
      });
    }
    return pump();
  }

  function postStream(prompt, signal) {
    return api("/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ prompt: prompt, session_id: sessionId }),
      signal: signal,
    });
  }

  function send(prompt) {
    if (controller || !prompt.trim()) return;
    hideNotice();
    var userNode = addUserMessage(prompt);
    input.value = "";
    autosize();
    var message = null;
    var ended = false;
    var failed = null;
    var own = new AbortController();
    controller = own;
    setStreaming(true);

    function restorePrompt() {
      if (!input.value) {
        input.value = prompt;
        autosize();
      }
    }

    var ready = sessionId ? Promise.resolve(sessionId) : createSession();
    ready
      .then(function () {
        return postStream(prompt, own.signal);
      })
      .then(function (response) {
        if (response.status === 404) {
          // the session expired between turns: start a new one and send again, once
          forgetSession();
          return createSession().then(function () {
            showNotice("Your earlier conversation expired, so this starts a new one.", "info");
            return postStream(prompt, own.signal);
          });
        }
        return response;
      })
      .then(function (response) {
        quotaFromHeaders(response);
        if (!response.ok || !response.body) return failure(response).then(function (error) { throw error; });
        turnId = response.headers.get("X-Turn-Id");
        message = addAssistantMessage();
        message.node.classList.add("pb-streaming");
        return readEvents(response, function (event) {
          if (event.type === "chunk" && typeof event.content === "string") {
            setText(message, message.markdown + event.content);
          } else if (event.type === "tool_result") {
            addToolChip(message, event.tool_name, event.result);
          } else if (event.type === "sources") {
            setSources(message, event.sources);
          } else if (event.type === "error") {
            failed = new ApiError(String(event.error || "The answer failed.") + " Please try again.");
          } else if (event.type === "end") {
            ended = true;
          } // keepalive and types this version does not know are ignored
        });
      })
      .then(function () {
        if (failed) throw failed;
        if (!ended) throw new ApiError("The answer was cut off. Please try again.");
      })
      .catch(function (error) {
        if (controller !== own) return; // superseded by "New conversation": nothing to show
        if (error && error.name === "AbortError") {
          if (message) {
            message.node.classList.add("pb-stopped");
            message.node.appendChild(h("p", { class: "pb-stopped-note", text: "Stopped." }));
          } else {
            userNode.remove();
            restorePrompt();
          }
          return;
        }
        var shown = networkError(error);
        showNotice(shown.message, shown.kind);
        if (!message || !message.markdown) {
          // nothing was answered: take the message back into the box so it can be sent again
          if (message) message.node.remove();
          userNode.remove();
          restorePrompt();
        }
      })
      .then(function () {
        if (message) message.node.classList.remove("pb-streaming");
        if (controller !== own) return; // "New conversation" already reset the controls
        controller = null;
        turnId = null;
        var focusWasOnControls = shadow.activeElement === stopButton;
        setStreaming(false);
        if (focusWasOnControls) input.focus(); // the Stop button disappears: do not drop focus on the page

      });
  }

  function stop() {
    if (!controller) return;
    if (shadow.activeElement === stopButton) input.focus();
    if (turnId) {
      // closing the connection alone is not a stop: the service keeps an answer running for a
      // while so a dropped connection can resume it; this tells it to stop now, upstream included
      api("/stream/" + encodeURIComponent(turnId), { method: "DELETE" }).catch(function () {});
      turnId = null;
    }
    controller.abort();
  }

  function newConversation() {
    stop();
    controller = null;
    setStreaming(false);
    forgetSession();
    hideNotice();
    clearLog();
    showGreeting();
    input.focus();
  }

  // ---------------------------------------------------------------------------------------------
  // Opening, closing, keyboard

  function isOpen() {
    return !panel.hidden;
  }

  // restoring: reopened on page load because it was open on the previous page; focus stays put.
  function open(restoring) {
    if (isOpen()) return;
    panel.hidden = false;
    root.classList.add("pb-open");
    bubble.setAttribute("aria-expanded", "true");
    bubble.setAttribute("aria-label", "Close chat: " + config.title);
    storageSet("sessionStorage", OPEN_KEY, "1");
    if (!historyLoaded) {
      loadHistory();
      refreshQuota();
    }
    if (restoring !== true) input.focus();
  }

  function close() {
    if (!isOpen()) return;
    panel.hidden = true;
    root.classList.remove("pb-open");
    bubble.setAttribute("aria-expanded", "false");
    bubble.setAttribute("aria-label", "Open chat: " + config.title);
    storageSet("sessionStorage", OPEN_KEY, null);
    bubble.focus();
  }

  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 160) + "px";
  }

  bubble.addEventListener("click", function () {
    if (isOpen()) close();
    else open(false);
  });
  closeButton.addEventListener("click", close);
  newButton.addEventListener("click", newConversation);
  stopButton.addEventListener("click", stop);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send(input.value);
  });
  input.addEventListener("input", autosize);
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send(input.value);
    }
  });
  root.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && isOpen()) {
      event.preventDefault();
      close();
    }
  });

  // Text on the accent colour: white, or near-black when the owner picked a light accent.
  function accentContrast() {
    var rgb = /(\d+(?:\.\d+)?)[, ]+(\d+(?:\.\d+)?)[, ]+(\d+(?:\.\d+)?)/.exec(getComputedStyle(probe).color);
    probe.remove();
    if (!rgb) return;
    var channel = function (value) {
      var c = Number(value) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    };
    var luminance = 0.2126 * channel(rgb[1]) + 0.7152 * channel(rgb[2]) + 0.0722 * channel(rgb[3]);
    host.style.setProperty("--pb-on-accent", luminance > 0.45 ? "#111827" : "#ffffff");
  }
  var probe = null;

  function mount() {
    document.body.appendChild(host);
    if (config.accent) {
      probe = h("span", { hidden: true });
      probe.style.color = config.accent;
      shadow.appendChild(probe);
      accentContrast();
    }
    if (storageGet("sessionStorage", OPEN_KEY)) open(true); // stay open across the site's pages
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);

  window.PortfolioChat = {
    open: function () {
      open(false);
    },
    close: close,
    newConversation: newConversation,
    renderMarkdown: renderMarkdown, // exposed for tests and for owners who render their own messages
  };
})();
