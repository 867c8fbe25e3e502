// Shared by every admin page, and loaded by each: the DOM builder `h`, the error banner and
// toast, filling a run's fields, the live event stream with its indicator, the "Run now" dialog,
// and the page's start-up (the sign-in form, ticking times). Formatting is in format.js, API
// calls in api.js, the admin token and `write` in auth.js. No framework, no build step.

import { ApiError, api, config, runHref } from "./api.js";
import { forgetToken, getToken, setToken, setUpSignIn, syncToken } from "./auth.js";
import { ago, duration, hoverTime, num, shortUrl, timeElement } from "./format.js";

// An element: h("td", { className: "num", "data-f": "x" }, "12"). Names with a dash (and
// role, scope) are attributes, others properties; text children stay text, never markup.
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.includes("-") || name === "role" || name === "scope") {
      el.setAttribute(name, value === true ? "" : String(value));
    } else {
      el[name] = value;
    }
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

// --- banner and toast ---------------------------------------------------------------------

let retryAction = null;

export function showError(message, retry, title = "Couldn’t reach the API.") {
  const banner = document.getElementById("error-banner");
  banner.querySelector("[data-error-title]").textContent = title;
  banner.querySelector("[data-error-text]").textContent = message;
  retryAction = retry;
  banner.hidden = false;
}

export function hideError() {
  document.getElementById("error-banner").hidden = true;
}

export function toast(parts) {
  const box = document.getElementById("toast");
  box.replaceChildren(...parts);
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 6000);
}

// --- a run's fields -----------------------------------------------------------------------

function setText(el, text, flash) {
  if (el.textContent === text) return;
  el.textContent = text;
  if (flash) {
    el.classList.remove("flash");
    void el.offsetWidth; // restart the animation
    el.classList.add("flash");
  }
}

const COUNTS = [
  "totalFetched", "totalImported", "newJobs", "updatedJobs", "unchangedJobs", "failedJobs", "expiredJobs",
];

// Fill every [data-f], [data-badge] and [data-progress] under `root` from an import log
// (templates/admin/macros.html renders the same elements on the server). Labels, badge classes
// and which statuses are final come from config.statuses (admin/rules.py).
export function fillRun(root, run, { flash = false } = {}) {
  const status = config.statuses[run.status];
  const f = (name) => root.querySelectorAll(`[data-f="${name}"]`);
  if (root.dataset.runId !== undefined) {
    root.dataset.runId = run.id;
    root.dataset.status = run.status;
    root.dataset.created = run.createdAt;
  }
  for (const a of f("fileName")) {
    a.href = runHref(run.id);
    a.title = run.fileName;
    a.textContent = config.feeds?.[run.fileName] || shortUrl(run.fileName);
  }
  for (const el of f("trigger")) el.textContent = run.trigger;
  for (const el of f("started")) el.replaceChildren(timeElement(run.startedAt || run.createdAt));
  for (const el of f("startedAt")) el.replaceChildren(timeElement(run.startedAt));
  for (const el of f("finishedAt")) el.replaceChildren(timeElement(run.finishedAt));
  const running = run.status === "running" && run.startedAt;
  for (const el of f("durationMs")) {
    if (running) el.dataset.since = run.startedAt;
    else delete el.dataset.since;
    el.textContent = running ? duration(Date.now() - Date.parse(run.startedAt)) : duration(run.durationMs);
  }
  for (const name of COUNTS) {
    if (run[name] === undefined) continue; // a payload without that count (older server)
    for (const el of f(name)) setText(el, num(run[name]), flash);
  }
  for (const el of f("failedJobs")) {
    el.classList.toggle("text-rose-700", run.failedJobs > 0);
    el.classList.toggle("font-semibold", run.failedJobs > 0);
  }
  const warnings = Object.entries(run.warnings || {}).sort(([a], [b]) => (a < b ? -1 : 1));
  const warned = warnings.reduce((sum, [, n]) => sum + n, 0);
  for (const el of f("warnings")) {
    el.hidden = warned === 0;
    el.textContent = `${num(warned)} warning${warned === 1 ? "" : "s"}`;
    el.title = warnings.map(([reason, n]) => `${reason}: ${n}`).join(", ");
  }
  for (const el of f("batches")) {
    el.textContent = run.batchesTotal === null ? "—" : `${run.batchesDone} of ${run.batchesTotal}`;
  }
  for (const badge of root.querySelectorAll("[data-badge]")) {
    badge.className = `badge ${status.badge}`;
    badge.querySelector("[data-badge-text]").textContent = status.label;
  }
  const live = !status.final;
  for (const wrap of root.querySelectorAll("[data-progress]")) {
    wrap.hidden = !live;
    const bar = wrap.querySelector("progress");
    const text = wrap.querySelector("[data-progress-text]");
    if (run.batchesTotal) {
      bar.max = run.batchesTotal;
      bar.value = run.batchesDone;
      text.textContent = `${run.batchesDone}/${run.batchesTotal} batches`;
    } else {
      bar.removeAttribute("value"); // indeterminate until the feed is staged
      text.textContent = run.status === "running" ? "fetching…" : "waiting…";
    }
  }
}

