// The "Add feed" dialog of the feeds page: URL, optional name, schedule and request headers;
// "Preview" asks POST /api/feeds/preview (nothing is stored) and shows what would be imported,
// "Add feed" POSTs /api/feeds. API errors (the JSON envelope) are shown in the dialog.
import { ApiError } from "./api.js";
import { write } from "./auth.js";
import { h } from "./common.js";
import { num, shortUrl } from "./format.js";

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/; // an HTTP token (RFC 9110)
const SCHEMES = new Set(["http:", "https:"]);

// "Name: value" per line → { headers } or { error }; blank lines are skipped.
export function parseHeaders(text) {
  const headers = {};
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line) continue;
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon).trim() : "";
    if (!name || !HEADER_NAME.test(name)) {
      return { error: `Request headers, line ${i + 1}: write it as “Name: value”.` };
    }
    headers[name] = line.slice(colon + 1).trim();
  }
  return { headers };
}

function safeHref(url) {
  try {
    return SCHEMES.has(new URL(url).protocol) ? url : null;
  } catch {
    return null;
  }
}

function plural(n, word) {
  return `${num(n)} ${word}${n === 1 ? "" : "s"}`;
}

function errorBox(error, totalFetched) {
  const where = error.line ? ` At line ${error.line}${error.column ? `, column ${error.column}` : ""}.` : "";
  const after = totalFetched ? ` It broke after ${plural(totalFetched, "item")}.` : "";
  return h("div", { className: "banner banner-error", role: "note", "data-preview-error": true },
    h("div", {},
      h("p", { className: "font-semibold" },
        "The feed could not be read: ", h("code", {}, error.reason),
        error.status ? ` (HTTP ${error.status})` : ""),
      h("p", { className: "mt-1" }, `${error.message}${where}${after}`)));
}

function itemsTable(items, total) {
  const rows = items.map((item) => {
    const href = safeHref(item.url);
    const title = item.title || "(no title)";
    return h("tr", { "data-preview-item": true },
      h("td", {}, href
        ? h("a", { className: "link", href, target: "_blank", rel: "noopener noreferrer nofollow" }, title)
        : title),
      h("td", {}, item.company || "—"),
      h("td", {}, item.location || "—"));
  });
  return h("div", {},
    h("h3", { className: "text-sm font-semibold" },
      items.length < total ? `The first ${num(items.length)} of ${num(total)} items` : "Items"),
    h("table", { className: "ptable mt-1" },
      h("caption", { className: "sr-only" }, "Items as they would be stored"),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Title"), h("th", { scope: "col" }, "Company"),
        h("th", { scope: "col" }, "Location"))),
      h("tbody", {}, rows)));
}

function failuresList(failures, total) {
  const items = failures.map((f) =>
    h("li", { className: "flex flex-wrap items-baseline gap-x-2 gap-y-1", "data-preview-failure": true },
      h("code", { className: "badge badge-failed" }, f.reason),
      h("span", { className: "[overflow-wrap:anywhere]" }, f.message),
      f.position !== null && f.position !== undefined
        ? h("span", { className: "text-xs text-slate-600" }, `item #${f.position}${f.title ? ` “${f.title}”` : ""}`)
        : null));
  return h("div", {},
    h("h3", { className: "text-sm font-semibold text-rose-800" },
      failures.length < total ? `Failed items: the first ${num(failures.length)} of ${num(total)}` : `Failed items (${num(total)})`),
    h("ul", { className: "mt-1 space-y-1 text-sm" }, items));
}

export function renderPreview(box, data) {
  const http = data.http;
  const facts = [plural(data.totalFetched, "item") + " read"];
  if (data.failedJobs) facts.push(`${num(data.failedJobs)} failed`);
  if (http?.status) facts.push(`HTTP ${http.status}`);
  const parts = [
    h("div", { className: "flex flex-wrap items-baseline justify-between gap-2" },
      h("p", { className: "text-sm", "data-preview-summary": true },
        h("span", { className: "font-semibold", "data-preview-total": true }, num(data.totalFetched)),
        ` item${data.totalFetched === 1 ? "" : "s"} read`,
        facts.slice(1).map((fact) => ` · ${fact}`).join("")),
      h("p", { className: "text-xs text-slate-600" }, "Nothing is stored until you add the feed.")),
    data.error ? errorBox(data.error, data.totalFetched) : null,
    data.items.length ? itemsTable(data.items, data.totalFetched - data.failedJobs) : null,
    !data.items.length && !data.error ? h("p", { className: "text-sm text-slate-600" }, "The feed lists no items.") : null,
    data.failures.length ? failuresList(data.failures, data.failedJobs) : null,
  ];
  box.replaceChildren(...parts.filter(Boolean));
}

