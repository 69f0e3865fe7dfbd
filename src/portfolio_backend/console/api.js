// The console's only door to the service: JSON from /admin/api/..., the token as a Bearer header.
const KEY = "portfolio-admin-token";

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `The service answered ${status}.`);
    this.status = status;
  }
}

export async function getJson(path, params = {}) {
  const query = new URLSearchParams(params).toString();
  const response = await fetch(`/admin/api/${path}${query ? "?" + query : ""}`, {
    headers: { Authorization: `Bearer ${token.get() || ""}`, Accept: "application/json" },
    cache: "no-store",
    credentials: "omit",
  });
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

/** A write to /admin/api/...: `body` as JSON; the answer's JSON, or null for a 204. */
export async function sendJson(method, path, body) {
  const response = await fetch(`/admin/api/${path}`, {
    method,
    headers: { Authorization: `Bearer ${token.get() || ""}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
    credentials: "omit",
  });
  let answer = null;
  try {
    answer = response.status === 204 ? null : await response.json();
  } catch {
    answer = null;
  }
  if (!response.ok) throw new ApiError(response.status, answer);
  return answer;
}
