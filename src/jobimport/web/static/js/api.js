// API calls with the one error envelope, and the page's config (JSON in the page, see
// admin/render.py page_config): the Python rules the scripts apply, so they keep no copy.

export const config = JSON.parse(document.getElementById("page-config")?.textContent || "{}");

// A page of the admin site, as the route table names it (config.links, admin/rules.py).
export const runHref = (id) => config.links.run.replace("{id}", encodeURIComponent(id));

export class ApiError extends Error {
  constructor(message, status = 0, code = "network", details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

export async function api(path, options = {}) {
  let resp;
  try {
    resp = await fetch(path, {
      credentials: "same-origin", ...options,
      headers: { Accept: "application/json", ...(options.headers || {}) },
    });
  } catch {
    throw new ApiError("The server did not answer. Is it running?");
  }
  if (resp.status === 204) return null;
  const body = await resp.json().catch(() => null);
  if (!resp.ok) {
    const error = body?.error;
    throw new ApiError(error?.message || `HTTP ${resp.status}`, resp.status, error?.code, error?.details);
  }
  return body;
}
