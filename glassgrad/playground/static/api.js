// The only way the page gets numbers: JSON from the Python engine.

import { $ } from "./dom.js";

const TOKEN_KEY = "glassgrad-token";

/** ``glassgrad serve`` opens the page with ?token=… (the secret that lets it run code): keep it for this tab
 *  only and take it out of the address bar, so that no share link or bookmark carries it. Call once, first. */
export function takeToken() {
  const url = new URL(location.href);
  const token = url.searchParams.get("token");
  if (token === null) return;
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  url.searchParams.delete("token");
  history.replaceState(null, "", `${url.pathname}${url.search}${url.hash}`);
}

/** Whether this tab holds the launch's token (it was opened with ?token=…): without it no code runs. */
export function hasToken() {
  return Boolean(sessionStorage.getItem(TOKEN_KEY));
}

/** Drop this tab's token: the server refused it (a token of an earlier launch: each glassgrad serve makes a new one). */
export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** The headers a request to /api/code/* needs: the launch's token. */
export function codeHeaders() {
  return { "X-Glassgrad-Token": sessionStorage.getItem(TOKEN_KEY) || "" };
}

/** POST (or GET when body is null) to the API; throws an Error carrying the server's message. */
export async function api(path, body = null, method = body === null ? "GET" : "POST") {
  const init = { method, headers: path.startsWith("/api/code/") ? codeHeaders() : {} };
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

let returnFocus = null; // where the learner was when a problem was shown: dismissing it goes back there

/** Show a problem to the user in the page's alert region (or clear it with null). */
export function showError(error) {
  const box = $("error");
  if (!error) {
    box.hidden = true;
    $("error-text").textContent = "";
    return;
  }
  if (box.hidden) returnFocus = document.activeElement;
  $("error-text").textContent = error.message || String(error);
  box.hidden = false;
}

/** The learner closes the message (its × button, or Esc inside it); the keyboard goes back where it was. */
export function dismissError() {
  const hadFocus = $("error").contains(document.activeElement);
  showError(null);
  if (hadFocus && returnFocus && returnFocus.isConnected && returnFocus !== document.body) returnFocus.focus();
  returnFocus = null;
}
