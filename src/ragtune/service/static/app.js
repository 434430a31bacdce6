// ragtune web UI: plain JS, no build step. Every call carries the key from localStorage.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { key: localStorage.getItem("ragtune-key") || "", answer: null, rating: null };

function headers(extra = {}) {
  return { Authorization: `Bearer ${state.key}`, ...extra };
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.headers) });
  if (!response.ok) {
    let message = `${response.status}`;
    try {
      const body = await response.json();
      message = body.error.message + (body.error.hint ? ` (${body.error.hint})` : "");
    } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}

function showError(error) {
  $("error").textContent = error ? String(error.message || error) : "";
}

async function useKey(event) {
  if (event) event.preventDefault();
  state.key = $("key").value.trim() || state.key;
  localStorage.setItem("ragtune-key", state.key);
  $("key").value = "";
  try {
    const me = await (await api("/v1/me")).json();
    $("whoami").textContent = `${me.name} · groups: ${me.groups.join(", ") || "none"}` +
      (me.admin ? " · admin" : "");
    const models = await (await api("/v1/models")).json();
    $("model").replaceChildren(...models.data.map((m) => new Option(m.id, m.id)));
    showError(null);
  } catch (error) {
    $("whoami").textContent = "no valid key";
    showError(error);
  }
}

// Reads server-sent events from a fetch response: calls onEvent(parsed JSON) per event.
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      for (const line of block.split("\n")) {
        if (line.startsWith("data: ")) onEvent(JSON.parse(line.slice(6)));
      }
    }
  }
}

async function ask(event) {
  event.preventDefault();
  const question = $("question").value.trim();
  if (!question) return;
  showError(null);
  state.answer = null;
  $("answer").textContent = "";
  $("answer").classList.add("streaming");
  $("citations").replaceChildren();
  $("feedback").hidden = true;
  $("ask").disabled = true;
  try {
    const response = await api("/v1/ask", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ question, model: $("model").value || null, stream: true }),
    });
    await readEvents(response, (data) => {
      if (data.type === "token") $("answer").append(data.text);
      else if (data.type === "answer") showAnswer(data.answer);
      else if (data.type === "error") showError(data.error.message);
    });
  } catch (error) {
    showError(error);
  } finally {
    $("ask").disabled = false;
    $("answer").classList.remove("streaming");
  }
}

function showAnswer(answer) {
  state.answer = answer;
  state.rating = null;
  const byMarker = new Map(answer.citations.map((c) => [c.marker, c]));
  // The text with each [n] that has a source turned into a link that opens the passage.
  const parts = answer.text.split(/(\[\d+\])/);
  $("answer").replaceChildren(...parts.map((part) => {
    const match = /^\[(\d+)\]$/.exec(part);
    const citation = match && byMarker.get(Number(match[1]));
    if (!citation) return document.createTextNode(part);
    const link = document.createElement("a");
    link.className = "marker";
    link.textContent = part;
    link.onclick = () => openCitation(citation);
    return link;
  }));
  $("citations").replaceChildren(...answer.citations.map((c) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.className = "citation";
    button.type = "button";
    button.textContent = `${c.marker ? `[${c.marker}] ` : ""}${c.title || c.doc_id} — ${c.section}`;
    button.onclick = () => openCitation(c);
    item.append(button, c.inferred ? " (inferred)" : "");
    return item;
  }));
  for (const b of [$("up"), $("down")]) b.classList.remove("chosen");
  $("feedback-status").textContent = "";
  $("feedback").hidden = false;
}

async function openCitation(citation) {
  try {
    const doc = await (await api(`/v1/documents/${citation.doc_id.split("/").map(encodeURIComponent).join("/")}`)).json();
    const mark = document.createElement("mark");
    mark.textContent = doc.text.slice(citation.start, citation.end);
    $("passage").replaceChildren(doc.text.slice(0, citation.start), mark, doc.text.slice(citation.end));
    $("passage-title").textContent = `${doc.title} (${doc.id})`;
    $("viewer").hidden = false;
    mark.scrollIntoView({ block: "center" });
  } catch (error) {
    showError(error);
  }
}

function rate(rating) {
  state.rating = rating;
  $("up").classList.toggle("chosen", rating === "up");
  $("down").classList.toggle("chosen", rating === "down");
}

async function sendFeedback() {
  if (!state.answer || !state.rating) {
    $("feedback-status").textContent = "choose 👍 or 👎 first";
    return;
  }
  try {
    await api("/v1/feedback", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ answer_id: state.answer.id, rating: state.rating, comment: $("comment").value }),
    });
    $("feedback-status").textContent = "Thanks: feedback stored.";
  } catch (error) {
    $("feedback-status").textContent = `not stored: ${error.message}`;
  }
}

async function upload(event) {
  event.preventDefault();
  const file = $("upload-file").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  if ($("upload-id").value.trim()) form.append("id", $("upload-id").value.trim());
  form.append("groups", $("upload-groups").value);
  $("upload-status").textContent = "uploading…";
  try {
    const result = await (await api("/v1/documents", { method: "POST", body: form })).json();
    $("upload-status").textContent = `${result.id}: ${result.status}, ${result.chunks} chunks`;
  } catch (error) {
    $("upload-status").textContent = `refused: ${error.message}`;
  }
}

async function openReport(event) {
  event.preventDefault();
  try {
    const blob = await (await api("/v1/report")).blob();
    window.open(URL.createObjectURL(blob), "_blank");
  } catch (error) {
    showError(error);
  }
}

$("key-form").addEventListener("submit", useKey);
$("ask-form").addEventListener("submit", ask);
$("up").addEventListener("click", () => rate("up"));
$("down").addEventListener("click", () => rate("down"));
$("send-feedback").addEventListener("click", sendFeedback);
$("upload-form").addEventListener("submit", upload);
$("report-link").addEventListener("click", openReport);
if (state.key) useKey();
