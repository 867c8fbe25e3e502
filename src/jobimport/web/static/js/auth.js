// The admin token: kept in sessionStorage, asked for in #token-dialog when a write needs it
// (`write`), and traded for the session cookie by the sign-in form.

import { ApiError, api, config } from "./api.js";

const TOKEN_KEY = "jobimport.adminToken";
export const getToken = () => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (token) => sessionStorage.setItem(TOKEN_KEY, token);
export const forgetToken = () => sessionStorage.removeItem(TOKEN_KEY);

// Show "Forget token" when one is kept, and hide the run dialog's token field then.
export function syncToken() {
  const field = document.querySelector("#run-dialog [data-token-field]");
  if (field) field.hidden = Boolean(getToken());
  document.querySelector("[data-sign-out]")?.classList.toggle("hidden", !getToken());
}

// Ask for the admin token in #token-dialog (base.html); resolves to it, or null when cancelled.
function askToken(message) {
  const dialog = document.getElementById("token-dialog");
  if (!dialog) return Promise.resolve(null);
  const form = dialog.querySelector("[data-token-form]");
  const error = form.querySelector("[data-token-error]");
  error.textContent = message || "";
  error.hidden = !message;
  form.token.value = "";
  return new Promise((resolve) => {
    const done = (value) => {
      form.removeEventListener("submit", submit);
      dialog.removeEventListener("close", closed);
      resolve(value);
    };
    const submit = (e) => {
      e.preventDefault();
      const token = form.token.value.trim();
      if (!token) return;
      done(token);
      dialog.close();
    };
    const closed = () => done(null);
    form.addEventListener("submit", submit);
    dialog.addEventListener("close", closed);
    form.querySelector("[data-dialog-close]").onclick = () => dialog.close();
    dialog.showModal();
    form.token.focus();
  });
}

// A write to the API (POST, PATCH, DELETE) with the admin token when the service has one: the
// kept token, else the one the user gives (kept once accepted; a refused one is forgotten and
// asked for again). Rejects with an ApiError (code "no_token" when the user cancelled).
export async function write(path, { method = "POST", body } = {}) {
  let message = "";
  for (;;) {
    let token = null;
    if (config.tokenRequired) {
      token = getToken() || (await askToken(message));
      if (!token) throw new ApiError("The admin token is needed for that.", 401, "no_token");
    }
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const options = { method, headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    try {
      const data = await api(path, options);
      if (token) setToken(token);
      syncToken();
      return data;
    } catch (err) {
      if (err.status !== 401 || !token) throw err;
      forgetToken();
      syncToken();
      message = "That token was not accepted. Check JOBIMPORT_ADMIN_TOKEN.";
    }
  }
}

// The sign-in page's form (reads need the token): trade it for the session cookie, reload.
export function setUpSignIn() {
  const form = document.querySelector("[data-sign-in]");
  if (!form) return;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const token = form.token.value;
    try {
      await api("/api/session", {
        method: "POST", body: JSON.stringify({ token }),
        headers: { "Content-Type": "application/json" },
      });
      setToken(token);
      location.reload();
    } catch (err) {
      const error = form.querySelector("[data-sign-in-error]");
      error.textContent = err.status === 401 ? "That token was not accepted." : err.message;
      error.hidden = false;
    }
  });
}
