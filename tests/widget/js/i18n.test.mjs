// The widget's words in the visitor's language (i18n.mjs), under Node: no browser needed.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  CATALOGS,
  canonicalTag,
  chooseLanguage,
  directionOf,
  english,
  ownerStrings,
  translator,
} from "../../../src/portfolio_backend/widget/i18n.mjs";
import { errorText, refusal, visible } from "../../../src/portfolio_backend/widget/api-client.mjs";

const LANGUAGES = ["en", "de", "fr", "es", "pt", "ar"];
// the service's tools (GET /widget/config's tool_labels): every other language names each chip
const TOOLS = [
  "calculate",
  "get_current_time",
  "search_knowledge",
  "record_user_details",
  "record_unknown_question",
  "create_reminder",
  "get_session_info",
  "get_weather",
  "web_search",
];

function placeholders(entry) {
  const texts = typeof entry === "string" ? [entry] : Object.values(entry);
  return new Set(texts.flatMap((text) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1])));
}

describe("catalogs", () => {
  test("there is one for each promised language", () => {
    assert.deepEqual(Object.keys(CATALOGS).sort(), [...LANGUAGES].sort());
  });

  for (const lang of LANGUAGES.filter((name) => name !== "en")) {
    test(`${lang} says every English string, with the same placeholders, in its own words`, () => {
      const catalog = CATALOGS[lang];
      for (const [key, entry] of Object.entries(CATALOGS.en)) {
        assert.ok(Object.hasOwn(catalog, key), `${lang} lacks ${key}`);
        assert.deepEqual(placeholders(catalog[key]), placeholders(entry), `${lang}.${key} placeholders`);
      }
      const same = Object.keys(CATALOGS.en).filter((key) => JSON.stringify(catalog[key]) === JSON.stringify(CATALOGS.en[key]));
      // only words that are the same in both languages (a "Chat", a French "Sources") may match
      assert.ok(same.length <= 4, `${lang} copies English for ${same.join(", ")}`);
    });

    test(`${lang} names every tool's chip`, () => {
      for (const tool of TOOLS) assert.ok(CATALOGS[lang]["tool." + tool], `${lang} lacks tool.${tool}`);
    });
  }

  test("no entry is empty and every plural has its 'other' form", () => {
    for (const [lang, catalog] of Object.entries(CATALOGS)) {
      for (const [key, entry] of Object.entries(catalog)) {
        if (typeof entry === "string") assert.ok(entry.trim(), `${lang}.${key} is empty`);
        else assert.equal(typeof entry.other, "string", `${lang}.${key} has no other form`);
      }
    }
  });
});

describe("choosing the language", () => {
  test("the owner's data-lang wins over the browser's", () => {
    assert.equal(chooseLanguage("de", ["fr-FR", "en"]), "de");
    assert.equal(chooseLanguage("pt-br", ["en"]), "pt-BR");
  });

  test("an owner's language without a catalog is kept: their strings, English for the rest", () => {
    assert.equal(chooseLanguage("it", ["de"]), "it");
    const t = translator("it", { placeholder: "Scrivi un messaggio…" });
    assert.equal(t("placeholder"), "Scrivi un messaggio…");
    assert.equal(t("newConversation"), "New conversation");
    assert.equal(t.dir, "ltr");
  });

  test("otherwise the first of the visitor's languages that has a catalog, region kept", () => {
    assert.equal(chooseLanguage(undefined, ["it-IT", "es-MX", "en"]), "es-MX");
    assert.equal(chooseLanguage("", ["AR-eg"]), "ar-EG");
    assert.equal(chooseLanguage(undefined, ["ja", "ko"]), "en");
    assert.equal(chooseLanguage(undefined, []), "en");
    assert.equal(chooseLanguage(undefined, undefined), "en");
  });

  test("a data-lang that is no language tag is ignored rather than breaking the widget", () => {
    assert.equal(canonicalTag("en_US"), null);
    assert.equal(canonicalTag("english please"), null);
    assert.equal(chooseLanguage("en_US", ["fr"]), "fr");
  });

  test("Arabic, Hebrew and Persian run right to left; the rest left to right", () => {
    for (const tag of ["ar", "ar-EG", "he", "fa-IR"]) assert.equal(directionOf(tag), "rtl", tag);
    for (const tag of ["en", "de", "fr", "es", "pt-BR", "it"]) assert.equal(directionOf(tag), "ltr", tag);
    assert.equal(translator("ar").dir, "rtl");
  });
});

