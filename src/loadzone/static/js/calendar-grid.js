// The calendar's DOM: a header of days, one row per VM, bookings as bars placed by percent of
// the window (so a resize needs no work), and one overlay for day lines, the past and "now".
// Rows are built once and patched per event; filters only toggle `hidden`.
import { byId, el } from "./dom.js";
import { boot } from "./boot.js";
import { fillHealth, healthDot } from "./health-dot.js";
import { collator, formatWhen, t } from "./i18n.js";
import * as store from "./store.js";
import { formatDay, formatTick, HOUR, percent, share } from "./calendar-time.js";

const rows = new Map(); // vm id -> { row, track, label, note, health }
const bars = new Map(); // booking id -> element
let order = []; // vm ids, sorted
let win = null;
let body;
let lines;
let days;

export const rowOf = (vmId) => rows.get(vmId);
export const barOf = (id) => bars.get(id);
export const currentWindow = () => win;

/** The VM ids of the rows shown (not filtered out), in order. */
export function shownIds() {
  return order.filter((id) => !rows.get(id).row.hidden);
}

function stateLabel(booking) {
  return t(booking.state === "active" ? "cal.state_active" : "cal.state_reserved");
}

/** One line about a booking, for titles and the keyboard cursor. */
export function describeBooking(booking) {
  const owner = booking.owner === boot.email ? t("cal.you") : booking.owner;
  const when = `${formatWhen(booking.start)} – ${formatWhen(booking.end)}`;
  return `${stateLabel(booking)}: ${owner}, ${when}`;
}

function placeBar(bar, booking) {
  const start = Date.parse(booking.start);
  const end = Date.parse(booking.end);
  position(bar, start, end);
  bar.toggleAttribute("data-cut-start", start < win.from);
  bar.toggleAttribute("data-cut-end", end > win.to);
}

function fillBar(bar, booking) {
  bar.dataset.state = booking.state;
  bar.toggleAttribute("data-mine", booking.owner === boot.email);
  // The name before the @ fits a short bar; the title has the whole address.
  bar.firstChild.textContent = booking.owner.split("@")[0];
  bar.title = describeBooking(booking);
  placeBar(bar, booking);
}

function buildBar(booking) {
  const bar = el("div", { class: "cal-bar", "data-id": booking.id }, el("span"));
  fillBar(bar, booking);
  return bar;
}

/** Show or move a booking's bar (a booking of an unknown VM waits for its row). */
export function putBar(booking) {
  const target = rows.get(booking.vm_id);
  let bar = bars.get(booking.id);
  if (!target) {
    bar?.remove();
    bars.delete(booking.id);
    return;
  }
  if (bar) fillBar(bar, booking);
  else bar = buildBar(booking);
  bars.set(booking.id, bar);
  if (bar.parentNode !== target.track) target.track.append(bar);
}

export function dropBar(id) {
  bars.get(id)?.remove();
  bars.delete(id);
}

/** Replace every bar (a new snapshot or a new window). */
export function resetBars(bookings) {
  for (const bar of bars.values()) bar.remove();
  bars.clear();
  for (const booking of bookings) putBar(booking);
}

function fillRow(refs, vm) {
  const group = store.groupName(vm.group);
  const resetting = vm.status === "resetting";
  const blocked = resetting || Boolean(vm.maintenance);
  refs.row.toggleAttribute("data-maintenance", blocked);
  refs.row.toggleAttribute("data-resetting", resetting);
  refs.note.textContent = blocked ? t(resetting ? "status.resetting" : "status.maintenance") : group;
  const why = resetting ? t("status.resetting_tip") : vm.maintenance_reason;
  refs.label.title = [vm.id, group, vm.description, why].filter(Boolean).join(" · ");
  fillHealth(refs.health, vm);
}

function buildRow(vm) {
  const health = healthDot();
  const id = el("span", { class: "cal-vm-id" }, vm.id, health);
  const note = el("span", { class: "cal-vm-note" });
  const label = el("div", { class: "cal-vm" }, id, note);
  const track = el("div", { class: "cal-track" });
  const row = el("div", { class: "cal-row", "data-vm": vm.id }, label, track);
  const refs = { row, track, label, note, health };
  fillRow(refs, vm);
  rows.set(vm.id, refs);
  return refs;
}

