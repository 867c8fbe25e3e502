// How values are written for people: the rules of admin/format.py that must run per live event
// in the page (tests/browser checks the two agree), and the <time> elements the pages keep
// ticking. Status labels and badges are not here: they come in the page's config. No framework,
// no build step.

export function shortUrl(url, limit = 48) {
  let text;
  try {
    const u = new URL(url);
    text = (u.host.replace(/^www\./, "") + u.pathname + u.search).replace(/\/+$/, "") || u.host;
  } catch {
    text = url;
  }
  if (text.length <= limit) return text;
  const head = Math.floor((limit - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (limit - 1 - head))}`;
}

export function ago(date, now = new Date()) {
  if (!date) return "—";
  let seconds = Math.trunc((now - date) / 1000);
  const future = seconds < 0;
  seconds = Math.abs(seconds);
  if (seconds < 5) return future ? "in a moment" : "just now";
  let amount;
  if (seconds < 60) amount = `${seconds} s`;
  else if (seconds < 3600) amount = `${Math.floor(seconds / 60)} min`;
  else if (seconds < 86400) amount = `${Math.floor(seconds / 3600)} h`;
  else amount = `${Math.floor(seconds / 86400)} d`;
  return future ? `in ${amount}` : `${amount} ago`;
}

export function duration(ms) {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export const num = (n) => (n === null || n === undefined ? "—" : n.toLocaleString("en-US"));

export function hoverTime(date) {
  const utc = date.toISOString().slice(0, 19).replace("T", " ");
  return `${date.toLocaleString()} (${utc} UTC)`;
}

export function timeElement(iso) {
  if (!iso) {
    const dash = document.createElement("span");
    dash.className = "text-slate-500";
    dash.textContent = "—";
    return dash;
  }
  const el = document.createElement("time");
  const date = new Date(iso);
  el.dateTime = iso;
  el.dataset.ago = "";
  el.title = hoverTime(date);
  el.textContent = ago(date);
  return el;
}