describe("words", () => {
  test("placeholders are filled and the count picks the plural form", () => {
    const t = translator("en");
    assert.equal(t("messagesLeft", { count: 1 }), "1 message left");
    assert.equal(t("messagesLeft", { count: 3 }), "3 messages left");
    assert.equal(t("messagesLeftOf", { count: 3, limit: 20 }), "3 of 20 messages left");
    assert.equal(t("openChat", { title: "Ask {me}" }), "Open chat: Ask {me}");
  });

  test("each language's plural rules: French 0 is singular, Portuguese 0 has its own line, German 1", () => {
    assert.equal(translator("fr")("messagesLeft", { count: 0 }), "0 message restant");
    assert.equal(translator("fr")("messagesLeft", { count: 2 }), "2 messages restants");
    assert.equal(translator("pt-BR")("messagesLeft", { count: 0 }), "Nenhuma mensagem restante");
    assert.equal(translator("pt")("messagesLeft", { count: 1 }), "Resta 1 mensagem");
    assert.equal(translator("de")("messagesLeft", { count: 1 }), "Noch 1 Nachricht übrig");
    assert.equal(translator("es")("messagesLeftOf", { count: 2, limit: 5 }), "Te quedan 2 de 5 mensajes");
  });

  test("numbers are written as the language writes them", () => {
    assert.equal(translator("de")("messagesLeftOf", { count: 1500, limit: 2000 }), "Noch 1.500 von 2.000 Nachrichten übrig");
    const arabic = translator("ar")("messagesLeft", { count: 3 });
    assert.equal(arabic, "الرسائل المتبقية: " + new Intl.NumberFormat("ar").format(3));
  });

  test("a status code is text, not a number to format", () => {
    assert.equal(translator("de")("serverError", { status: "500" }).includes("HTTP 500"), true);
  });

  test("an unknown key shows itself rather than nothing", () => {
    assert.equal(translator("de")("noSuchKey"), "noSuchKey");
    assert.equal(english("gone"), CATALOGS.en.gone);
  });

  test("tool chips: other languages translate them, English leaves the service's label", () => {
    assert.equal(translator("de").has("tool.get_current_time"), true);
    assert.equal(translator("en").has("tool.get_current_time"), false);
  });
});

describe("the owner's strings (data-strings)", () => {
  test("a catalog key applies in every language, a language's own object only there", () => {
    const json = JSON.stringify({
      privacyNotice: "We keep chats for 30 days.",
      de: { privacyNotice: "Wir speichern Chats 30 Tage lang.", placeholder: "Fragen Sie mich" },
      "pt-BR": { placeholder: "Pergunte-me" },
    });
    assert.deepEqual(ownerStrings(json, "fr").strings, { privacyNotice: "We keep chats for 30 days." });
    assert.deepEqual(ownerStrings(json, "de-AT").strings, {
      privacyNotice: "Wir speichern Chats 30 Tage lang.",
      placeholder: "Fragen Sie mich",
    });
    assert.equal(ownerStrings(json, "pt-BR").strings.placeholder, "Pergunte-me");
    const t = translator("de-AT", ownerStrings(json, "de-AT").strings);
    assert.equal(t("placeholder"), "Fragen Sie mich");
    assert.equal(t("newConversation"), "Neues Gespräch");
  });

  test("plural forms and tool labels may be overridden; other values are dropped", () => {
    const json = JSON.stringify({
      messagesLeft: { one: "one question left", other: "{count} questions left" },
      "tool.calculate": "Did the maths",
      send: 42,
      greeting: null,
      notAKey: "ignored",
    });
    const { strings, problem } = ownerStrings(json, "en");
    assert.equal(problem, null);
    assert.deepEqual(Object.keys(strings).sort(), ["messagesLeft", "tool.calculate"]);
    const t = translator("en", strings);
    assert.equal(t("messagesLeft", { count: 1 }), "one question left");
    assert.equal(t("tool.calculate"), "Did the maths");
    assert.equal(t("send"), "Send message");
  });

  test("malformed data-strings are reported and ignored, never thrown", () => {
    assert.match(ownerStrings("{not json", "en").problem, /not JSON/);
    assert.match(ownerStrings("[1, 2]", "en").problem, /JSON object/);
    assert.match(ownerStrings('"text"', "en").problem, /JSON object/);
    assert.deepEqual(ownerStrings(undefined, "en"), { strings: {}, problem: null });
  });
});

describe("errors in the visitor's language", () => {
  const refused = (status, body, headers = {}) =>
    new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });

  test("a 429 names the reset time in the visitor's language and clock", async () => {
    const reset = Math.floor(Date.now() / 1000) + 3600;
    const error = await refusal(refused(429, { reset }));
    assert.equal(error.kind, "limit");
    const time = new Date(reset * 1000).toLocaleTimeString("de", { hour: "2-digit", minute: "2-digit" });
    const text = errorText(error, translator("de"));
    assert.ok(text.startsWith("Sie haben das Nachrichtenlimit vorerst erreicht. Ab "), text);
    assert.ok(text.endsWith(time + " können Sie wieder Nachrichten senden."), text); // a date may come before the time
    assert.match(error.message, /^You've reached the message limit for now\. You can send more messages after/);
  });

  test("the widget's own words are translated; the service's detail is shown as it sent it", async () => {
    const t = translator("fr");
    assert.equal(errorText(await refusal(refused(502, {})), t), "Une erreur s'est produite sur le serveur (HTTP 502). Veuillez réessayer.");
    assert.equal(errorText(await refusal(refused(422, { detail: "Your message is too long." })), t), "Your message is too long.");
    assert.equal(errorText(visible(new TypeError("Failed to fetch")), translator("ar")), CATALOGS.ar.unreachable);
  });
});
