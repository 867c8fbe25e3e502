// The import history: the view (sort, filters, page) lives in the URL. Changing it pushes a new
// URL and re-reads /api/imports (skeleton rows meanwhile, the error banner if that fails);
// /api/events keeps the rows' counters and progress live and puts new runs at the top.
import { api } from "./api.js";
import {
  connectEvents, debounce, fillRun, hideError, onRunsStarted, refreshRegion, showError,
} from "./common.js";
import { startQueuePanel } from "./queue.js";

const body = document.getElementById("runs-body");
const table = document.getElementById("runs");
const rowTemplate = document.getElementById("run-row-template");
const skeletonTemplate = document.getElementById("skeleton-row-template");
const form = document.querySelector("[data-filters]");
const empty = document.getElementById("empty");
const tableWrap = document.querySelector("[data-table-wrap]");
const newRuns = document.getElementById("new-runs");

const DEFAULTS = { sort: "createdAt", order: "desc", page: "1", limit: "20" };
const TEXT_COLUMNS = new Set(["fileName", "status"]);
const RANGES_MS = { "1h": 3600e3, "24h": 86400e3, "7d": 7 * 86400e3, "30d": 30 * 86400e3 };
const API_PARAMS = ["sort", "order", "feed", "status", "since", "until", "withFailures", "page", "limit"];

let shown = { total: Number(table.closest("section").dataset.total || 0) };
let ticket = 0;
let unseen = 0;

const params = () => new URLSearchParams(location.search);
const get = (p, name) => p.get(name) || DEFAULTS[name] || "";

// A link to this view with some parts changed (null removes one); back to page 1 unless the
// page itself changes. The same rules as HistoryView.href in admin/views.py.
function hrefWith(changes) {
  const p = params();
  if (!("page" in changes)) changes.page = null;
  for (const [name, value] of Object.entries(changes)) {
    if (value === null || value === "" || value === DEFAULTS[name]) p.delete(name);
    else p.set(name, value);
  }
  const query = p.toString();
  return query ? `${location.pathname}?${query}` : location.pathname;
}

function apiQuery(p) {
  const q = new URLSearchParams();
  for (const name of API_PARAMS) if (p.get(name)) q.set(name, p.get(name));
  const range = p.get("range");
  if (range in RANGES_MS && !p.get("since") && !p.get("until")) {
    q.set("since", new Date(Date.now() - RANGES_MS[range]).toISOString());
  }
  return q;
}

function matches(run, p = params()) {
  if (p.get("feed") && run.fileName !== p.get("feed")) return false;
  if (p.get("status") && run.status !== p.get("status")) return false;
  if (p.get("withFailures") && !(run.failedJobs > 0 || run.error)) return false;
  const created = Date.parse(run.createdAt);
  if (p.get("since") && created < Date.parse(p.get("since"))) return false;
  if (p.get("until") && created >= Date.parse(p.get("until"))) return false;
  if (RANGES_MS[p.get("range")] && created < Date.now() - RANGES_MS[p.get("range")]) return false;
  return true;
}

const liveTop = (p = params()) =>
  get(p, "page") === "1" && ["createdAt", "startedAt"].includes(get(p, "sort")) && get(p, "order") === "desc";

// The newest state of each run seen in events: an API answer may be older than an event that
// arrived while it was on its way (updatedAt tells), and must not undo it.
const latest = new Map();
const freshest = (run) => {
  const seen = latest.get(run.id);
  return seen && Date.parse(seen.updatedAt) >= Date.parse(run.updatedAt) ? seen : run;
};

function newRow(run) {
  const row = rowTemplate.content.firstElementChild.cloneNode(true);
  fillRun(row, freshest(run));
  return row;
}

function renderHeaders(p) {
  for (const th of table.querySelectorAll("th[data-sort-key]")) {
    const key = th.dataset.sortKey;
    const link = th.querySelector("a");
    if (key === get(p, "sort")) {
      const desc = get(p, "order") === "desc";
      th.setAttribute("aria-sort", desc ? "descending" : "ascending");
      link.href = hrefWith({ sort: key, order: desc ? "asc" : "desc" });
    } else {
      th.setAttribute("aria-sort", "none");
      link.href = hrefWith({ sort: key, order: TEXT_COLUMNS.has(key) ? "asc" : "desc" });
    }
  }
}

function renderPager(p, total, count) {
  const page = Number(get(p, "page"));
  const limit = Number(get(p, "limit"));
  const pages = Math.max(1, Math.ceil(total / limit));
  const text = document.querySelector("[data-pager-text]");
  const first = (page - 1) * limit + 1;
  if (total) {
    const strong = (value) => Object.assign(document.createElement("span"), {
      className: "font-medium text-slate-900", textContent: value.toLocaleString("en-US"),
    });
    text.replaceChildren(strong(`${first.toLocaleString("en-US")}–${(first + count - 1).toLocaleString("en-US")}`), " of ", strong(total), " imports");
  } else {
    text.textContent = "No imports";
  }
  const setLink = (el, target, enabled) => {
    el.href = hrefWith({ page: String(target) });
    if (enabled) { el.removeAttribute("aria-disabled"); el.removeAttribute("tabindex"); }
    else { el.setAttribute("aria-disabled", "true"); el.tabIndex = -1; }
  };
  setLink(document.querySelector("[data-pager-prev]"), page - 1, page > 1);
  setLink(document.querySelector("[data-pager-next]"), page + 1, page < pages);
}

