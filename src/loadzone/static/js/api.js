// The JSON API client: one place that sends requests and turns failures into ApiError.
import { has, locale, t } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let skew = 0;

/** Now, by the server's clock (its Date header), so countdowns agree with the scheduler. */
export function serverNow() {
  return Date.now() + skew;
}

function learnSkew(response) {
  const header = Date.parse(response.headers.get("Date") || "");
  if (Number.isNaN(header)) return;
  // The header has whole seconds: the server's clock lies within [header, header + 1 s).
  const estimate = header + 500 - Date.now();
  skew = Math.abs(estimate) > 1500 ? estimate : 0;
}

function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, value);
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** The server's own (English) words, or a translation of a known error code. */
export function errorMessage(error) {
  const key = `error.${error?.code}`;
  if (error instanceof ApiError && locale !== "en" && has(key)) return t(key);
  return error?.message || t("error.unknown");
}

/**
 * Call the API. Writes always carry Content-Type: application/json (the server's CSRF rule),
 * also without a body. Resolves to the parsed JSON; rejects with ApiError. A `meta` object
 * gets `seq`: the last event number the answer reflects (only GET /api/vms sends one).
 */
export async function api(path, { method = "GET", body, query, signal, meta } = {}) {
  const headers = { Accept: "application/json" };
  const options = { method, headers, credentials: "same-origin", signal };
  if (method !== "GET" && method !== "HEAD") {
    headers["Content-Type"] = "application/json";
    if (body !== undefined) options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(withQuery(path, query), options);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "network", t("error.network"));
  }
  learnSkew(response);
  if (meta) meta.seq = Number(response.headers.get("X-LoadZone-Seq")) || 0;
  const data = await response.json().catch(() => null);
  if (response.ok) return data;
  if (response.status === 401 && !path.startsWith("/api/auth/")) {
    window.location.assign("/login");
  }
  const detail = data?.error || {};
  throw new ApiError(
    response.status,
    detail.code || `http_${response.status}`,
    detail.message || response.statusText,
  );
}

/** The pages of a paginated list, following next_cursor; the caller may stop early. */
export async function* pages(path, query = {}, limit = 500) {
  let cursor = null;
  do {
    const page = await api(path, { query: { ...query, limit, cursor } });
    yield page.items;
    cursor = page.next_cursor;
  } while (cursor);
}
