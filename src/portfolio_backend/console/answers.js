// Answers to fix: what visitors rated 👎 (with their conversation), questions the assistant could
// not answer, and the owner's own answers (knowledge that outranks a page for its question), with
// an editor to write, change and delete them. Visitor text goes on the page with textContent only.
import { getJson, sendJson } from "./api.js";
import { button, element } from "./dom.js";
import { formatTime } from "./format.js";

const $ = (id) => document.getElementById(id);

/** The editor, empty, or holding `answer` to change, or a question to answer. */
function edit({ answerId = "", question = "", answer = "" } = {}) {
  $("answer-id").value = answerId;
  $("answer-question").value = question;
  $("answer-text").value = answer;
  $("answer-save").textContent = answerId ? "Save changes" : "Save answer";
  $("answer-cancel").hidden = !answerId && !question;
  $("answer-status").textContent = "";
  const first = question ? $("answer-text") : $("answer-question");
  first.focus();
  first.scrollIntoView({ block: "nearest" });
}

function writeAnswerTo(question) {
  return button("Write the right answer", () => edit({ question }));
}

function showDisliked(ratings, openTranscript) {
  const list = $("disliked");
  list.replaceChildren();
  $("disliked-empty").hidden = ratings.length > 0;
  for (const rating of ratings) {
    const item = element("li");
    item.append(element("strong", rating.question || "(no question)"));
    item.append(element("div", rating.answer, "quoted"));
    if (rating.comment) item.append(element("div", "Visitor: " + rating.comment));
    item.append(element("div", formatTime(rating.created_at), "muted"));
    item.append(button("Open conversation", () => openTranscript(rating.session_id)), writeAnswerTo(rating.question));
    list.append(item);
  }
}

function showUnknown(leads) {
  const questions = leads.filter((lead) => lead.kind === "question" && lead.question);
  const list = $("unknown");
  list.replaceChildren();
  $("unknown-empty").hidden = questions.length > 0;
  for (const lead of questions) {
    const item = element("li");
    item.append(element("strong", lead.question), element("div", formatTime(lead.created_at), "muted"));
    item.append(writeAnswerTo(lead.question));
    list.append(item);
  }
}

function showOwnerAnswers(answers) {
  const list = $("owner-answers");
  list.replaceChildren();
  $("owner-answers-empty").hidden = answers.length > 0;
  for (const answer of answers) {
    const item = element("li");
    item.dataset.answerId = answer.answer_id;
    item.append(element("strong", answer.question), element("div", answer.answer, "quoted"));
    item.append(
      button("Edit", () => edit({ answerId: answer.answer_id, question: answer.question, answer: answer.answer })),
      button("Delete", () => remove(answer)),
    );
    list.append(item);
  }
}

async function refreshOwnerAnswers() {
  showOwnerAnswers((await getJson("answers")).answers);
}

async function remove(answer) {
  try {
    await sendJson("DELETE", `answers/${encodeURIComponent(answer.answer_id)}`);
    $("answer-status").textContent = `Deleted the answer to “${answer.question}”.`;
    await refreshOwnerAnswers();
  } catch (error) {
    $("answer-status").textContent = error.message;
  }
}

async function save(event) {
  event.preventDefault();
  const answerId = $("answer-id").value;
  const body = { question: $("answer-question").value, answer: $("answer-text").value };
  try {
    if (answerId) await sendJson("PUT", `answers/${encodeURIComponent(answerId)}`, body);
    else await sendJson("POST", "answers", body);
  } catch (error) {
    $("answer-status").textContent = error.message;
    return;
  }
  edit();
  $("answer-status").textContent = "Saved. The assistant uses it from the next question.";
  await refreshOwnerAnswers();
}

/** Load the section; `openTranscript(sessionId)` shows a conversation (console.js). */
export async function loadAnswers(openTranscript) {
  const [{ feedback }, { leads }, { answers }] = await Promise.all([
    getJson("feedback", { rating: "down", count: 50 }),
    getJson("leads", { count: 100 }),
    getJson("answers"),
  ]);
  showDisliked(feedback, openTranscript);
  showUnknown(leads);
  showOwnerAnswers(answers);
}

export function startAnswers() {
  $("answer-form").addEventListener("submit", save);
  $("answer-cancel").addEventListener("click", () => {
    edit();
    $("answer-cancel").hidden = true;
  });
}