function syncForm(p) {
  for (const name of ["feed", "status", "range", "sort", "order"]) {
    const field = form.elements[name];
    if (field && !(field instanceof RadioNodeList)) field.value = get(p, name);
  }
  form.elements.withFailures.checked = Boolean(p.get("withFailures"));
  const windowed = p.get("since") || p.get("until");
  form.querySelector("[data-window]")?.toggleAttribute("hidden", !windowed);
  const filtered = ["feed", "status", "range", "since", "until", "withFailures"].some((n) => p.get(n));
  form.querySelector("[data-clear]").hidden = !filtered;
  return filtered;
}

function showEmpty(count, filtered) {
  tableWrap.hidden = count === 0;
  empty.hidden = count !== 0;
  empty.querySelector("[data-empty-unfiltered]").hidden = filtered || shown.total > 0;
  empty.querySelector("[data-empty-filtered]").hidden = !(filtered || shown.total > 0);
}

// Rows are keyed by run id: a row already shown is updated in place, not replaced, so a
// re-read does not flicker or lose what an event just wrote.
function render(p, data, previous) {
  const shownRows = new Map(previous.filter((tr) => tr.dataset.runId).map((tr) => [tr.dataset.runId, tr]));
  body.replaceChildren(...data.items.map((run) => {
    const tr = shownRows.get(run.id);
    if (!tr) return newRow(run);
    fillRun(tr, freshest(run), { flash: true });
    return tr;
  }));
  shown = { total: data.total };
  renderHeaders(p);
  renderPager(p, data.total, data.items.length);
  showEmpty(data.items.length, syncForm(p));
  table.setAttribute("aria-busy", "false");
  unseen = 0;
  newRuns.hidden = true;
}

async function load({ skeleton = true } = {}) {
  const p = params();
  const mine = ++ticket;
  const previous = [...body.children];
  if (skeleton) {
    const rows = Math.min(Number(get(p, "limit")), 8);
    body.replaceChildren(...Array.from({ length: rows }, () => skeletonTemplate.content.firstElementChild.cloneNode(true)));
    tableWrap.hidden = false;
    empty.hidden = true;
    table.setAttribute("aria-busy", "true");
  }
  try {
    const data = await api(`/api/imports?${apiQuery(p)}`);
    if (mine !== ticket) return; // a newer view was asked for meanwhile
    hideError();
    render(p, data, previous);
  } catch (err) {
    if (mine !== ticket) return;
    body.replaceChildren(...previous);
    table.setAttribute("aria-busy", "false");
    showError(err.message, () => load());
  }
}

function go(href) {
  history.pushState(null, "", href);
  load();
}

document.addEventListener("click", (e) => {
  const link = e.target.closest("a[data-nav]");
  if (!link || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
  if (link.getAttribute("aria-disabled") === "true") return e.preventDefault();
  e.preventDefault();
  const target = new URL(link.href);
  go(target.pathname + target.search);
});

form.querySelector("[data-apply]").hidden = true; // filters apply as they change
form.addEventListener("submit", (e) => e.preventDefault());
form.addEventListener("change", (e) => {
  const changes = {};
  for (const name of ["feed", "status", "range", "sort", "order"]) {
    if (form.elements[name]) changes[name] = form.elements[name].value || null;
  }
  changes.withFailures = form.elements.withFailures.checked ? "1" : null;
  if (e.target.name === "range") Object.assign(changes, { since: null, until: null });
  go(hrefWith(changes));
});
window.addEventListener("popstate", () => load());

// A run from an event (always the newest state: events arrive in order) or from the answer to
// "Run now" (which an event may already have overtaken).
function addRun(run, { fromEvent = false } = {}) {
  const { failures, ...counts } = fromEvent ? run : freshest(run); // rows never show failures
  latest.set(run.id, counts);
  run = counts;
  const existing = body.querySelector(`tr[data-run-id="${CSS.escape(run.id)}"]`);
  if (existing) return fillRun(existing, run, { flash: true });
  if (!matches(run)) return;
  // Only runs newer than the newest row are new (not an old run that is simply on another page).
  const newest = body.querySelector("tr[data-created]")?.dataset.created;
  if (newest && Date.parse(run.createdAt) < Date.parse(newest)) return;
  if (!liveTop()) {
    unseen += 1;
    newRuns.querySelector("[data-new-count]").textContent = unseen;
    newRuns.hidden = false;
    return;
  }
  const row = newRow(run);
  row.classList.add("flash");
  body.prepend(row);
  const limit = Number(get(params(), "limit"));
  while (body.children.length > limit) body.lastElementChild.remove();
  shown.total += 1;
  renderPager(params(), shown.total, body.children.length);
  showEmpty(body.children.length, syncForm(params()));
}

const refreshOverview = debounce(() => refreshRegion("overview").catch(() => {}), 1000);
const queue = startQueuePanel(document.getElementById("queue-panel"));
const refreshQueue = debounce(() => queue.refresh(), 300);

connectEvents(
  (type, run) => {
    addRun(run, { fromEvent: true });
    refreshQueue(); // every run event moves tasks (a batch applied is one task done)
    if (type !== "run.progress") refreshOverview(); // counts and chart move when runs start or end
  },
  { onOpen: () => { load({ skeleton: false }); refreshOverview(); refreshQueue(); } },
);
onRunsStarted((runs) => runs.forEach((run) => addRun(run)));
newRuns.querySelector("[data-show-new]").addEventListener("click", () => go(hrefWith({ sort: null, order: null })));
