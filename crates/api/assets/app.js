// Traceline's one script. Every page works without it for reading; it adds what needs a script: forms that
// call the JSON API with the sign-in cookie, copying keys, sorting the cohort table and picking two rows of it to
// compare, and on the session view loading more of the timeline, deep links beyond its first page, the live
// tail and the keyboard. Nothing here builds markup from data: timeline events arrive as server-rendered,
// escaped HTML, and the few elements made here get their text through textContent.

const root = document.documentElement;
root.classList.remove("no-js");
root.classList.add("js");

/** Calls the API; resolves to the parsed JSON body, or throws an Error carrying the API's message. */
async function callApi(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (response.status === 401) {
    window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
    throw new Error("Your sign-in has ended.");
  }
  if (!response.ok) {
    const details = (data && data.details || []).map((d) => (d.path ? d.path + ": " : "") + d.message);
    throw new Error([(data && data.error) || "The request failed (" + response.status + ").", ...details].join(" — "));
  }
  return data;
}

/** The JSON a form stands for: fields by name, typed by data-type (int, lines); checkboxes of one name make a list. */
function encodeFields(form) {
  const body = {};
  for (const field of form.elements) {
    if (!field.name || field.disabled) continue;
    if (field.type === "checkbox") {
      if (!Array.isArray(body[field.name])) body[field.name] = [];
      if (field.checked) body[field.name].push(field.value);
      continue;
    }
    if (field.type === "radio" && !field.checked) continue;
    const value = field.value.trim();
    if (value === "") {
      if (field.dataset.empty === "null") body[field.name] = null;
      continue;
    }
    switch (field.dataset.type) {
      case "int": body[field.name] = Number(value); break;
      case "lines": body[field.name] = value.split("\n").map((line) => line.trim()).filter(Boolean); break;
      default: body[field.name] = field.value;
    }
  }
  return body;
}

/** The rubric form: one {dimension, score, notes} per dimension that has a score. */
function encodeScores(form) {
  return [...form.querySelectorAll("[data-dimension]")].flatMap((set) => {
    const checked = set.querySelector("input[type=radio]:checked");
    if (!checked) return [];
    const notes = set.querySelector("textarea").value.trim();
    return [{ dimension: set.dataset.dimension, score: Number(checked.value), notes: notes || null }];
  });
}

/** `template` with each {/json/pointer} replaced by that value of `data`, passed through `encode`. */
function fill(template, data, encode) {
  return template.replace(/\{(\/[^}]*)\}/g, (_, pointer) =>
    encode(pointer.split("/").slice(1).reduce((value, key) => (value == null ? value : value[key]), data)));
}

/** What to do after a form succeeded: reload, go to a URL filled from the answer, reveal a secret, or say so. */
function settle(form, data) {
  const then = form.dataset.then || "reload";
  if (then === "reload") return window.location.reload();
  if (then.startsWith("go:")) return window.location.assign(fill(then.slice(3), data, encodeURIComponent));
  if (then.startsWith("secret:")) {
    const box = form.querySelector("[data-secret]");
    box.querySelector("[data-secret-value]").textContent = data[then.slice(7)] || "(none: the password you chose)";
    box.hidden = false;
    form.querySelectorAll("input:not([type=checkbox]), textarea").forEach((field) => { field.value = ""; });
    return;
  }
  if (then.startsWith("done:")) {
    const notice = form.querySelector("[role=status]");
    notice.textContent = fill(then.slice(5), data, String);
    notice.hidden = false;
    form.reset();
  }
}

function showProblem(container, error) {
  const alert = container.querySelector("[role=alert]");
  if (alert) {
    alert.textContent = error.message;
    alert.hidden = false;
  } else {
    window.alert(error.message);
  }
}

document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-api]");
  if (!form) return;
  event.preventDefault();
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
  let [method, path] = form.dataset.api.split(" ");
  let body = form.dataset.encode === "scores" ? encodeScores(form) : encodeFields(form);
  if (form.dataset.encode === "query") {
    // Routes that take their input in the query string (DELETE /v1/candidates?email=).
    path += "?" + new URLSearchParams(body).toString();
    body = undefined;
  }
  const button = form.querySelector("[type=submit]");
  const alert = form.querySelector("[role=alert]");
  if (alert) alert.hidden = true;
  button.disabled = true;
  try {
    settle(form, await callApi(method, path, body));
  } catch (error) {
    showProblem(form, error);
  } finally {
    button.disabled = false;
  }
});

document.addEventListener("click", async (event) => {
  const action = event.target.closest("button[data-api]");
  if (action) {
    if (action.dataset.confirm && !window.confirm(action.dataset.confirm)) return;
    const [method, path] = action.dataset.api.split(" ");
    action.disabled = true;
    try {
      await callApi(method, path, action.dataset.body ? JSON.parse(action.dataset.body) : undefined);
      window.location.reload();
    } catch (error) {
      action.disabled = false;
      showProblem(action.closest("section") || document.body, error);
    }
    return;
  }
  const copy = event.target.closest("button[data-copy]");
  if (copy) {
    await navigator.clipboard.writeText(copy.dataset.copy);
    const label = copy.textContent;
    copy.textContent = "Copied";
    setTimeout(() => { copy.textContent = label; }, 1500);
    return;
  }
  const more = event.target.closest("a[data-more-link]");
  if (more && timeline) {
    event.preventDefault();
    await loadMore(more);
    return;
  }
  if (event.target.closest("[data-keys-help]")) {
    toggleHelp();
    return;
  }
  if (event.target.closest("[data-print]")) {
    window.print();
    return;
  }
  const sort = event.target.closest("button.sort");
  if (sort) sortTable(sort);
});