function loading(box) {
  box.replaceChildren(
    h("p", { className: "text-sm text-slate-700" }, "Fetching the feed…"),
    ...["w-64", "w-48", "w-56"].map((width) => h("span", { className: `skeleton mt-2 ${width}` })),
  );
}

export function setUpFeedDialog({ onAdded }) {
  const dialog = document.getElementById("feed-dialog");
  const form = dialog.querySelector("[data-feed-form]");
  const error = form.querySelector("[data-feed-error]");
  const box = form.querySelector("[data-preview]");
  const previewButton = form.querySelector("[data-preview-button]");
  const addButton = form.querySelector("[data-add-button]");
  let ticket = 0;

  const showError = (message) => {
    error.textContent = message;
    error.hidden = false;
  };
  const busy = (button, on) => {
    button.disabled = on;
    button.setAttribute("aria-busy", String(on));
  };

  // What the form asks for, checked as far as the page can; the API checks the rest.
  function read({ forAdd }) {
    error.hidden = true;
    const url = form.url.value.trim();
    if (!url || !safeHref(url)) {
      form.url.focus();
      return { error: "Enter the feed’s full address, starting with http:// or https://." };
    }
    const parsed = parseHeaders(form.headers.value);
    if (parsed.error) {
      form.headers.focus();
      return parsed;
    }
    const body = { url };
    if (Object.keys(parsed.headers).length) body.headers = parsed.headers;
    if (forAdd) {
      if (form.name.value.trim()) body.name = form.name.value.trim();
      if (form.schedule.value.trim()) body.schedule = form.schedule.value.trim();
    }
    return { body };
  }

  function open() {
    form.reset();
    error.hidden = true;
    box.hidden = true;
    box.replaceChildren();
    ticket += 1;
    dialog.showModal();
    form.url.focus();
  }

  async function preview() {
    const { body, error: problem } = read({ forAdd: false });
    if (problem) return showError(problem);
    const mine = ++ticket;
    busy(previewButton, true);
    box.hidden = false;
    box.setAttribute("aria-busy", "true");
    loading(box);
    try {
      const data = await write("/api/feeds/preview", { body });
      if (mine !== ticket) return;
      renderPreview(box, data);
    } catch (err) {
      if (mine !== ticket) return;
      box.hidden = true;
      if (err.code !== "no_token") showError(err.message);
    } finally {
      if (mine === ticket) {
        box.setAttribute("aria-busy", "false");
        busy(previewButton, false);
      }
    }
  }

  async function add() {
    const { body, error: problem } = read({ forAdd: true });
    if (problem) return showError(problem);
    busy(addButton, true);
    try {
      const feed = await write("/api/feeds", { body });
      dialog.close();
      await onAdded(feed);
    } catch (err) {
      if (err.code === "no_token") return;
      const message = err.code === "feed_exists" ? `${shortUrl(body.url)} is already a feed.` : err.message;
      showError(err instanceof ApiError && err.status >= 500 ? `The server failed: ${message}` : message);
    } finally {
      busy(addButton, false);
    }
  }

  document.addEventListener("click", (e) => {
    if (e.target.closest("[data-add-feed]")) open();
  });
  for (const close of form.querySelectorAll("[data-dialog-close]")) {
    close.addEventListener("click", () => dialog.close());
  }
  previewButton.addEventListener("click", preview);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    add();
  });
  // A preview is of what was typed: once the address or headers change, it is gone.
  for (const field of [form.url, form.headers]) {
    field.addEventListener("input", () => {
      ticket += 1;
      box.hidden = true;
      busy(previewButton, false);
    });
  }
}
