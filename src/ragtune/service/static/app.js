// ragtune web UI: plain JS, no build step. Every call carries the signed-in key, which is
// kept in localStorage only once the server has accepted it.
"use strict";

const $ = (id) => document.getElementById(id);
const KEY = "ragtune-key";
const NO_KEY_HINT = "enter an API key to see the models";
// `controller` aborts every request of the current user when the screen is cleared, so a
// stream still running for the previous key cannot write into the next user's screen.
const state = {
  key: localStorage.getItem(KEY) || "", answer: null, rating: null,
  controller: new AbortController(), reportUrl: null,
};

class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function api(path, options = {}, key = state.key) {
  const response = await fetch(path, {
    signal: state.controller.signal, ...options,
    headers: { Authorization: `Bearer ${key}`, ...options.headers },
  });
  if (!response.ok) {
    let message = `${response.status}`;
    try {
      const body = await response.json();
      message = body.error.message + (body.error.hint ? ` (${body.error.hint})` : "");
    } catch (_) { /* not JSON */ }
    throw new ApiError(message, response.status);
  }
  return response;
}

// True for a request cut short by clearScreen(): its result belongs to a screen now gone.
const aborted = (error) => error && error.name === "AbortError";

function showError(error) {
  if (aborted(error)) return;
  $("error").textContent = error ? String(error.message || error) : "";
}

function setModels(ids) {
  const options = ids === null ? [new Option(NO_KEY_HINT, "")]
    : ids.length ? ids.map((id) => new Option(id, id)) : [new Option("no models served", "")];
  $("model").replaceChildren(...options);
  $("model").disabled = !ids || !ids.length;
  $("ask").disabled = !ids || !ids.length;
}

// Removes everything that belongs to the user on screen: answer, citations, passage,
// feedback, typed question and upload fields, status lines, models; aborts their requests.
function clearScreen() {
  state.controller.abort();
  state.controller = new AbortController();
  state.answer = null;
  state.rating = null;
  if (state.reportUrl) URL.revokeObjectURL(state.reportUrl);
  state.reportUrl = null;
  for (const id of ["answer", "citations", "passage", "passage-title", "feedback-status",
    "upload-status", "error"]) $(id).replaceChildren();
  for (const id of ["key", "question", "comment", "upload-file", "upload-id", "upload-groups"]) {
    $(id).value = "";
  }
  $("answer").classList.remove("streaming");
  $("feedback").hidden = true;
  $("viewer").hidden = true;
  for (const b of [$("up"), $("down")]) b.classList.remove("chosen");
  setModels(null);
  showSignedOut("not signed in");
}

function showSignedOut(message) {
  $("whoami").textContent = message;
  $("sign-out").hidden = true;
  $("upload-btn").disabled = true;
}

// Checks `key` against the server (its identity and models); only then makes it current.
async function signIn(key) {
  const me = await (await api("/v1/me", {}, key)).json();
  const models = await (await api("/v1/models", {}, key)).json();
  state.key = key;
  $("whoami").textContent = `${me.name} · groups: ${me.groups.join(", ") || "none"}` +
    (me.admin ? " · admin" : "");
  $("sign-out").hidden = false;
  $("upload-btn").disabled = false;
  setModels(models.data.map((m) => m.id));
  return me;
}

// A key typed here may be another person's: the screen is cleared first, whatever the
// outcome. A refused key is never stored; the key that worked before stays stored and in
// use (it grants nothing the screen did not already grant, and a typo does not sign its
// owner out); the error says whose key that is, and Sign out forgets it.
async function useKey(event) {
  event.preventDefault();
  const candidate = $("key").value.trim();
  if (!candidate) {
    showError("enter an API key");
    return;
  }
  const previous = state.key;
  clearScreen();
  $("whoami").textContent = "checking the key…";
  try {
    await signIn(candidate);
    localStorage.setItem(KEY, candidate);
  } catch (error) {
    if (aborted(error)) return;
    const refused = error.status ? `key refused: ${error.message}; it was not saved`
      : `could not check the key (${error.message}); it was not saved`;
    if (previous && await restore(previous, refused)) return;
    showSignedOut("not signed in");
    showError(refused);
  }
}

// Signs the previous key in again after a refused one; false if it no longer works.
async function restore(previous, refused) {
  try {
    const me = await signIn(previous);
    showError(`${refused}. Still signed in as ${me.name}: Sign out to forget that key.`);
    return true;
  } catch (error) {
    if (error.status === 401) forgetKey();  // revoked meanwhile
    return aborted(error);  // aborted: a newer key or Sign out owns the screen now
  }
}

function forgetKey() {
  localStorage.removeItem(KEY);
  state.key = "";
}

function signOut() {
  forgetKey();
  clearScreen();
  showSignedOut("signed out");
}

// The key stored by an earlier visit: used if the server still accepts it, forgotten if the
// server refuses it (revoked); kept when the server cannot be reached.
async function resume() {
  setModels(null);
  showSignedOut("not signed in");
  if (!state.key) return;
  try {
    await signIn(state.key);
  } catch (error) {
    if (error.status === 401) {
      forgetKey();
      showError(`the saved key was refused and forgotten: ${error.message}`);
    } else {
      showError(error);
    }
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
  const { signal } = state.controller;
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
    if (!signal.aborted) {  // else the screen was cleared and set for the next user
      $("ask").disabled = false;
      $("answer").classList.remove("streaming");
    }
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
    if (!aborted(error)) $("feedback-status").textContent = `not stored: ${error.message}`;
  }
}

async function upload(event) {
  event.preventDefault();
  const file = $("upload-file").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  if ($("upload-id").value.trim()) form.append("id", $("upload-id").value.trim());
  // Left empty, no field is sent: a replaced document keeps its groups (a new one is
  // public). Sending an empty field would publish a restricted document by accident.
  if ($("upload-groups").value.trim()) form.append("groups", $("upload-groups").value.trim());
  $("upload-status").textContent = "uploading…";
  try {
    const result = await (await api("/v1/documents", { method: "POST", body: form })).json();
    const access = result.groups && result.groups.length ? `groups: ${result.groups.join(", ")}` : "public";
    $("upload-status").textContent = `${result.id}: ${result.status}, ${result.chunks} chunks, ${access}`;
  } catch (error) {
    if (!aborted(error)) $("upload-status").textContent = `refused: ${error.message}`;
  }
}

async function openReport(event) {
  event.preventDefault();
  try {
    const blob = await (await api("/v1/report")).blob();
    if (state.reportUrl) URL.revokeObjectURL(state.reportUrl);
    state.reportUrl = URL.createObjectURL(blob);  // revoked when the screen is cleared
    window.open(state.reportUrl, "_blank");
  } catch (error) {
    showError(error);
  }
}

$("key-form").addEventListener("submit", useKey);
$("sign-out").addEventListener("click", signOut);
$("ask-form").addEventListener("submit", ask);
$("up").addEventListener("click", () => rate("up"));
$("down").addEventListener("click", () => rate("down"));
$("send-feedback").addEventListener("click", sendFeedback);
$("upload-form").addEventListener("submit", upload);
$("report-link").addEventListener("click", openReport);
resume();
