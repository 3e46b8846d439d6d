// The only way the page gets numbers: JSON from the Python engine.

import { $ } from "./dom.js";

/** POST (or GET when body is null) to the API; throws an Error carrying the server's message. */
export async function api(path, body = null, method = body === null ? "GET" : "POST") {
  const init = { method, headers: {} };
  if (body !== null) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = { error: `the server answered ${response.status} without JSON` };
  }
  if (!response.ok) {
    const error = new Error(data.error || `request failed (${response.status})`);
    error.status = response.status;
    throw error;
  }
  return data;
}

/** The page's channel to the engine, for views that also run in a notebook widget (step.js). */
export const server = { request: (path, body) => api(path, body) };

/** Show a problem to the user in the page's alert region (or clear it with null). */
export function showError(error) {
  const box = $("error");
  if (!error) {
    box.hidden = true;
    box.textContent = "";
    return;
  }
  box.textContent = error.message || String(error);
  box.hidden = false;
}
