// The feeds page: re-reads its table (last run, next run, charts) as runs start and finish.
import { connectEvents, debounce, refreshRegion, showError } from "./common.js";

const refresh = debounce(
  () => refreshRegion("feeds-region").catch((err) => showError(err.message, refresh)),
  500,
);

connectEvents(
  (type) => {
    if (type !== "run.progress") refresh();
  },
  { onOpen: refresh },
);