/** Build one row per VM, sorted by id. */
export function renderRows(vms) {
  rows.clear();
  bars.clear();
  const sorted = [...vms].sort((a, b) => collator.compare(a.id, b.id));
  order = sorted.map((vm) => vm.id);
  const fragment = document.createDocumentFragment();
  for (const vm of sorted) fragment.append(buildRow(vm).row);
  body.replaceChildren(lines, fragment);
}

/** A VM added or changed; returns its row. */
export function putRow(vm) {
  const known = rows.get(vm.id);
  if (known) {
    fillRow(known, vm);
    return known;
  }
  let index = order.findIndex((id) => collator.compare(id, vm.id) > 0);
  if (index < 0) index = order.length;
  const refs = buildRow(vm);
  body.insertBefore(refs.row, index < order.length ? rows.get(order[index]).row : null);
  order.splice(index, 0, vm.id);
  return refs;
}

export function dropRow(vmId) {
  const refs = rows.get(vmId);
  if (!refs) return;
  for (const bar of refs.track.querySelectorAll(".cal-bar")) bars.delete(Number(bar.dataset.id));
  refs.row.remove();
  rows.delete(vmId);
  order.splice(order.indexOf(vmId), 1);
}

/** Hide the rows whose VM fails `keep`; returns how many are shown. */
export function filterRows(keep) {
  let shown = 0;
  for (const [id, refs] of rows) {
    const hide = !keep(store.getVm(id));
    if (refs.row.hidden !== hide) refs.row.hidden = hide;
    if (!hide) shown += 1;
  }
  return shown;
}

export const rowCount = () => rows.size;

// Positions go through the CSSOM: the CSP refuses style attributes.
function position(node, from, to) {
  const left = share(win, from);
  node.style.left = percent(left);
  node.style.width = percent(share(win, to) - left);
  return node;
}

function hourTicks(dayFrom, dayTo) {
  const ticks = [];
  for (let hour = 6; hour < 24; hour += 6) {
    const at = dayFrom + hour * HOUR;
    const tick = el("span", { class: "cal-tick", "data-hour": hour, text: formatTick(at) });
    tick.style.left = percent((hour * HOUR) / (dayTo - dayFrom));
    ticks.push(tick);
  }
  return ticks;
}

/** Lay out the header and the day lines for a new window; resetBars() places the bars. */
export function setWindow(next) {
  win = next;
  const heads = [];
  const marks = [];
  next.starts.forEach((from, i) => {
    const to = next.starts[i + 1] ?? next.to;
    const flags = { "data-weekend": [0, 6].includes(new Date(from).getDay()) };
    const name = el("span", { class: "cal-day-name", text: formatDay(from) });
    const head = el("div", { class: "cal-day", ...flags }, name, ...hourTicks(from, to));
    heads.push(position(head, from, to));
    marks.push(position(el("div", { class: "cal-day-line", ...flags }), from, to));
  });
  days.replaceChildren(...heads, el("div", { class: "cal-now-mark", id: "cal-now-mark" }));
  const past = el("div", { class: "cal-past", id: "cal-past" });
  lines.replaceChildren(...marks, past, el("div", { class: "cal-now", id: "cal-now" }));
  byId("cal-scroll").style.setProperty("--cal-days", String(next.days));
}

/** Move the "now" line and the shade over the past. */
export function paintNow(now) {
  if (!win) return;
  const at = share(win, now);
  const inside = now >= win.from && now < win.to;
  for (const node of [byId("cal-now"), byId("cal-now-mark")]) {
    node.hidden = !inside;
    node.style.left = percent(at);
  }
  byId("cal-past").style.width = percent(at);
}

export function initGrid() {
  body = byId("cal-body");
  days = byId("cal-days");
  lines = el("div", { class: "cal-lines", "aria-hidden": "true" });
}
