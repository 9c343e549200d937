// The calendar view: the toolbar (days shown, paging by day, group and text filters) and the
// wiring between the VMs in the store, the bookings of the window, the grid and the dialogs.
import { errorMessage, serverNow } from "./api.js";
import { initBookingDialog, openBooking } from "./booking-dialog.js";
import * as data from "./calendar-data.js";
import * as grid from "./calendar-grid.js";
import { initInput, placeCursor, relabelCursor } from "./calendar-input.js";
import { dayStart, formatRange, horizon, HOUR, makeWindow, share } from "./calendar-time.js";
import { byId, debounce, el } from "./dom.js";
import { formatNumber, t } from "./i18n.js";
import { toast } from "./notifications.js";
import { initReserveDialog, openReserve } from "./reserve-dialog.js";
import * as store from "./store.js";

const CLOCK_MS = 30000;
const view = { offset: 0, days: 7 }; // offset: whole days after today
const filters = { group: "", q: "" };
let visible = false;
let built = false; // rows match the store's current snapshot
let loadedFor = null; // the window start and length the bookings were read for
let today = 0;
let clock = null;

/**
 * Run `work` and record how long it took until the next frame was painted, as a performance
 * measure (the browser tests report them: the calendar must stay smooth with 500 VMs).
 */
function measured(name, work) {
  const start = performance.now();
  work();
  requestAnimationFrame(() => setTimeout(() => performance.measure(name, { start })));
}

function labelsText(vm) {
  return Object.entries(vm.labels || {}).map(([key, value]) => `${key}=${value}`);
}

function groupMatches(vm) {
  if (!filters.group) return true;
  return filters.group === "none" ? vm.group == null : String(vm.group) === filters.group;
}

function matches(vm) {
  if (!groupMatches(vm)) return false;
  if (!filters.q) return true;
  const fields = [vm.id, vm.description, store.groupName(vm.group), ...labelsText(vm)];
  return fields.some((field) => field && field.toLowerCase().includes(filters.q));
}

function applyFilters() {
  const shown = grid.filterRows(matches);
  const total = grid.rowCount();
  byId("cal-count").textContent = t("board.shown", {
    shown: formatNumber(shown),
    total: formatNumber(total),
  });
  byId("cal-empty").hidden = shown > 0;
  byId("cal-empty").textContent = total ? t("board.no_match") : t("board.no_vms");
  placeCursor();
}

let filtersQueued = false;

/** Filter again once per frame, however many VM events arrive in it. */
function queueFilters() {
  if (filtersQueued) return;
  filtersQueued = true;
  requestAnimationFrame(() => {
    filtersQueued = false;
    applyFilters();
  });
}

/** The furthest day offset whose window still starts inside the reservation horizon. */
function lastOffset() {
  return Math.max(0, Math.floor((horizon(serverNow()) - today) / (24 * HOUR)));
}

async function loadBookings() {
  const win = grid.currentWindow();
  const key = `${win.from}/${win.days}`;
  if (loadedFor === key) return;
  loadedFor = key;
  byId("cal-scroll").setAttribute("aria-busy", "true");
  try {
    if (await data.load(win.from, win.to)) byId("cal-scroll").setAttribute("aria-busy", "false");
  } catch (error) {
    loadedFor = null;
    toast({ title: t("error.title"), detail: errorMessage(error), kind: "warning" });
  }
}

function applyWindow() {
  today = dayStart(serverNow());
  view.offset = Math.min(Math.max(0, view.offset), lastOffset());
  const win = makeWindow(dayStart(today, view.offset), view.days);
  grid.setWindow(win);
  grid.resetBars(data.all());
  grid.paintNow(serverNow());
  byId("cal-range").textContent = formatRange(win);
  byId("cal-prev").disabled = view.offset === 0;
  byId("cal-today").disabled = view.offset === 0;
  byId("cal-next").disabled = view.offset >= lastOffset();
  placeCursor();
  if (visible) {
    scrollToNow();
    loadBookings();
  }
}

/** When the sheet is wider than its box, scroll "now" (if shown) near the left edge. */
function scrollToNow() {
  const box = byId("cal-scroll");
  const win = grid.currentWindow();
  const now = serverNow();
  if (box.scrollWidth <= box.clientWidth || now < win.from || now >= win.to) return;
  const label = byId("cal-body").querySelector(".cal-vm")?.offsetWidth ?? 0;
  const track = box.scrollWidth - label;
  const hourPixels = (track * HOUR) / (win.to - win.from);
  box.scrollLeft = Math.max(0, share(win, now) * track - 2 * hourPixels);
}

