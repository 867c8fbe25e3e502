// One run's page: while it runs, its counters, progress and status follow /api/events; when it
// ends, the page re-reads itself (failures, HTTP outcome) without a reload. "Cancel import"
// stops a run in flight; "Retry" starts a new run of the feed linked to this one and opens it.
import { config, runHref } from "./api.js";
import { write } from "./auth.js";
import { connectEvents, fillRun, h, hideError, refreshRegion, showError, toast } from "./common.js";

const regionId = "run-detail";
const region = () => document.getElementById(regionId);
const runId = () => region().dataset.runId;
const refresh = () => refreshRegion(regionId).catch((err) => showError(err.message, refresh));

function busy(button, on) {
  button.disabled = on;
  button.setAttribute("aria-busy", String(on));
}

async function retry(button) {
  busy(button, true);
  try {
    const data = await write(`/api/imports/${runId()}/retry`, { method: "POST" });
    location.assign(runHref(data.runs[0].id));
  } catch (err) {
    busy(button, false);
    if (err.code === "no_token") return;
    const inFlight = err.details?.runId;
    showError(err.message, () => retry(button), "Couldn’t retry this import.");
    if (inFlight) toast(["The feed has an import in flight. ", h("a", { href: runHref(inFlight) }, "Open it")]);
  }
}

async function cancel(button) {
  busy(button, true);
  try {
    const run = await write(`/api/imports/${runId()}/cancel`, { method: "POST" });
    hideError();
    fillRun(region(), run, { flash: true });
    await refresh(); // the buttons, the note and the counts as the run ended
  } catch (err) {
    busy(button, false);
    if (err.code === "no_token") return;
    if (err.code === "run_final") await refresh(); // it ended meanwhile: show how
    showError(err.message, () => cancel(button), "Couldn’t cancel this import.");
  }
}

document.addEventListener("click", (e) => {
  const retryButton = e.target.closest("[data-run-retry]");
  if (retryButton) retry(retryButton);
  const cancelButton = e.target.closest("[data-run-cancel]");
  if (cancelButton) cancel(cancelButton);
});

connectEvents(
  (type, run) => {
    if (run?.id !== runId()) return;
    fillRun(region(), run, { flash: true });
    if (config.events.final.includes(type)) refresh();
  },
  { onOpen: refresh },
);
