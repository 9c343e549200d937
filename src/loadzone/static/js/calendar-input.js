// Pointer and keyboard on the calendar. A click or a mouse drag on an empty slot asks to
// reserve it, a click on a bar opens the booking. The keyboard moves one roving cursor (the
// grid's only tab stop, so 500 rows do not mean 500 tab stops) hour by hour and row by row.
import { serverNow } from "./api.js";
import * as data from "./calendar-data.js";
import * as grid from "./calendar-grid.js";
import {
  atShare,
  formatDay,
  formatHour,
  HOUR,
  hourFloor,
  percent,
  share,
} from "./calendar-time.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";

const ROWS_PER_PAGE = 10;
const DRAG_PIXELS = 4;
let handlers; // { slot(vmId, start, end, opener), bar(booking, opener), page(days) }
let drag = null;
let ignoreClickUntil = 0;
let cursor;
const spot = { vmId: null, at: 0 };

function timeAt(track, clientX) {
  const box = track.getBoundingClientRect();
  return atShare(grid.currentWindow(), (clientX - box.left) / box.width);
}

/** The booking shown on a VM's row at instant `at`, if any. */
function bookingAt(vmId, at) {
  for (const booking of data.all()) {
    if (booking.vm_id !== vmId) continue;
    if (Date.parse(booking.start) <= at && at < Date.parse(booking.end)) return booking;
  }
  return null;
}

function place(node, start, end) {
  const win = grid.currentWindow();
  node.style.left = percent(share(win, start));
  node.style.width = percent(share(win, end) - share(win, start));
}

// -- pointer -------------------------------------------------------------------------------
function dragRange() {
  const first = Math.min(drag.anchor, drag.current);
  const last = Math.max(drag.anchor, drag.current);
  return [first, last + HOUR];
}

function onPointerDown(event) {
  const track = event.target.closest(".cal-track");
  if (!track || event.target.closest(".cal-bar") || event.button !== 0) return;
  // Touch and pen scroll the calendar; they reserve with a tap (the click below).
  if (event.pointerType !== "mouse") return;
  const anchor = hourFloor(timeAt(track, event.clientX));
  const ghost = el("div", { class: "cal-ghost", "aria-hidden": "true" });
  drag = { track, anchor, current: anchor, ghost, x: event.clientX, moved: false };
  place(ghost, anchor, anchor + HOUR);
  track.append(ghost);
  track.setPointerCapture(event.pointerId);
  event.preventDefault(); // no text selection while dragging
}

function onPointerMove(event) {
  if (!drag) return;
  drag.moved ||= Math.abs(event.clientX - drag.x) > DRAG_PIXELS;
  drag.current = hourFloor(timeAt(drag.track, event.clientX));
  const [start, end] = dragRange();
  place(drag.ghost, start, end);
}

function onPointerUp() {
  if (!drag) return;
  const [start, end] = dragRange();
  const vmId = drag.track.parentNode.dataset.vm;
  drag.ghost.remove();
  const moved = drag.moved;
  drag = null;
  ignoreClickUntil = performance.now() + 500; // the click that follows this pointerup
  handlers.slot(vmId, start, moved ? end : null, null);
}

function onClick(event) {
  const bar = event.target.closest(".cal-bar");
  if (bar) {
    const booking = data.get(Number(bar.dataset.id));
    if (booking) handlers.bar(booking, null);
    return;
  }
  const track = event.target.closest(".cal-track");
  if (!track || performance.now() < ignoreClickUntil) return;
  handlers.slot(track.parentNode.dataset.vm, hourFloor(timeAt(track, event.clientX)), null, null);
}

// -- keyboard ------------------------------------------------------------------------------
function describeSpot() {
  const booking = bookingAt(spot.vmId, spot.at);
  const what = booking ? grid.describeBooking(booking) : t("cal.free");
  return `${spot.vmId}, ${formatDay(spot.at)} ${formatHour(spot.at)}: ${what}`;
}

function clampSpot() {
  const win = grid.currentWindow();
  const ids = grid.shownIds();
  if (!win || !ids.length) return false;
  if (!ids.includes(spot.vmId)) spot.vmId = ids[0];
  if (!spot.at || spot.at < win.from || spot.at >= win.to) {
    const now = serverNow();
    spot.at = hourFloor(now >= win.from && now < win.to ? now : win.from);
  }
  return true;
}

/** Put the cursor where `spot` says (after rows, filters or the window changed). */
export function placeCursor() {
  if (!clampSpot()) {
    cursor.remove();
    return;
  }
  const track = grid.rowOf(spot.vmId).track;
  if (cursor.parentNode !== track) {
    const focused = document.activeElement === cursor;
    track.append(cursor);
    if (focused) cursor.focus({ preventScroll: true });
  }
  place(cursor, spot.at, spot.at + HOUR);
  cursor.setAttribute("aria-label", describeSpot());
}

/** Say again what lies under the cursor (a booking came, moved or went). */
export function relabelCursor() {
  if (cursor.isConnected && spot.vmId) cursor.setAttribute("aria-label", describeSpot());
}

function moveRows(step) {
  const ids = grid.shownIds();
  const index = Math.min(ids.length - 1, Math.max(0, ids.indexOf(spot.vmId) + step));
  spot.vmId = ids[index];
}

function moveHours(step) {
  const win = grid.currentWindow();
  const next = spot.at + step * HOUR;
  if (next < win.from || next >= win.to) {
    // Past either edge the window follows, a day at a time.
    if (handlers.page(step > 0 ? 1 : -1)) spot.at = next;
    return;
  }
  spot.at = hourFloor(next + HOUR / 2);
}

const KEYS = {
  ArrowLeft: () => moveHours(-1),
  ArrowRight: () => moveHours(1),
  ArrowUp: () => moveRows(-1),
  ArrowDown: () => moveRows(1),
  PageUp: () => moveRows(-ROWS_PER_PAGE),
  PageDown: () => moveRows(ROWS_PER_PAGE),
  Home: (event) => (event.ctrlKey ? moveRows(-Infinity) : (spot.at = grid.currentWindow().from)),
  End: (event) =>
    event.ctrlKey ? moveRows(Infinity) : (spot.at = grid.currentWindow().to - HOUR),
};

function onKey(event) {
  if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    const booking = bookingAt(spot.vmId, spot.at);
    if (booking) handlers.bar(booking, cursor);
    else handlers.slot(spot.vmId, spot.at, null, cursor);
    return;
  }
  const move = KEYS[event.key];
  if (!move) return;
  event.preventDefault();
  move(event);
  placeCursor();
  cursor.scrollIntoView({ block: "nearest", inline: "nearest" });
}

/** Wire the grid's events; `handlers` decide what a slot, a bar or paging means. */
export function initInput(body, given) {
  handlers = given;
  cursor = el("div", { class: "cal-cursor", tabindex: "0", role: "button" });
  cursor.setAttribute("aria-describedby", "cal-keys");
  cursor.addEventListener("keydown", onKey);
  body.addEventListener("pointerdown", onPointerDown);
  body.addEventListener("pointermove", onPointerMove);
  body.addEventListener("pointerup", onPointerUp);
  body.addEventListener("pointercancel", () => {
    drag?.ghost.remove();
    drag = null;
  });
  body.addEventListener("click", onClick);
}
