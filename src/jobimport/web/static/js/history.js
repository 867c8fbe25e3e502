// The import history: the view (sort, filters, page) lives in the URL. Changing it pushes a new
// URL and re-reads /api/imports (skeleton rows meanwhile, the error banner if that fails);
// /api/events keeps the rows' counters and progress live and puts new runs at the top.
import { api, config } from "./api.js";
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

// The view as Python resolved it (admin/rules.py history_rules): its values, the /api/imports
// URL that lists it, the filter live runs must pass, its links. The page brings the first; each
// change of view asks config.links.historyView for the next, so no rule of the URL is copied here.
let view = config.history;
let shown = { total: Number(table.closest("section").dataset.total || 0) };
let ticket = 0;
let unseen = 0;

// A run's import log against view.filter: every clause holds when one of its tests does. Only
// field comparisons, as this runs for every event.
const TESTS = {
  eq: (a, b) => a === b,
  ne: (a, b) => (a ?? null) !== b,
  gt: (a, b) => a > b,
  notBefore: (a, b) => Date.parse(a) >= Date.parse(b),
  before: (a, b) => Date.parse(a) < Date.parse(b),
};
const matches = (run) =>
  view.filter.every((clause) => clause.some(([field, op, value]) => TESTS[op](run[field], value)));

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

function renderHeaders() {
  for (const th of table.querySelectorAll("th[data-sort-key]")) {
    const { href, aria } = view.sortLinks[th.dataset.sortKey];
    th.setAttribute("aria-sort", aria);
    th.querySelector("a").href = href;
  }
}

function renderPager(total, count) {
  const { page, limit } = view.values;
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
  const setLink = (el, href, enabled) => {
    el.href = href;
    if (enabled) { el.removeAttribute("aria-disabled"); el.removeAttribute("tabindex"); }
    else { el.setAttribute("aria-disabled", "true"); el.tabIndex = -1; }
  };
  setLink(document.querySelector("[data-pager-prev]"), view.prev, page > 1);
  setLink(document.querySelector("[data-pager-next]"), view.next, page < pages);
}

// The filter bar shows the view: every select and check box by its name in view.values.
function syncForm() {
  for (const field of form.querySelectorAll("select[name]")) field.value = view.values[field.name] ?? "";
  for (const box of form.querySelectorAll('input[type="checkbox"][name]')) box.checked = Boolean(view.values[box.name]);
  form.querySelector("[data-window]")?.toggleAttribute("hidden", !view.window);
  form.querySelector("[data-clear]").hidden = !view.filtered;
  return view.filtered;
}

function showEmpty(count, filtered) {
  tableWrap.hidden = count === 0;
  empty.hidden = count !== 0;
  empty.querySelector("[data-empty-unfiltered]").hidden = filtered || shown.total > 0;
  empty.querySelector("[data-empty-filtered]").hidden = !(filtered || shown.total > 0);
}

// Rows are keyed by run id: a row already shown is updated in place, not replaced, so a
// re-read does not flicker or lose what an event just wrote.
function render(data, previous) {
  const shownRows = new Map(previous.filter((tr) => tr.dataset.runId).map((tr) => [tr.dataset.runId, tr]));
  body.replaceChildren(...data.items.map((run) => {
    const tr = shownRows.get(run.id);
    if (!tr) return newRow(run);
    fillRun(tr, freshest(run), { flash: true });
    return tr;
  }));
  shown = { total: data.total };
  renderHeaders();
  renderPager(data.total, data.items.length);
  showEmpty(data.items.length, syncForm());
  table.setAttribute("aria-busy", "false");
  unseen = 0;
  newRuns.hidden = true;
}

// Read the view of `search` (a query string): first how Python resolves it (its canonical URL,
// which is pushed when `push`, its API URL, filter and links), then its runs.
async function load({ search = location.search, push = false, skeleton = true } = {}) {
  const mine = ++ticket;
  const previous = [...body.children];
  if (skeleton) {
    const rows = Math.min(view.values.limit, 8);
    body.replaceChildren(...Array.from({ length: rows }, () => skeletonTemplate.content.firstElementChild.cloneNode(true)));
    tableWrap.hidden = false;
    empty.hidden = true;
    table.setAttribute("aria-busy", "true");
  }
  try {
    const next = await api(config.links.historyView + search);
    if (mine !== ticket) return; // a newer view was asked for meanwhile
    if (push) history.pushState(null, "", next.href);
    else if (next.href !== location.pathname + location.search) history.replaceState(null, "", next.href);
    view = next;
    const data = await api(view.api);
    if (mine !== ticket) return;
    hideError();
    render(data, previous);
  } catch (err) {
    if (mine !== ticket) return;
    body.replaceChildren(...previous);
    table.setAttribute("aria-busy", "false");
    showError(err.message, () => load({ search, push }));
  }
}

const go = (href) => load({ search: new URL(href, location.href).search, push: true });

document.addEventListener("click", (e) => {
  const link = e.target.closest("a[data-nav]");
  if (!link || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
  if (link.getAttribute("aria-disabled") === "true") return e.preventDefault();
  e.preventDefault();
  go(link.href);
});

// A changed filter: the view's first page with the form's values (an empty one is "any"), less
// what the changed field clears (data-clears: a range drops the custom window). Python reads it.
form.querySelector("[data-apply]").hidden = true; // filters apply as they change
form.addEventListener("submit", (e) => e.preventDefault());
form.addEventListener("change", (e) => {
  const target = new URL(view.firstPage, location.href);
  const set = (name, value) => (value ? target.searchParams.set(name, value) : target.searchParams.delete(name));
  for (const field of form.querySelectorAll("select[name]")) set(field.name, field.value);
  for (const box of form.querySelectorAll('input[type="checkbox"][name]')) set(box.name, box.checked ? box.value : "");
  for (const name of (e.target.dataset.clears || "").split(" ")) if (name) target.searchParams.delete(name);
  go(target.href);
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
  if (!view.liveTop) {
    unseen += 1;
    newRuns.querySelector("[data-new-count]").textContent = unseen;
    newRuns.hidden = false;
    return;
  }
  const row = newRow(run);
  row.classList.add("flash");
  body.prepend(row);
  while (body.children.length > view.values.limit) body.lastElementChild.remove();
  shown.total += 1;
  renderPager(shown.total, body.children.length);
  showEmpty(body.children.length, syncForm());
}

const refreshOverview = debounce(() => refreshRegion("overview").catch(() => {}), 1000);
const queue = startQueuePanel(document.getElementById("queue-panel"));
const refreshQueue = debounce(() => queue.refresh(), 300);

connectEvents(
  (type, run) => {
    addRun(run, { fromEvent: true });
    refreshQueue(); // every run event moves tasks (a batch applied is one task done)
    if (type !== config.events.progress) refreshOverview(); // counts and chart move when runs start or end
  },
  { onOpen: () => { load({ skeleton: false }); refreshOverview(); refreshQueue(); } },
);
onRunsStarted((runs) => runs.forEach((run) => addRun(run)));
newRuns.querySelector("[data-show-new]").addEventListener("click", () => go(view.newest));