/** Sorts a table's body by the clicked column; clicking again reverses. Empty values go last. */
function sortTable(button) {
  const cell = button.closest("th");
  const table = button.closest("table");
  const column = [...cell.parentElement.children].indexOf(cell);
  const ascending = cell.getAttribute("aria-sort") !== "ascending";
  table.querySelectorAll("th[aria-sort]").forEach((th) => th.removeAttribute("aria-sort"));
  cell.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  const numeric = button.dataset.sort === "number";
  const rows = [...table.tBodies[0].rows];
  const key = (row) => row.cells[column].dataset.value ?? row.cells[column].textContent;
  rows.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    if (x === "" || y === "") return (x === "") - (y === "");
    const order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
    return ascending ? order : -order;
  });
  table.tBodies[0].append(...rows);
}


/* ---- Comparing two sessions of the cohort table ---- */

const picker = document.querySelector("form[data-compare]");
if (picker) {
  const boxes = () => [...picker.querySelectorAll("input[name=pick]")];
  const picked = () => boxes().filter((box) => box.checked);
  const status = picker.querySelector("[data-compare-status]");
  const button = picker.querySelector("[type=submit]");
  const update = () => {
    const count = picked().length;
    button.disabled = count !== 2;
    status.textContent = count === 2 ? "Two sessions picked." : "Pick two sessions to compare (" + count + " picked).";
  };
  picker.addEventListener("change", update);
  picker.addEventListener("submit", (event) => {
    event.preventDefault();
    const [a, b] = picked().map((box) => box.value);
    if (a && b) window.location.assign("/compare?a=" + encodeURIComponent(a) + "&b=" + encodeURIComponent(b));
  });
  update();
}

/* ---- The session view's timeline: more pages, deep links, the live tail, the keyboard ---- */

const timeline = document.querySelector("ol[data-timeline]");
const jumpStatus = document.querySelector("[data-jump-status]");
const liveStatus = document.querySelector("[data-live-status]");
const help = document.getElementById("keys-help");
/** How often the live tail asks for new events: well within the 5 seconds UI.md allows. */
const LIVE_EVERY_MS = 2500;
const EVENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The URL of a fragment of this timeline, its filter carried on unless `params` names another. */
function fragmentUrl(params) {
  const url = new URL("/sessions/" + encodeURIComponent(timeline.dataset.session) + "/timeline", location.origin);
  if (timeline.dataset.only) url.searchParams.set("only", timeline.dataset.only);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url;
}

/** Fetches a fragment: its list items, and whether the session has ended. Throws with the status on failure. */
async function fetchFragment(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) {
    const error = new Error("The server answered " + response.status + ".");
    error.status = response.status;
    throw error;
  }
  const page = document.createElement("template");
  page.innerHTML = await response.text();
  return { items: page.content, ended: response.headers.get("traceline-session-status") === "ended" };
}

const loadedEvents = () => [...timeline.querySelectorAll("li.event")];
const eventId = (item) => item.id.slice("evt-".length);

function say(region, text) {
  if (!region) return;
  region.textContent = text;
  region.hidden = false;
}

/** Replaces a "load more" item with the page it stands for. */
async function loadMore(link) {
  if (link.getAttribute("aria-busy") === "true") return;
  link.setAttribute("aria-busy", "true");
  try {
    const { items } = await fetchFragment(link.href);
    link.closest("li").replaceWith(items);
  } catch (error) {
    link.removeAttribute("aria-busy");
    link.textContent = "Could not load more events (" + (error.status || "offline") + "); try again";
  }
}

/** The event being read: the focused one, else the one j/k last moved to. */
let current = null;

function focusEvent(item) {
  if (current) current.classList.remove("current");
  current = item;
  item.classList.add("current");
  item.tabIndex = -1;
  item.focus({ preventScroll: true });
  item.scrollIntoView({ block: "center" });
}

/** A link to #evt-… scrolls to and marks that event; one beyond what is loaded is fetched with its page. */
async function showTarget() {
  document.querySelectorAll(".event.targeted").forEach((item) => item.classList.remove("targeted"));
  const id = decodeURIComponent(location.hash.slice(1));
  if (!id.startsWith("evt-")) return;
  let target = document.getElementById(id);
  if (!target && timeline && EVENT_ID.test(id.slice(4))) target = await loadAround(id.slice(4));
  if (target && target.classList.contains("event")) {
    target.classList.add("targeted");
    focusEvent(target);
  }
}

