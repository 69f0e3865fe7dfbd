// The owner's console: sign in, then today's figures, 30 days of charts, leads, answers to fix, conversations.
// Everything a visitor wrote is put on the page with textContent, never as HTML.
import { loadAnswers, startAnswers } from "./answers.js";
import { ApiError, getJson, token } from "./api.js";
import { barChart } from "./chart.js";
import { element } from "./dom.js";
import { formatCompact, formatNumber, formatTime, formatUsd, shortDate } from "./format.js";
import { loadRetention, startPrivacy } from "./privacy.js";

const $ = (id) => document.getElementById(id);
const PAGE_SIZE = 10;
let cursors = [""]; // the cursor of each conversations page seen, for "Newer"

function showError(id, error) {
  const box = $(id);
  box.textContent = error.message;
  box.hidden = false;
}

function signedOut(message) {
  token.clear();
  $("console").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  if (message) showError("sign-in-error", { message });
}

async function load() {
  $("sign-in").hidden = true;
  $("sign-out").hidden = false;
  $("console").hidden = false;
  $("console-error").hidden = true;
  try {
    // one request first: a wrong token then costs one attempt of ADMIN_AUTH_LIMIT, not one per section
    await loadUsage();
    await Promise.all([
      loadLeads(),
      loadAnswers(openTranscript),
      loadConversations(cursors[cursors.length - 1]),
      loadRetention(),
      loadKept(),
    ]);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 429)) {
      signedOut(error.message);
    } else {
      showError("console-error", error);
    }
  }
}

async function loadUsage() {
  const usage = await getJson("usage", { days: 30 });
  const today = usage.days[usage.days.length - 1];
  $("today-date").textContent = today.date;
  const cards = $("today");
  cards.replaceChildren();
  for (const [label, value] of [
    ["Turns", formatNumber(today.turns)],
    ["Visitors", formatNumber(today.visitors)],
    ["Tokens", formatNumber(today.tokens)],
    ["Cost", formatUsd(today.cost_usd)],
  ]) {
    const card = element("div");
    card.append(element("dt", label), element("dd", value));
    cards.append(card);
  }
  drawBudget(usage.budget);
  const labels = usage.days.map((day) => shortDate(day.date));
  const charts = $("charts");
  charts.replaceChildren();
  for (const [title, key, format] of [
    ["Turns", "turns", formatNumber],
    ["Visitors", "visitors", formatNumber],
    ["Tokens", "tokens", formatCompact],
    ["Cost (USD)", "cost_usd", formatUsd],
  ]) {
    const box = element("figure", undefined, "chart");
    box.dataset.metric = key;
    box.append(element("h3", title));
    box.append(barChart({ labels, values: usage.days.map((day) => day[key]), format, title }));
    charts.append(box);
  }
}

function drawBudget(budget) {
  const box = $("budget");
  box.replaceChildren();
  if (budget.daily_usd === null) {
    box.append(element("p", "No daily budget set (DAILY_BUDGET_USD).", "muted"));
  } else {
    const used = Math.min(budget.used_fraction, 1);
    box.append(
      element("p", `Budget used today: ${formatUsd(budget.spent_today_usd)} of ${formatUsd(budget.daily_usd)}` +
        ` (${Math.round(budget.used_fraction * 100)}%)`),
    );
    const bar = element("progress");
    bar.max = 1;
    bar.value = used;
    bar.setAttribute("aria-label", "Daily budget used");
    box.append(bar);
  }
  if (budget.visitor_daily_tokens !== null) {
    box.append(element("p", `Each visitor may use ${formatNumber(budget.visitor_daily_tokens)} tokens a day.`, "muted"));
  }
}

