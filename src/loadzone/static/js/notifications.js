// Notifications: a toast for each event, the list with its unread count, desktop alerts
// for expiry warnings and one's turn in the queue when the person allowed them.
import { api, errorMessage } from "./api.js";
import { byId, el, icon } from "./dom.js";
import { boot } from "./boot.js";
import { formatDateTime, formatWhen, t } from "./i18n.js";
import { openDialog } from "./dialogs.js";
import * as queue from "./queue-data.js";
import * as store from "./store.js";

const MAX_TOASTS = 4;
const KINDS = {
  expiry_warning: "warning",
  vm_auto_released: "released",
  vm_released: "released",
  vm_idle_released: "released",
  reservation_cancelled: "released",
  queue_expired: "warning",
  vm_reset_failed: "warning",
  vm_book_hook_failed: "warning",
  queue_granted: "granted",
};
// What matters enough to stay longer and to reach the desktop.
const URGENT = new Set(["expiry_warning", "queue_granted"]);
let unread = 0;
let cursor = null;

function setUnread(count) {
  unread = Math.max(0, count);
  const badge = byId("notif-count");
  badge.textContent = unread > 99 ? "99+" : String(unread);
  badge.hidden = unread === 0;
  byId("notif-button").setAttribute(
    "aria-label",
    unread ? t("notif.button_unread", { n: unread }) : t("notif.button"),
  );
}

function actorName(actor) {
  if (!actor) return "";
  return actor === boot.email ? t("notif.you") : actor;
}

/** The VMs a turn in the queue granted: those now booked by the request's bookings. */
function grantedVms(note) {
  const request = queue.lastGranted(boot.email);
  if (!request) return note.vm_id;
  const ids = new Set(request.booking_ids);
  const vms = [...store.allVms()].filter((vm) => ids.has(vm.booking_id)).map((vm) => vm.id);
  return vms.length ? vms.sort().join(", ") : note.vm_id;
}

/** Title and detail line of a notification, in the person's language. */
export function describe(note) {
  const vm = note.vm_id ? store.getVm(note.vm_id) : null;
  const parts = [];
  if (note.type === "queue_granted") {
    parts.push(grantedVms(note));
  } else if (note.type === "group_created") {
    parts.push(store.groupName(note.group_id) || "");
  } else if (note.vm_id) {
    parts.push(note.vm_id);
  }
  if (note.type === "expiry_warning" && vm?.expires_at) {
    parts.push(t("notif.ends_at", { time: formatWhen(vm.expires_at) }));
  } else if (note.type === "vm_auto_released") {
    parts.push(t("notif.auto"));
  } else if (note.actor) {
    parts.push(actorName(note.actor));
  }
  const title = t(`notif.${note.type}`);
  const detail = parts.filter(Boolean).join(" · ");
  return { title: title === `notif.${note.type}` ? note.message : title, detail };
}

/** Show a toast; it leaves after a while, or at once with its close button or Escape. */
export function toast({ title, detail, kind = "info", timeout = 7000 }) {
  const region = byId("toasts");
  const attributes = { type: "button", class: "icon-button", "aria-label": t("action.close") };
  const close = el("button", attributes, icon("close"));
  const text = el(
    "div",
    { class: "toast-text" },
    el("strong", { class: "toast-title", text: title }),
    detail ? el("span", { class: "toast-detail", text: detail }) : null,
  );
  const node = el("div", { class: "toast", "data-kind": kind }, text, close);
  const dismiss = () => node.remove();
  close.addEventListener("click", dismiss);
  region.append(node);
  while (region.children.length > MAX_TOASTS) region.firstElementChild.remove();
  if (timeout) setTimeout(dismiss, timeout);
  return node;
}

/** Desktop alerts may still be asked for (the browser has them; nobody said yes or no). */
export function canAskDesktopAlerts() {
  return "Notification" in window && Notification.permission === "default";
}

export async function askDesktopAlerts() {
  if (canAskDesktopAlerts()) await Notification.requestPermission();
}

function desktopAlert(note, text) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  try {
    new Notification(text.title, { body: text.detail, tag: `loadzone-${note.type}-${note.vm_id}` });
  } catch {
    // Some browsers only allow notifications from a service worker; the toast is enough.
  }
}

/**
 * A `notification` event from the socket. The server sends it after the VM, booking and
 * queue events of the same change, so what it names is already known here.
 */
export function onNotification(note) {
  setUnread(unread + 1);
  const text = describe(note);
  const urgent = URGENT.has(note.type);
  toast({ ...text, kind: KINDS[note.type] || "info", timeout: urgent ? 20000 : 7000 });
  if (urgent) desktopAlert(note, text);
  if (byId("notif-dialog").open) byId("notif-list").prepend(item({ ...note, read: false }));
}

function item(note) {
  const text = describe(note);
  const button = el(
    "button",
    { type: "button", class: "notif", "data-id": note.id, "data-unread": !note.read },
    el("span", { class: "toast-title", text: text.title }),
    text.detail ? el("span", { class: "toast-detail", text: text.detail }) : null,
    el("time", { datetime: note.created_at, text: formatDateTime(note.created_at) }),
  );
  return el("li", {}, button);
}

async function loadPage(fresh) {
  const query = { limit: 30, cursor: fresh ? null : cursor };
  const page = await api("/api/notifications", { query });
  cursor = page.next_cursor;
  setUnread(page.unread);
  const list = byId("notif-list");
  if (fresh) list.replaceChildren();
  list.append(...page.items.map(item));
  byId("notif-more").hidden = !cursor;
  byId("notif-empty").hidden = list.children.length > 0;
}

async function markRead(body) {
  try {
    const result = await api("/api/notifications/read", { method: "POST", body });
    setUnread(result.unread);
    return true;
  } catch (error) {
    toast({ title: t("error.title"), detail: errorMessage(error), kind: "warning" });
    return false;
  }
}

function permissionButton() {
  byId("notif-permission").hidden = !canAskDesktopAlerts();
}

/** Re-read the unread count (first load and after a reconnect). */
export function refreshNotifications() {
  loadPage(true).catch(() => {});
}

export function initNotifications() {
  setUnread(0);
  byId("notif-button").addEventListener("click", (event) => {
    permissionButton();
    openDialog(byId("notif-dialog"), event.currentTarget);
    loadPage(true).catch((error) => {
      toast({ title: t("error.title"), detail: errorMessage(error), kind: "warning" });
    });
  });
  byId("notif-more").addEventListener("click", () => loadPage(false).catch(() => {}));
  byId("notif-read-all").addEventListener("click", async () => {
    if (!(await markRead({ all: true }))) return;
    for (const node of byId("notif-list").querySelectorAll("[data-unread]")) {
      delete node.dataset.unread;
    }
  });
  byId("notif-list").addEventListener("click", async (event) => {
    const node = event.target.closest(".notif[data-unread]");
    if (node && (await markRead({ ids: [Number(node.dataset.id)] }))) delete node.dataset.unread;
  });
  byId("notif-permission").addEventListener("click", async () => {
    await askDesktopAlerts();
    permissionButton();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !document.querySelector("dialog[open]")) {
      byId("toasts").lastElementChild?.remove();
    }
  });
}