/** Move the window by whole days; false when it cannot go that way. */
function page(days) {
  const next = Math.min(Math.max(0, view.offset + days), lastOffset());
  if (next === view.offset) return false;
  view.offset = next;
  applyWindow();
  return true;
}

function build() {
  measured("loadzone:calendar-rows", () => {
    grid.renderRows(store.allVms());
    built = true;
    applyWindow();
    applyFilters();
  });
}

function tick() {
  const now = serverNow();
  if (dayStart(now) !== today) applyWindow(); // past midnight: the window starts at the new day
  grid.paintNow(now);
}

/** Called by the router: `#calendar?group=3` presets the group filter. */
export function showCalendar(shown, params) {
  visible = shown;
  clearInterval(clock);
  if (!shown) return;
  if (params?.has("group")) {
    filters.group = params.get("group");
    byId("cal-group").value = filters.group;
  }
  if (!built) build();
  else applyFilters();
  tick();
  scrollToNow();
  loadBookings();
  clock = setInterval(tick, CLOCK_MS);
}

function fillGroups() {
  const select = byId("cal-group");
  const keep = filters.group;
  const fixed = [...select.options].slice(0, 2);
  const options = store.sortedGroups().map((g) => el("option", { value: g.id, text: g.name }));
  select.replaceChildren(...fixed, ...options);
  select.value = [...select.options].some((o) => o.value === keep) ? keep : "";
  filters.group = select.value;
}

function wireStore() {
  store.on("reset", () => {
    built = false;
    loadedFor = null; // a reconnect: events may have been missed
    if (visible) build();
  });
  store.on("vm", ({ vm }) => {
    if (!built) return;
    const added = !grid.rowOf(vm.id);
    grid.putRow(vm);
    if (added) {
      for (const booking of data.all()) if (booking.vm_id === vm.id) grid.putBar(booking);
    }
    queueFilters(); // a new VM, or one that changed group, may now match or not
  });
  store.on("vm-removed", ({ id }) => {
    data.dropVm(id);
    if (!built) return;
    grid.dropRow(id);
    queueFilters(); // the count, and the cursor if it was on that row
  });
  store.on("groups", () => {
    fillGroups();
    if (!built) return;
    for (const vm of store.allVms()) grid.putRow(vm);
    applyFilters();
  });
  data.on("reset", () => {
    measured("loadzone:calendar-bars", () => {
      grid.resetBars(data.all());
      placeCursor();
    });
  });
  data.on("booking", ({ booking }) => {
    if (!built) return;
    grid.putBar(booking);
    relabelCursor();
  });
  data.on("removed", ({ booking }) => {
    grid.dropBar(booking.id);
    relabelCursor();
  });
}

function wireToolbar() {
  const search = byId("cal-q");
  search.addEventListener(
    "input",
    debounce(() => {
      filters.q = search.value.trim().toLowerCase();
      applyFilters();
    }, 120),
  );
  byId("cal-group").addEventListener("change", (event) => {
    filters.group = event.target.value;
    applyFilters();
  });
  const days = byId("cal-days-shown");
  if (window.matchMedia("(max-width: 600px)").matches) days.value = "2"; // a phone: two days
  view.days = Number(days.value);
  days.addEventListener("change", () => {
    view.days = Number(days.value);
    applyWindow();
  });
  byId("cal-prev").addEventListener("click", () => page(-1));
  const later = () => measured("loadzone:calendar-page", () => page(1));
  byId("cal-next").addEventListener("click", later);
  byId("cal-today").addEventListener("click", () => page(-view.offset));
  byId("cal-filters").addEventListener("submit", (event) => event.preventDefault());
  byId("cal-reserve").addEventListener("click", (event) => {
    const next = Math.ceil(serverNow() / HOUR) * HOUR;
    openReserve({ vmId: grid.shownIds()[0], start: next }, event.currentTarget);
  });
}

export function initCalendar() {
  grid.initGrid();
  initReserveDialog();
  initBookingDialog();
  initInput(byId("cal-body"), {
    slot: (vmId, start, end, opener) => openReserve({ vmId, start, end }, opener),
    bar: openBooking,
    page,
  });
  wireToolbar();
  wireStore();
  document.addEventListener("visibilitychange", () => visible && !document.hidden && tick());
}
