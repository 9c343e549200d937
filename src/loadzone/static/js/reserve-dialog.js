// The reserve dialog: VM, start and hours for POST /api/bookings. A start at or before now
// books at once (no `start` sent); a later one makes a reservation.
import { errorMessage, serverNow } from "./api.js";
import * as data from "./calendar-data.js";
import { fromMinuteInput, horizon, HOUR, toMinuteInput } from "./calendar-time.js";
import { busy, openDialog } from "./dialogs.js";
import { byId, el } from "./dom.js";
import { boot } from "./boot.js";
import { collator, formatDateTime, t } from "./i18n.js";
import { toast } from "./notifications.js";
import * as store from "./store.js";

const DEFAULT_HOURS = 2;
const NOW_SLACK = 60000; // a start within a minute of now means "now"

/** The longest booking of a VM: the site's maximum, or its group's when that is lower. */
export function maxHours(vmId) {
  const groupMax = store.getGroup(store.getVm(vmId)?.group)?.max_hours;
  return groupMax ? Math.min(boot.max_hours, groupMax) : boot.max_hours;
}

/** Whole hours free on a VM from `start` until its next booking (Infinity when none). */
export function freeHours(vmId, start, ignoreId = null) {
  let next = Infinity;
  for (const booking of data.all()) {
    if (booking.vm_id !== vmId || booking.id === ignoreId) continue;
    const begins = Date.parse(booking.start);
    if (begins >= start) next = Math.min(next, begins);
  }
  return Math.floor((next - start) / HOUR);
}

/** The first free instant on a VM at or after `at`: past any bookings that hold it. */
function firstFree(vmId, at) {
  let moment = at;
  let moved = true;
  while (moved) {
    moved = false;
    for (const booking of data.all()) {
      const end = Date.parse(booking.end);
      if (booking.vm_id === vmId && Date.parse(booking.start) <= moment && moment < end) {
        moment = end;
        moved = true;
      }
    }
  }
  return moment;
}

/** An API failure as a toast, like the rest of the app (busy() also shows it in the dialog). */
export function reportError(error) {
  toast({ title: t("error.title"), detail: errorMessage(error), kind: "warning" });
}

function fillVms(selected) {
  const select = byId("reserve-vm");
  const vms = [...store.allVms()].sort((a, b) => collator.compare(a.id, b.id));
  select.replaceChildren(...vms.map((vm) => el("option", { value: vm.id, text: vm.id })));
  select.value = selected && store.getVm(selected) ? selected : (vms[0]?.id ?? "");
}

function chosen() {
  const now = serverNow();
  const typed = fromMinuteInput(byId("reserve-start").value);
  const start = Number.isNaN(typed) || typed <= now + NOW_SLACK ? null : typed;
  return { vmId: byId("reserve-vm").value, start, hours: Number(byId("reserve-hours").value) };
}

function showChoice() {
  const { vmId, start, hours } = chosen();
  const max = maxHours(vmId);
  const input = byId("reserve-hours");
  input.max = String(max);
  byId("reserve-hours-hint").textContent = t("cal.hours_range", { max });
  const begins = start ?? serverNow();
  const valid = Number.isInteger(hours) && hours >= 1 && hours <= max;
  byId("reserve-ends").textContent = valid
    ? t(start ? "cal.reserve_ends" : "cal.book_ends", {
        time: formatDateTime(begins + hours * HOUR),
      })
    : t("cal.hours_range", { max });
  byId("reserve-submit").textContent = t(start ? "cal.reserve" : "action.book");
  byId("reserve-submit").disabled = !valid || !vmId;
}

/** Open for a VM and a start; `end` (from a drag) sets the hours. */
export function openReserve({ vmId, start, end = null }, opener) {
  const now = serverNow();
  // A slot in the past starts now; one that a booking holds (the clicked hour began inside
  // it) starts when that booking ends.
  const begins = firstFree(vmId, Math.max(start ?? now, now));
  const max = maxHours(vmId);
  let hours = end ? Math.ceil((end - begins) / HOUR) : DEFAULT_HOURS;
  if (!end) hours = Math.min(hours, Math.max(1, freeHours(vmId, begins)));
  fillVms(vmId);
  const input = byId("reserve-start");
  input.min = toMinuteInput(now);
  input.max = toMinuteInput(horizon(now));
  input.value = toMinuteInput(begins);
  byId("reserve-hours").value = String(Math.min(max, Math.max(1, hours)));
  showChoice();
  openDialog(byId("reserve-dialog"), opener);
}

async function submit(event) {
  event.preventDefault();
  const { vmId, start, hours } = chosen();
  const body = { vm_id: vmId, hours };
  if (start) body.start = new Date(start).toISOString();
  const answer = await busy(byId("reserve-submit"), byId("reserve-error"), async () => {
    try {
      return await data.create(body);
    } catch (error) {
      reportError(error);
      throw error;
    }
  });
  if (answer) byId("reserve-dialog").close();
}

export function initReserveDialog() {
  byId("reserve-form").addEventListener("submit", submit);
  for (const id of ["reserve-vm", "reserve-start", "reserve-hours"]) {
    byId(id).addEventListener("input", showChoice);
  }
}
