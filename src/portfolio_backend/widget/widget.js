/*
 * PortfolioBackend chat widget: one script tag, no build step, no dependencies.
 *
 *   <script src="https://api.example.com/widget.js" defer
 *           data-title="Ask me" data-greeting="Hi! Ask me about my work."
 *           data-accent="#0b6bcb" data-position="right"></script>
 *
 * data-api sets the API base URL; by default it is the origin this script was loaded from.
 *
 * This file is a classic script, so the one tag above keeps working; it only finds its own tag and
 * imports the widget's ES modules (app.mjs and the small modules it imports, one job each). They
 * live under a path named by their content hash, which the service writes into MODULES below when
 * it serves this file: a visitor's browser never mixes modules of two releases, and can keep them
 * for a year.
 */
(function () {
  "use strict";

  if (window.PortfolioChat) return; // the tag was included twice: one widget is enough

  var MODULES = "widget/dev/"; // the service replaces "dev" with the modules' content hash

  var script =
    document.currentScript ||
    (function () {
      var tags = document.querySelectorAll('script[src*="widget.js"]');
      return tags[tags.length - 1] || null;
    })();
  if (!script || !script.src) return;

  var base = new URL(MODULES, new URL(script.src, document.baseURI));
  var widget = null;
  var pending = []; // calls made before the modules arrived, run once they have

  function later(name) {
    return function () {
      if (widget) widget[name]();
      else pending.push(name);
    };
  }

  window.PortfolioChat = {
    open: later("open"),
    close: later("close"),
    newConversation: later("newConversation"),
  };

  var ready = import(new URL("app.mjs", base).href).then(function (app) {
    return new Promise(function (resolve) {
      function mount() {
        widget = app.mount({ dataset: script.dataset, scriptUrl: script.src, stylesheet: new URL("widget.css", base).href });
        window.PortfolioChat.renderMarkdown = app.renderInto; // for owners who render their own messages
        pending.splice(0).forEach(function (name) {
          widget[name]();
        });
        resolve(window.PortfolioChat);
      }
      if (document.body) mount();
      else document.addEventListener("DOMContentLoaded", mount);
    });
  }, function (error) {
    console.error("PortfolioChat: the widget's modules did not load from " + base.href, error);
  });
  window.PortfolioChat.ready = ready; // resolves to window.PortfolioChat once the widget is on the page
})();
