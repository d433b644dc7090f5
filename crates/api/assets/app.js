// Traceline's one script. Every page works without it for reading; it adds what needs a script: forms that
// call the JSON API with the sign-in cookie, copying keys, loading more of a timeline, sorting the cohort table.
// Nothing here builds markup from data: new timeline events arrive as server-rendered, escaped HTML.

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
    if (value === "") continue;
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

/** What to do after a form succeeded: reload, go to a URL filled from the answer, reveal a secret, or say so. */
function settle(form, data) {
  const then = form.dataset.then || "reload";
  if (then === "reload") return window.location.reload();
  if (then.startsWith("go:")) {
    const url = then.slice(3).replace(/\{(\/[^}]*)\}/g, (_, pointer) =>
      encodeURIComponent(pointer.split("/").slice(1).reduce((value, key) => (value == null ? value : value[key]), data)));
    return window.location.assign(url);
  }
  if (then.startsWith("secret:")) {
    const box = form.querySelector("[data-secret]");
    box.querySelector("[data-secret-value]").textContent = data[then.slice(7)] || "(none: the password you chose)";
    box.hidden = false;
    form.querySelectorAll("input:not([type=checkbox]), textarea").forEach((field) => { field.value = ""; });
    return;
  }
  if (then.startsWith("done:")) {
    const notice = form.querySelector("[role=status]");
    notice.textContent = then.slice(5);
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
  const [method, path] = form.dataset.api.split(" ");
  const body = form.dataset.encode === "scores" ? encodeScores(form) : encodeFields(form);
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
  if (more) {
    event.preventDefault();
    more.setAttribute("aria-busy", "true");
    const response = await fetch(more.href, { credentials: "same-origin" });
    if (!response.ok) {
      more.removeAttribute("aria-busy");
      more.textContent = "Could not load more events (" + response.status + "); try again";
      return;
    }
    const page = document.createElement("template");
    page.innerHTML = await response.text();
    const item = more.closest("li");
    item.replaceWith(page.content);
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

/** A link to #evt-… marks that event, also after the page has loaded. */
function highlightTarget() {
  document.querySelectorAll(".event.targeted").forEach((el) => el.classList.remove("targeted"));
  const id = decodeURIComponent(location.hash.slice(1));
  const target = id && document.getElementById(id);
  if (target && target.classList.contains("event")) target.classList.add("targeted");
}
window.addEventListener("hashchange", highlightTarget);
highlightTarget();
