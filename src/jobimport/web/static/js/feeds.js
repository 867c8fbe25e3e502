// The feeds page: re-reads its table (last run, next run, alerts, charts) as runs start and
// finish, and drives the feed actions: "Add feed" (feed-dialog.js), Pause/Resume (PATCH) and
// Delete (confirmed in a dialog first) for feeds added at run time.
import { config } from "./api.js";
import { write } from "./auth.js";
import {
  connectEvents, debounce, h, hideError, refreshRegion, showError, toast,
} from "./common.js";
import { setUpFeedDialog } from "./feed-dialog.js";

const REGION = "feeds-region";
const row = (id) => document.querySelector(`#${REGION} tr[data-feed-id="${CSS.escape(id)}"]`);
const label = (tr) => tr?.querySelector("[data-feed-name]")?.textContent.trim() || "the feed";

// Which feed control has the keyboard focus: { id, kind } or null.
function focusedControl() {
  const focused = document.activeElement?.closest(`#${REGION} [data-feed-id]`);
  const kind = focused && ["data-feed-toggle", "data-feed-delete"].find((a) => focused.hasAttribute(a));
  return kind ? { id: focused.dataset.feedId, kind } : null;
}

// Re-read the table; keep the keyboard focus on the same control of the same feed (`focus`:
// the one that had it before the action started, when the action made it lose it).
async function reload(focus = null) {
  const again = focus || focusedControl();
  await refreshRegion(REGION);
  if (again?.kind) {
    const target = document.querySelector(`#${REGION} [${again.kind}][data-feed-id="${CSS.escape(again.id)}"]`);
    (target || document.getElementById("main")).focus();
  }
}

const refresh = debounce(() => reload().catch((err) => showError(err.message, refresh)), 500);

async function setPaused(id, paused) {
  const tr = row(id);
  const button = tr?.querySelector("[data-feed-toggle]");
  const name = label(tr);
  const focus = focusedControl(); // a disabled button loses the focus: note it first
  if (button) {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
  }
  try {
    await write(`/api/feeds/${encodeURIComponent(id)}`, { method: "PATCH", body: { paused } });
    hideError();
    await reload(focus);
    toast([`${paused ? "Paused" : "Resumed"} ${name}.`]);
  } catch (err) {
    if (err.code !== "no_token") {
      showError(err.message, () => setPaused(id, paused), `Couldn’t ${paused ? "pause" : "resume"} ${name}.`);
    }
  } finally {
    if (button?.isConnected) {
      button.disabled = false;
      button.setAttribute("aria-busy", "false");
    }
  }
}

function setUpDelete() {
  const dialog = document.getElementById("delete-dialog");
  const form = dialog.querySelector("[data-delete-form]");
  const error = form.querySelector("[data-delete-error]");
  const submit = form.querySelector('[type="submit"]');
  let target = null;
  form.querySelector("[data-dialog-close]").addEventListener("click", () => dialog.close());
  document.addEventListener("click", (e) => {
    const button = e.target.closest("[data-feed-delete]");
    if (!button) return;
    target = { id: button.dataset.feedId, name: button.dataset.feedLabel };
    form.querySelector("[data-delete-label]").textContent = target.name;
    error.hidden = true;
    dialog.showModal();
    form.querySelector("[data-dialog-close]").focus(); // the safe choice first
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    submit.disabled = true;
    try {
      await write(`/api/feeds/${encodeURIComponent(target.id)}`, { method: "DELETE" });
      dialog.close();
      hideError();
      await reload();
      toast([`Deleted ${target.name}. Its jobs and imports stay.`]);
    } catch (err) {
      if (err.code !== "no_token") {
        error.textContent = err.message;
        error.hidden = false;
      }
    } finally {
      submit.disabled = false;
    }
  });
}

document.addEventListener("click", (e) => {
  const toggle = e.target.closest("[data-feed-toggle]");
  if (toggle) setPaused(toggle.dataset.feedId, toggle.dataset.paused !== "true");
});

setUpDelete();
setUpFeedDialog({
  onAdded: async (feed) => {
    await reload().catch((err) => showError(err.message, refresh));
    const added = row(feed.id);
    added?.classList.add("flash");
    added?.scrollIntoView({ block: "nearest" });
    // The link the table has for it (admin/feeds.py builds it, as the history reads it).
    const href = added?.querySelector("[data-feed-name]")?.getAttribute("href");
    const parts = [`Added ${feed.name || feed.url}. `];
    if (href) parts.push(h("a", { href }, "Its imports"));
    toast(parts);
  },
});

connectEvents(
  (type) => {
    if (type !== config.events.progress) refresh();
  },
  { onOpen: refresh, extra: [config.events.alert] },
);
