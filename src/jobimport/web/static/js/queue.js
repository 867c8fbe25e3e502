// The task queue panel (history page): GET /api/queue as a table of tasks by kind, and the age
// of the oldest waiting one. It polls while the tab is visible and refreshes on run events; one
// request at a time (a refresh asked for meanwhile runs once, after it).
import { api } from "./api.js";
import { h } from "./common.js";
import { duration, num } from "./format.js";

export const POLL_MS = 5000;
const STATES = ["waiting", "running", "deferred", "failed"];
const KIND_LABELS = { fetch: "Fetch feeds", batch: "Import batches", tick: "Scheduler ticks", other: "Other" };

const age = (seconds) => (seconds < 1 ? "under a second" : duration(Math.round(seconds * 1000)));

function cells(counts, kind) {
  return STATES.map((state) => {
    const value = counts?.[state] ?? 0;
    const tone = value && state === "failed" ? " text-rose-700" : value && state === "running" ? " text-sky-700" : "";
    return h("td", { className: `num${tone}`, "data-q": `${kind}.${state}` }, num(value));
  });
}

function render(panel, data) {
  const kinds = Object.entries(data.kinds || {});
  panel.querySelector("[data-queue-body]").replaceChildren(
    ...kinds.map(([kind, counts]) =>
      h("tr", { "data-kind": kind }, h("th", { scope: "row", className: "font-normal" }, KIND_LABELS[kind] || kind), cells(counts, kind))),
  );
  panel.querySelector("[data-queue-totals]").replaceChildren(
    h("tr", {}, h("th", { scope: "row" }, "All tasks"), cells(data.totals, "totals")),
  );
  const totals = data.totals || {};
  const busy = STATES.slice(0, 3).some((state) => totals[state]);
  const state = panel.querySelector("[data-queue-state]");
  state.textContent = busy ? "Busy" : "Idle";
  state.className = `badge ${busy ? "badge-running" : "badge-none"}`;
  panel.querySelector("[data-queue-oldest]").textContent =
    data.oldestWaitingS === null || data.oldestWaitingS === undefined
      ? "Nothing waiting"
      : `Oldest waiting: ${age(data.oldestWaitingS)}`;
  panel.querySelector("[data-queue-backend]").textContent = data.backend ? `· ${data.backend} queue` : "";
  panel.querySelector("[data-queue-window]").textContent = data.failedWindowS
    ? `“Failed” counts the last ${duration(Math.round(data.failedWindowS * 1000))}.`
    : "";
}

export function startQueuePanel(panel) {
  if (!panel) return { refresh() {} };
  const error = panel.querySelector("[data-queue-error]");
  let inFlight = false;
  let again = false;
  let timer = null;

  async function load() {
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    try {
      const data = await api("/api/queue");
      render(panel, data);
      error.hidden = true;
      panel.dataset.state = "ok";
    } catch (err) {
      error.textContent = `Couldn’t read the queue: ${err.message} Trying again shortly.`;
      error.hidden = false;
      panel.dataset.state = "error";
    } finally {
      panel.setAttribute("aria-busy", "false");
      inFlight = false;
      if (again) {
        again = false;
        load();
      }
    }
  }

  // A timeout chain, not setInterval: the next poll is planned when one ends, never stacked.
  function plan() {
    clearTimeout(timer);
    timer = document.visibilityState === "visible" ? setTimeout(poll, POLL_MS) : null;
  }
  async function poll() {
    await load();
    plan();
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") poll();
    else clearTimeout(timer);
  });
  poll();
  return { refresh: load };
}
