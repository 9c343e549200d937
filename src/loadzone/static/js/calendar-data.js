// The bookings the calendar shows: reserved and active ones overlapping the window, read
// page by page from /api/bookings and then kept current by `booking_updated` events; and the
// calls that change bookings, whose answers are shown at once (their events follow).
import { api, pages } from "./api.js";

const LIVE = new Set(["reserved", "active"]);
const bookings = new Map(); // id -> booking
const events = new EventTarget();
let range = null; // { from, to } in ms, of the last load
let buffer = null; // events that arrive while a load runs, replayed over its result
let generation = 0;

function emit(type, detail) {
  events.dispatchEvent(new CustomEvent(type, { detail }));
}

/** "reset" (everything changed), "booking" ({booking, previous}), "removed" ({booking}). */
export function on(type, listener) {
  events.addEventListener(type, (event) => listener(event.detail));
}

export const all = () => bookings.values();
export const get = (id) => bookings.get(id);

function shows(booking) {
  if (!range || !LIVE.has(booking.state)) return false;
  return Date.parse(booking.start) < range.to && Date.parse(booking.end) > range.from;
}

function apply(booking) {
  const previous = bookings.get(booking.id);
  if (shows(booking)) {
    bookings.set(booking.id, booking);
    emit("booking", { booking, previous });
  } else if (previous) {
    bookings.delete(booking.id);
    emit("removed", { booking: previous });
  }
}

/** A booking from a socket event or an API answer: shown, moved or taken away. */
export function put(booking) {
  if (buffer) buffer.push(booking);
  else apply(booking);
}

/** Forget the bookings of a VM that is gone. */
export function dropVm(vmId) {
  for (const booking of [...bookings.values()]) {
    if (booking.vm_id === vmId) {
      bookings.delete(booking.id);
      emit("removed", { booking });
    }
  }
}

/**
 * Read the window [from, to) afresh. A newer load supersedes an older one still running;
 * events that arrive meanwhile are applied after the snapshot so none is lost.
 */
export async function load(from, to) {
  const mine = ++generation;
  buffer = [];
  const fresh = new Map();
  let done = false;
  try {
    const query = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
    query.state = [...LIVE].join(",");
    for await (const items of pages("/api/bookings", query)) {
      if (mine !== generation) return false;
      for (const booking of items) fresh.set(booking.id, booking);
    }
    done = true;
  } finally {
    if (mine === generation) {
      const pending = buffer;
      buffer = null;
      if (done) {
        range = { from, to };
        bookings.clear();
        for (const [id, booking] of fresh) bookings.set(id, booking);
        emit("reset");
      }
      // On failure the previous snapshot stays, still kept current by the events.
      for (const booking of pending) apply(booking);
    }
  }
  return true;
}

export const loadedRange = () => range;

const path = (id) => `/api/bookings/${encodeURIComponent(id)}`;

/** Book now or reserve: `{vm_id, hours, start?}`. */
export async function create(body) {
  const answer = await api("/api/bookings", { method: "POST", body });
  for (const booking of answer.bookings) put(booking);
  return answer;
}

/** Move a reservation or change an active booking's end: `{start?, end?}`. */
export async function change(id, body) {
  const booking = await api(path(id), { method: "PATCH", body });
  put(booking);
  return booking;
}

/** Cancel a reservation or release an active booking. */
export async function withdraw(id) {
  const booking = await api(path(id), { method: "DELETE" });
  put(booking);
  return booking;
}
