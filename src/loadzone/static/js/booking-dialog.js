// The booking dialog: a bar's details; for its owner (or an admin) moving a reservation
// (start and hours) or cancelling it, and changing an active booking's end or releasing it.
import { serverNow } from "./api.js";
import * as data from "./calendar-data.js";
import { fromMinuteInput, HOUR, toMinuteInput } from "./calendar-time.js";
import { busy, openDialog } from "./dialogs.js";
import { byId, el } from "./dom.js";
import { boot } from "./boot.js";
import { formatDateTime, t } from "./i18n.js";
import { maxHours, reportError } from "./reserve-dialog.js";

let current = null; // the booking shown

function mayChange(booking) {
  return booking.owner === boot.email || boot.is_admin;
}

function details(booking) {
  const mine = booking.owner === boot.email;
  const pairs = [
    [t("vm.owner"), mine ? t("cal.you_owner", { owner: booking.owner }) : booking.owner],
    [t("cal.state"), t(`cal.state_${booking.state}`)],
    [t("cal.start"), formatDateTime(booking.start)],
    [t("vm.expires_at"), formatDateTime(booking.end)],
  ];
  return pairs.flatMap(([term, value]) => [el("dt", { text: term }), el("dd", { text: value })]);
}

/** What Save would send, or null while the fields make no sense. */
function change() {
  if (current.state === "reserved") {
    const start = fromMinuteInput(byId("booking-start").value);
    const hours = Number(byId("booking-hours").value);
    const max = maxHours(current.vm_id);
    if (Number.isNaN(start) || !Number.isInteger(hours) || hours < 1 || hours > max) return null;
    return { start, end: start + hours * HOUR };
  }
  const end = fromMinuteInput(byId("booking-end").value);
  return Number.isNaN(end) || end <= serverNow() ? null : { end };
}

function showChange() {
  const next = change();
  byId("booking-save").disabled = !next;
  byId("booking-ends").textContent = next
    ? t("cal.new_end", { time: formatDateTime(next.end) })
    : t("cal.hours_range", { max: maxHours(current.vm_id) });
}

/** Show a booking; its owner or an admin may change it. */
export function openBooking(booking, opener) {
  current = booking;
  const editable = mayChange(booking);
  const reserved = booking.state === "reserved";
  byId("booking-title").textContent = `${booking.vm_id} · ${t(`cal.state_${booking.state}`)}`;
  byId("booking-details").replaceChildren(...details(booking));
  byId("booking-move").hidden = !(editable && reserved);
  byId("booking-end-field").hidden = !(editable && !reserved);
  byId("booking-ends").hidden = !editable;
  byId("booking-save").hidden = !editable;
  const drop = byId("booking-drop");
  drop.hidden = !editable;
  drop.textContent = t(reserved ? "cal.cancel_reservation" : "action.release");
  const start = Date.parse(booking.start);
  const end = Date.parse(booking.end);
  byId("booking-start").value = toMinuteInput(start);
  byId("booking-start").min = toMinuteInput(serverNow());
  byId("booking-hours").max = String(maxHours(booking.vm_id));
  byId("booking-hours").value = String(Math.max(1, Math.round((end - start) / HOUR)));
  byId("booking-end").value = toMinuteInput(end);
  if (editable) showChange();
  openDialog(byId("booking-dialog"), opener);
}

async function send(button, request) {
  const answer = await busy(button, byId("booking-error"), async () => {
    try {
      return await request();
    } catch (error) {
      reportError(error);
      throw error;
    }
  });
  if (answer) byId("booking-dialog").close();
}

function save(event) {
  event.preventDefault();
  const next = change();
  if (!next) return;
  const body = { end: new Date(next.end).toISOString() };
  if (next.start) body.start = new Date(next.start).toISOString();
  send(byId("booking-save"), () => data.change(current.id, body));
}

export function initBookingDialog() {
  byId("booking-form").addEventListener("submit", save);
  for (const id of ["booking-start", "booking-hours", "booking-end"]) {
    byId(id).addEventListener("input", showChange);
  }
  byId("booking-drop").addEventListener("click", (event) => {
    send(event.currentTarget, () => data.withdraw(current.id));
  });
  // A booking that changes while its dialog is open: show the news, or close when it is gone.
  data.on("booking", ({ booking }) => {
    if (current?.id === booking.id && byId("booking-dialog").open) {
      current = booking;
      byId("booking-details").replaceChildren(...details(booking));
    }
  });
  data.on("removed", ({ booking }) => {
    if (current?.id === booking.id) byId("booking-dialog").close();
  });
}