// --- live events --------------------------------------------------------------------------

// Follow /api/events. EventSource reconnects by itself and sends Last-Event-ID, so the server
// replays what was missed. `onOpen` runs at every (re)connection: the page re-reads its view,
// which covers what happened before the first connection and after a long outage. The runs'
// event types are config.events.run; `extra` names more (e.g. config.events.alert);
// `onEvent(type, run, payload)`.
export function connectEvents(onEvent, { onOpen, extra = [] } = {}) {
  const pill = document.getElementById("live");
  const label = pill.querySelector("[data-live-text]");
  pill.hidden = false;
  const set = (state, text) => { pill.dataset.state = state; label.textContent = text; };
  const open = () => {
    const source = new EventSource("/api/events");
    set("connecting", "Connecting…");
    source.onopen = () => {
      set("live", "Live");
      onOpen?.();
    };
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        // The server refused the stream (e.g. an HTTP error): the browser gave up, so retry.
        set("offline", "Offline — retrying");
        setTimeout(open, 5000);
      } else {
        set("reconnecting", "Reconnecting…");
      }
    };
    for (const type of [...config.events.run, ...extra]) {
      source.addEventListener(type, (e) => {
        const payload = JSON.parse(e.data);
        onEvent(type, payload.run, payload);
      });
    }
  };
  open();
}

// Re-render a region ([data-refresh-region] with an id) from a fresh copy of this page.
export async function refreshRegion(id) {
  const resp = await fetch(location.href, { credentials: "same-origin" });
  if (!resp.ok) throw new ApiError(`HTTP ${resp.status}`, resp.status);
  const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
  const fresh = doc.getElementById(id);
  const current = document.getElementById(id);
  if (fresh && current) {
    current.replaceWith(document.importNode(fresh, true));
    enhance(document.getElementById(id));
  }
}

export function debounce(fn, wait) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}

// --- page enhancements --------------------------------------------------------------------

const runListeners = [];
export const onRunsStarted = (listener) => runListeners.push(listener);

// Controls that need a script are rendered hidden ([data-run-now], [data-js]): show them.
export function enhance(root = document) {
  for (const button of root.querySelectorAll("[data-run-now], [data-js]")) button.hidden = false;
  for (const el of root.querySelectorAll("time[data-ago]")) el.title = hoverTime(new Date(el.dateTime));
}

function tick() {
  const now = new Date();
  for (const el of document.querySelectorAll("time[data-ago]")) el.textContent = ago(new Date(el.dateTime), now);
  for (const el of document.querySelectorAll("[data-since]")) el.textContent = duration(now - Date.parse(el.dataset.since));
}

function setUpRunDialog() {
  const dialog = document.getElementById("run-dialog");
  const form = dialog.querySelector("[data-run-form]");
  const error = form.querySelector("[data-run-error]");
  const signOut = document.querySelector("[data-sign-out]");
  syncToken();
  document.addEventListener("click", (e) => {
    const button = e.target.closest("[data-run-now]");
    if (!button) return;
    const feed = button.dataset.feed || "";
    if (feed && ![...form.feed.options].some((o) => o.value === feed)) {
      // A feed added since the page was rendered: never fall back to "all feeds".
      form.feed.add(new Option(config.feeds?.[feed] || shortUrl(feed), feed));
    }
    form.feed.value = feed;
    error.hidden = true;
    syncToken();
    dialog.showModal();
  });
  form.querySelector("[data-dialog-close]").addEventListener("click", () => dialog.close());
  signOut.addEventListener("click", async () => {
    forgetToken();
    await api("/api/session", { method: "DELETE" }).catch(() => null);
    location.reload();
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const token = config.tokenRequired ? getToken() || form.token.value : null;
    const feed = form.feed.value;
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const options = { method: "POST", headers };
    if (feed) {
      options.body = JSON.stringify({ feeds: [feed] });
      headers["Content-Type"] = "application/json";
    }
    const submit = form.querySelector('[type="submit"]');
    submit.disabled = true;
    try {
      const data = await api("/api/imports", options);
      if (token) setToken(token);
      dialog.close();
      syncToken();
      for (const listener of runListeners) listener(data.runs);
      const link = document.createElement("a");
      link.href = data.runs.length === 1 ? runHref(data.runs[0].id) : config.links.history;
      link.textContent = "View";
      const n = data.runs.length;
      toast([`Started ${n} import${n === 1 ? "" : "s"}. `, link]);
    } catch (err) {
      if (err.status === 401) {
        forgetToken();
        syncToken();
        error.textContent = "That token was not accepted. Check JOBIMPORT_ADMIN_TOKEN.";
        form.token?.focus();
      } else {
        error.textContent = err.message;
      }
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
}

document.querySelector("[data-error-retry]")?.addEventListener("click", () => {
  hideError();
  retryAction?.();
});
setUpRunDialog();
setUpSignIn();
enhance();
setInterval(tick, 1000);
