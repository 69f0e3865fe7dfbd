// The console's privacy panel: how long each kind of visitor data is kept, and a data-subject
// request (find, download as one JSON file, erase) by session id, visitor or email address.
import { getJson, sendJson } from "./api.js";
import { element } from "./dom.js";

const $ = (id) => document.getElementById(id);

/** The retention periods (GET /admin/api/privacy/retention). */
export async function loadRetention() {
  const periods = await getJson("privacy/retention");
  const list = $("retention");
  list.replaceChildren();
  for (const [label, value] of [
    ["Open conversations (the visitor continues)", `${periods.session_hours} hours after the last message`],
    ["Transcripts for your review", `${periods.transcript_days} days after the last message`],
    ["Ratings and their comments", `${periods.feedback_days} days, with their transcript`],
    ["Leads and unanswered questions", `${periods.leads_days} days`],
    ["Usage per visitor and conversation", `${periods.usage_days} days`],
  ]) {
    list.append(element("dt", label), element("dd", value));
  }
}

function request() {
  const kind = $("subject-kind").value;
  return { [kind]: $("subject-value").value.trim() };
}

function status(text) {
  $("subject-status").textContent = text;
}

function summary(document) {
  const found = $("subject-found");
  found.replaceChildren();
  for (const [label, items] of [
    ["Conversations", document.conversations],
    ["Leads and questions", document.leads],
    ["Ratings", document.feedback],
    ["Usage rows", document.usage],
  ]) {
    found.append(element("dt", label), element("dd", String(items.length)));
  }
  found.hidden = false;
}

async function find(event) {
  event.preventDefault();
  status("Looking…");
  try {
    const document = await getJson("privacy/subject", request());
    summary(document);
    $("subject-download").disabled = false;
    $("subject-erase").disabled = false;
    status("Found. Download it to send to the person, or erase it.");
  } catch (error) {
    status(error.message);
  }
}

async function download() {
  try {
    const document = await getJson("privacy/subject", request());
    const url = URL.createObjectURL(new Blob([JSON.stringify(document, null, 2)], { type: "application/json" }));
    const link = element("a");
    link.href = url;
    link.download = "data-subject-export.json";
    link.hidden = true;
    window.document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    status("Downloaded.");
  } catch (error) {
    status(error.message);
  }
}

async function erase() {
  const asked = request();
  if (!window.confirm(`Erase everything kept about ${Object.values(asked)[0]}? This cannot be undone.`)) return;
  try {
    const query = new URLSearchParams(asked).toString();
    const erased = await sendJson("DELETE", `privacy/subject?${query}`);
    $("subject-found").hidden = true;
    $("subject-download").disabled = true;
    $("subject-erase").disabled = true;
    status(`Erased: ${erased.conversations} conversations, ${erased.leads} leads, ${erased.feedback} ratings.`);
  } catch (error) {
    status(error.message);
  }
}

/** Wire the request form once. */
export function startPrivacy() {
  $("subject-form").addEventListener("submit", find);
  $("subject-download").addEventListener("click", download);
  $("subject-erase").addEventListener("click", erase);
  $("subject-value").addEventListener("input", () => {
    $("subject-download").disabled = true;
    $("subject-erase").disabled = true;
  });
}
