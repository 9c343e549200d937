// The board's booking dialogs: book and renew (hours), release (a confirmation).
import { api, serverNow } from "./api.js";
import { busy, confirmAction, onAction, openDialog } from "./dialogs.js";
import { byId } from "./dom.js";
import { boot } from "./boot.js";
import { formatDateTime, formatHours, t } from "./i18n.js";
import * as store from "./store.js";

const HOUR = 3600000;

const hours = { mode: "book", vm: null, max: boot.max_hours };

function renewRoom(vm) {
  const now = serverNow();
  const base = Math.max(Date.parse(vm.expires_at), now);
  return Math.floor((now + boot.max_hours * HOUR - base) / HOUR);
}

function endsAt(value) {
  const now = serverNow();
  const base = hours.mode === "renew" ? Math.max(Date.parse(hours.vm.expires_at), now) : now;
  return base + value * HOUR;
}

function showHours() {
  const range = byId("hours-range");
  const value = Number(range.value);
  byId("hours-value").textContent = formatHours(value);
  range.setAttribute("aria-valuetext", formatHours(value));
  byId("hours-ends").textContent = hours.max
    ? t("dialog.ends_at", { time: formatDateTime(endsAt(value)) })
    : t("dialog.renew_none", { max: boot.max_hours });
  for (const quick of byId("hours-quick").children) {
    quick.setAttribute("aria-pressed", String(Number(quick.dataset.hours) === value));
  }
}

function quickChoices(max) {
  const choices = [...new Set([1, 2, 4, 8, max])].filter((h) => h >= 1 && h <= max);
  return choices.map((h) => {
    const quick = document.createElement("button");
    quick.type = "button";
    quick.className = "button small";
    quick.dataset.hours = String(h);
    quick.textContent = formatHours(h);
    return quick;
  });
}

function openHours(mode, vm, opener) {
  hours.mode = mode;
  hours.vm = vm;
  hours.max = mode === "book" ? boot.max_hours : Math.max(0, renewRoom(vm));
  const dialog = byId("hours-dialog");
  dialog.dataset.vm = vm.id;
  const title = mode === "book" ? "dialog.book_title" : "dialog.renew_title";
  byId("hours-title").textContent = t(title, { vm: vm.id });
  byId("hours-label").textContent = t(mode === "book" ? "dialog.duration" : "dialog.add_hours");
  byId("hours-vm-desc").textContent = vm.description || "";
  byId("hours-vm-desc").hidden = !vm.description;
  const range = byId("hours-range");
  range.max = String(Math.max(1, hours.max));
  range.value = String(Math.min(mode === "book" ? 2 : 1, Math.max(1, hours.max)));
  range.disabled = hours.max < 1;
  byId("hours-quick").replaceChildren(...quickChoices(hours.max));
  const submit = byId("hours-submit");
  submit.textContent = t(mode === "book" ? "action.book" : "action.renew");
  submit.disabled = hours.max < 1;
  showHours();
  openDialog(dialog, opener);
}

async function submitHours(event) {
  event.preventDefault();
  const submit = byId("hours-submit");
  const path = `/api/vms/${encodeURIComponent(hours.vm.id)}/${hours.mode}`;
  const vm = await busy(submit, byId("hours-error"), () =>
    api(path, { method: "POST", body: { hours: Number(byId("hours-range").value) } }),
  );
  if (vm) {
    store.putVm(vm);
    byId("hours-dialog").close();
  }
}

// -- release ---------------------------------------------------------------------------------
export function askRelease(vm, opener) {
  const mine = vm.booked_by === boot.email;
  confirmAction(
    {
      title: t(mine ? "dialog.release_title" : "dialog.force_release_title", { vm: vm.id }),
      text: mine
        ? t("dialog.release_text")
        : t("dialog.force_release_text", { owner: vm.booked_by || "" }),
      label: t(mine ? "action.release" : "action.force_release"),
      vm: vm.id,
      run: async () => {
        const path = `/api/vms/${encodeURIComponent(vm.id)}/release`;
        store.putVm(await api(path, { method: "POST" }));
      },
    },
    opener,
  );
}

export function initBookDialog() {
  byId("hours-form").addEventListener("submit", submitHours);
  byId("hours-range").addEventListener("input", showHours);
  byId("hours-quick").addEventListener("click", (event) => {
    const quick = event.target.closest("[data-hours]");
    if (!quick) return;
    byId("hours-range").value = quick.dataset.hours;
    showHours();
  });
  onAction("book", (vm, opener) => openHours("book", vm, opener));
  onAction("renew", (vm, opener) => openHours("renew", vm, opener));
  onAction("release", askRelease);
}