/** Loads the page that starts at an event not on the page yet, after a gap that loads the events before it. */
async function loadAround(id) {
  let fragment;
  try {
    fragment = await fetchFragment(fragmentUrl({ at: id }));
  } catch (error) {
    say(jumpStatus, error.status === 400 ? "This session has no such event." : error.message);
    return null;
  }
  const first = fragment.items.querySelector("li.event");
  if (!first || eventId(first) !== id) {
    // The filter hides it: say so, and where it can be seen.
    jumpStatus.textContent = "That event is not among the events shown. ";
    const whole = document.createElement("a");
    whole.href = "/sessions/" + encodeURIComponent(timeline.dataset.session) + "#evt-" + id;
    whole.textContent = "Show it in the whole timeline";
    jumpStatus.append(whole);
    jumpStatus.hidden = false;
    return null;
  }
  const last = loadedEvents().pop();
  timeline.querySelectorAll("li[data-more]").forEach((item) => item.remove());
  if (last) {
    const gap = document.createElement("li");
    gap.className = "more";
    gap.dataset.more = "";
    const link = document.createElement("a");
    link.className = "button";
    link.dataset.moreLink = "";
    link.href = fragmentUrl({ after: eventId(last), before: id }).href;
    link.textContent = "Load the events before this one";
    gap.append(link);
    timeline.append(gap);
  }
  timeline.append(fragment.items);
  document.querySelector("[data-no-events]")?.remove();
  return document.getElementById("evt-" + id);
}

/** j / k: the next or previous event, loading the next page at the end. */
async function step(direction) {
  let events = loadedEvents();
  if (!events.length) return;
  const at = current ? events.indexOf(current) : -1;
  let next = at === -1 ? (direction > 0 ? 0 : -1) : at + direction;
  if (next >= events.length) {
    const more = timeline.querySelector("li[data-more]:last-child a[data-more-link]");
    if (!more) return;
    await loadMore(more);
    events = loadedEvents();
  }
  if (next >= 0 && next < events.length) focusEvent(events[next]);
}

/** f / d: the next failure or decision after the event being read, asking the server past what is loaded. */
async function seek(set, selector, noun) {
  const events = loadedEvents();
  const at = current ? events.indexOf(current) : -1;
  const near = events.slice(at + 1).find((item) => item.matches(selector));
  if (near) return focusEvent(near);
  const params = { only: set, limit: 1 };
  if (current) params.after = eventId(current);
  try {
    const { items } = await fetchFragment(fragmentUrl(params));
    const found = items.querySelector("li.event");
    if (!found) return say(jumpStatus, "No " + noun + " after this point.");
    const loaded = document.getElementById(found.id);
    if (loaded) return focusEvent(loaded);
    location.hash = "#" + found.id;
  } catch (error) {
    say(jumpStatus, error.message);
  }
}

function toggleHelp() {
  if (!help) return;
  if (help.open) help.close();
  else help.showModal();
}

document.addEventListener("keydown", (event) => {
  if (!timeline || event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  // Typing in a field is typing; in the open list of keys, only ? (and Esc, the dialog's own) mean anything.
  if (event.target.closest("input, textarea, select, [contenteditable]")) return;
  if (event.key !== "?" && event.target.closest("dialog")) return;
  const keys = {
    j: () => step(1),
    k: () => step(-1),
    f: () => seek("failures", ".event.failed", "failure"),
    d: () => seek("decisions", "[data-kind=decision_event]", "decision"),
    "?": toggleHelp,
  };
  const action = keys[event.key];
  if (!action) return;
  event.preventDefault();
  action();
});

document.addEventListener("focusin", (event) => {
  const item = event.target.closest && event.target.closest("li.event");
  if (item && item !== current) {
    if (current) current.classList.remove("current");
    current = item;
    item.classList.add("current");
  }
});

/** While the session is in progress, new events are appended as they arrive; polling stops when it ends. */
function startLiveTail() {
  if (!timeline || !("live" in timeline.dataset)) return;
  let busy = false;
  const timer = setInterval(async () => {
    // Not at the end yet: the next page will bring the new events.
    if (busy || document.hidden || timeline.querySelector("li[data-more]")) return;
    busy = true;
    const last = loadedEvents().pop();
    try {
      const { items, ended } = await fetchFragment(fragmentUrl(last ? { after: eventId(last) } : {}));
      const count = items.querySelectorAll("li.event").length;
      if (count) {
        timeline.append(items);
        document.querySelector("[data-no-events]")?.remove();
        say(liveStatus, count === 1 ? "1 new event." : count + " new events.");
      }
      if (ended) {
        clearInterval(timer);
        const badge = document.querySelector("[data-session-status]");
        if (badge) {
          badge.textContent = "ended";
          badge.classList.replace("session-active", "session-ended");
        }
        say(liveStatus, "The session has ended.");
      }
    } catch (error) {
      // Gone (deleted) or no longer ours: stop. Anything else may pass: try again next time.
      if (error.status === 404 || error.status === 403) clearInterval(timer);
    } finally {
      busy = false;
    }
  }, LIVE_EVERY_MS);
}

window.addEventListener("hashchange", showTarget);
showTarget();
startLiveTail();
