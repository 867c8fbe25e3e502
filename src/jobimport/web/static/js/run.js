// One run's page: while it runs, its counters, progress and status follow /api/events; when it
// ends, the page re-reads itself (failures, HTTP outcome) without a reload.
import { connectEvents, fillRun, refreshRegion, showError } from "./common.js";

const regionId = "run-detail";
const runId = () => document.getElementById(regionId).dataset.runId;
const refresh = () => refreshRegion(regionId).catch((err) => showError(err.message, refresh));

connectEvents(
  (type, run) => {
    if (run.id !== runId()) return;
    fillRun(document.getElementById(regionId), run, { flash: true });
    if (type === "run.finished" || type === "feed.failed") refresh();
  },
  { onOpen: refresh },
);
