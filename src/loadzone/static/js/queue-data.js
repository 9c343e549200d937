// The queue as this browser knows it: waiting requests in grant order, read from /api/queue
// and kept current by `queue_updated` events. An event carries only the request that changed,
// while the places and expected turns of the others move with it: each change also re-reads
// the list, a moment later, once for a burst of events.
import { api } from "./api.js";
import * as bookings from "./calendar-data.js";
import { debounce } from "./dom.js";

const waiting = new Map(); // id -> request
const done = new Map(); // id -> granted, expired or cancelled request seen lately
const DONE_KEPT = 100;
const events = new EventTarget();
let loading = null;
let again = false;

function emit(type, detail) {
  events.dispatchEvent(new CustomEvent(type, { detail }));
}

/** "reset" (the whole list was read), "request" ({request, previous}). */
export function on(type, listener) {
  events.addEventListener(type, (event) => listener(event.detail));
}

function grantOrder(a, b) {
  return a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id - b.id;
}

/** Waiting requests in grant order. */
export function all() {
  return [...waiting.values()].sort(grantOrder);
}

export const get = (id) => waiting.get(id) ?? done.get(id);
export const count = () => waiting.size;

/** The person's waiting request for exactly this VM, if any. */
export function waitingFor(vmId, owner) {
  for (const request of waiting.values()) {
    if (request.vm_id === vmId && request.owner === owner) return request;
  }
  return undefined;
}

function remember(request) {
  done.set(request.id, request);
  if (done.size > DONE_KEPT) done.delete(done.keys().next().value);
}

function apply(request) {
  const previous = get(request.id);
  // A request that left the queue never comes back: an answer overtaken by its own event.
  if (request.state === "waiting" && done.has(request.id)) return;
  if (request.state === "waiting") {
    waiting.set(request.id, request);
  } else {
    waiting.delete(request.id);
    remember(request);
  }
  emit("request", { request, previous });
}

const refreshSoon = debounce(() => load(), 300);
const refreshLater = debounce(() => load(), 1500);

/** A request from a `queue_updated` event or an API answer. */
export function put(request) {
  apply(request);
  refreshSoon();
}

/** Bookings moved: expected turns follow current expiries, so re-read while anyone waits. */
export function nudge() {
  if (waiting.size) refreshLater();
}

async function readOnce() {
  const list = await api("/api/queue");
  const fresh = new Map(list.map((request) => [request.id, request]));
  for (const id of waiting.keys()) {
    // Gone from the list without its event yet: its event (granted, expired, cancelled) follows.
    if (!fresh.has(id)) waiting.delete(id);
  }
  for (const [id, request] of fresh) if (!done.has(id)) waiting.set(id, request);
}

/** (Re)read the waiting requests; calls during a read run it once more after it. */
export function load() {
  if (loading) {
    again = true;
    return loading;
  }
  loading = (async () => {
    try {
      do {
        again = false;
        await readOnce();
      } while (again);
      emit("reset");
    } catch {
      // The list stays as the events left it; the next change or reconnection reads again.
    } finally {
      loading = null;
    }
  })();
  return loading;
}

/**
 * Book now, claim from a pool, or join the queue (POST /api/bookings with `wait`).
 * Resolves to `{bookings, request}`; granted bookings reach the calendar at once.
 */
export async function ask(body) {
  const answer = await bookings.create(body);
  if (answer.request) put(answer.request);
  return answer;
}

/** Leave the queue (one's own request; an admin's any). */
export async function leave(id) {
  const request = await api(`/api/queue/${encodeURIComponent(id)}`, { method: "DELETE" });
  put(request);
  return request;
}

/** The person's request granted most lately, if this browser saw it. */
export function lastGranted(owner) {
  let found;
  for (const request of done.values()) {
    if (request.state === "granted" && request.owner === owner) found = request;
  }
  return found;
}