async function loadLeads() {
  const { leads } = await getJson("leads", { count: 50 });
  const list = $("leads");
  list.replaceChildren();
  $("leads-empty").hidden = leads.length > 0;
  for (const lead of leads) {
    const item = element("li");
    item.append(element("span", lead.kind === "contact" ? "contact" : "question", "tag"));
    if (lead.kind === "contact") {
      const who = lead.name ? `${lead.name} <${lead.email}>` : lead.email;
      item.append(element("strong", who));
      if (lead.notes) item.append(element("span", " — " + lead.notes));
    } else {
      item.append(element("strong", lead.question));
    }
    item.append(element("div", formatTime(lead.created_at), "muted"));
    if (lead.session_id) {
      const open = element("button", "Open conversation");
      open.type = "button";
      open.addEventListener("click", () => openTranscript(lead.session_id));
      item.append(open);
    }
    list.append(item);
  }
}

async function loadConversations(cursor) {
  const page = await getJson("conversations", { cursor, count: PAGE_SIZE });
  const list = $("conversations");
  list.replaceChildren();
  if (page.conversations.length === 0) list.append(element("li", "No live conversations.", "muted"));
  for (const conversation of page.conversations) {
    const item = element("li");
    const open = element("button");
    open.type = "button";
    open.dataset.sessionId = conversation.session_id;
    open.append(
      element("strong", formatTime(conversation.last_activity)),
      element("span", ` · ${conversation.message_count} messages · visitor ${conversation.visitor}`, "muted"),
    );
    open.addEventListener("click", () => openTranscript(conversation.session_id));
    item.append(open);
    list.append(item);
  }
  $("older").disabled = !page.next_cursor;
  $("older").dataset.cursor = page.next_cursor;
  $("newer").disabled = cursors.length <= 1;
}

// Conversations kept for review (TRANSCRIPT_RETENTION_DAYS), their sessions expired or not.
async function loadKept() {
  const { transcripts } = await getJson("transcripts", { count: 50 });
  const list = $("kept");
  list.replaceChildren();
  if (transcripts.length === 0) list.append(element("li", "None kept.", "muted"));
  for (const kept of transcripts) {
    const open = element("button");
    open.type = "button";
    open.dataset.sessionId = kept.session_id;
    open.append(
      element("strong", formatTime(kept.last_activity)),
      element("span", ` · ${kept.message_count} messages · visitor ${kept.visitor} · kept until ${formatTime(kept.expires_at)}`, "muted"),
    );
    open.addEventListener("click", () => openTranscript(kept.session_id));
    const item = element("li");
    item.append(open);
    list.append(item);
  }
}

async function openTranscript(sessionId) {
  try {
    const conversation = await getJson(`conversations/${encodeURIComponent(sessionId)}`);
    $("transcript-title").textContent = `Conversation of ${formatTime(conversation.created_at)}`;
    const messages = $("messages");
    messages.replaceChildren();
    for (const message of conversation.messages) {
      const item = element("li");
      item.dataset.role = message.role;
      const who = message.role === "tool" ? `tool ${message.name || ""}` : message.role;
      item.append(element("span", who, "role"));
      const calls = (message.tool_calls || []).map((call) => `${call.function.name}(${call.function.arguments})`);
      item.append(element("span", message.content || (calls.length ? "calls " + calls.join(", ") : "")));
      messages.append(item);
    }
    $("transcript").hidden = false;
    $("transcript").scrollIntoView({ block: "nearest" });
  } catch (error) {
    showError("console-error", error);
  }
}

function start() {
  $("sign-in").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("sign-in-error").hidden = true;
    token.set($("token").value.trim());
    $("token").value = "";
    await load();
  });
  $("sign-out").addEventListener("click", () => signedOut());
  startAnswers();
  startPrivacy();
  $("older").addEventListener("click", async () => {
    cursors.push($("older").dataset.cursor);
    await loadConversations(cursors[cursors.length - 1]).catch((error) => showError("console-error", error));
  });
  $("newer").addEventListener("click", async () => {
    cursors.pop();
    await loadConversations(cursors[cursors.length - 1]).catch((error) => showError("console-error", error));
  });
  $("transcript-close").addEventListener("click", () => {
    $("transcript").hidden = true;
  });
  if (token.get()) load();
}

start();
