// The JSON API: bearer token in sessionStorage, errors as ApiError with the API's field/message.

const TOKEN_KEY = "open12306.token";
const USER_KEY = "open12306.user";

export class ApiError extends Error {
  constructor(status, field, reason, message, retryAfter = 0) {
    super(message);
    this.status = status;
    this.field = field || "";
    this.reason = reason || "";
    this.retryAfter = retryAfter; // seconds, from Retry-After (429)
  }
}

export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  get username() { return sessionStorage.getItem(USER_KEY); },
  start(token, username) {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(USER_KEY, username);
  },
  end() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
  },
};

function headersFor(extra, json) {
  const headers = { Accept: "application/json", ...extra };
  if (json) headers["Content-Type"] = "application/json";
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  return headers;
}

async function failure(response) {
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  const error = body && body.error;
  if (response.status === 401 && session.token) {
    session.end();
    window.dispatchEvent(new CustomEvent("open12306:logged-out"));
  }
  if (error && error.message) {
    const retryAfter = Number(response.headers.get("Retry-After")) || 0;
    return new ApiError(response.status, error.field, error.reason, error.message, retryAfter);
  }
  return new ApiError(response.status, "", "http", `服务器错误 Server error (${response.status})`);
}

async function send(method, path, { body, headers = {} } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: headersFor(headers, body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "", "network", "网络不可用 Network unavailable — please try again");
  }
  if (!response.ok) throw await failure(response);
  return response;
}

export async function api(method, path, options) {
  const response = await send(method, path, options);
  if (response.status === 204) return null;
  return response.json();
}

/** A binary answer (e.g. a QR PNG) as an object URL for an <img>. */
export async function apiImage(path) {
  const response = await send("GET", path, { headers: { Accept: "image/png" } });
  return URL.createObjectURL(await response.blob());
}

export function query(path, params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  return `${path}?${search}`;
}
