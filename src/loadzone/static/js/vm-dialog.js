// Add and edit a VM; the administrator's "change expiry" and "force release"; deleting.
import { api } from "./api.js";
import { askRelease } from "./book-dialog.js";
import { busy, confirmAction, onAction, openDialog } from "./dialogs.js";
import { byId, el, fromLocalInput, toLocalInput } from "./dom.js";
import { boot } from "./boot.js";
import { formatDateTime, t } from "./i18n.js";
import * as store from "./store.js";
import { statusOf } from "./vm-actions.js";

let current = null; // the VM being edited, or null when adding

function fillGroups(selected) {
  const options = [el("option", { value: "", text: t("group.none") })];
  for (const group of store.sortedGroups()) {
    options.push(el("option", { value: group.id, text: group.name }));
  }
  const select = byId("vm-group");
  select.replaceChildren(...options);
  select.value = selected == null ? "" : String(selected);
}

function detailRows(vm) {
  const rows = [
    [t("vm.status"), t(`status.${statusOf(vm)}`)],
    [t("vm.group"), store.groupName(vm.group) || t("group.none")],
  ];
  if (vm.booked_by) {
    rows.push([t("vm.owner"), vm.booked_by]);
    if (vm.booked_at) rows.push([t("vm.booked_at"), formatDateTime(vm.booked_at)]);
    rows.push([t("vm.expires_at"), formatDateTime(vm.expires_at)]);
  }
  if (vm.description && !boot.can_manage) rows.push([t("vm.description"), vm.description]);
  return rows.flatMap(([term, value]) => [el("dt", { text: term }), el("dd", { text: value })]);
}

function showDetails(vm) {
  byId("vm-details").replaceChildren(...detailRows(vm));
  const admin = boot.is_admin && Boolean(vm.booked_by);
  byId("vm-admin").hidden = !admin;
  if (admin) byId("vm-expiry").value = toLocalInput(vm.expires_at);
}

function open(vm, opener) {
  current = vm;
  const dialog = byId("vm-dialog");
  dialog.dataset.vm = vm ? vm.id : "";
  byId("vm-title").textContent = vm ? vm.id : t("vm.add_title");
  byId("vm-details").hidden = !vm;
  byId("vm-form").hidden = !boot.can_manage;
  byId("vm-id-field").hidden = Boolean(vm);
  byId("vm-id").value = "";
  byId("vm-id").required = !vm;
  byId("vm-maintenance-field").hidden = !vm;
  byId("vm-maintenance").checked = Boolean(vm?.maintenance);
  byId("vm-description").value = vm?.description || "";
  byId("vm-save").textContent = vm ? t("action.save") : t("action.add");
  fillGroups(vm?.group);
  byId("vm-history-link").hidden = !vm;
  byId("vm-delete").hidden = !vm || !boot.can_manage;
  if (vm) {
    byId("vm-history-link").href = `#history?vm=${encodeURIComponent(vm.id)}`;
    showDetails(vm);
  } else {
    byId("vm-admin").hidden = true;
  }
  openDialog(dialog, opener);
}

function changes() {
  const group = byId("vm-group").value ? Number(byId("vm-group").value) : null;
  const description = byId("vm-description").value.trim();
  if (!current) return { id: byId("vm-id").value.trim(), group, description };
  const body = {};
  if (group !== current.group) body.group = group;
  if (description !== (current.description || "")) body.description = description;
  const maintenance = byId("vm-maintenance").checked;
  if (maintenance !== Boolean(current.maintenance)) body.maintenance = maintenance;
  return body;
}

async function save(event) {
  event.preventDefault();
  const body = changes();
  if (current && !Object.keys(body).length) {
    byId("vm-dialog").close();
    return;
  }
  const path = current ? `/api/vms/${encodeURIComponent(current.id)}` : "/api/vms";
  const vm = await busy(byId("vm-save"), byId("vm-error"), () =>
    api(path, { method: current ? "PATCH" : "POST", body }),
  );
  if (vm) {
    store.putVm(vm);
    byId("vm-dialog").close();
  }
}

async function changeExpiry(event) {
  event.preventDefault();
  const expires = fromLocalInput(byId("vm-expiry").value);
  const button = event.submitter || byId("vm-expiry-form").querySelector("button");
  const vm = await busy(button, byId("vm-error"), () =>
    api(`/api/vms/${encodeURIComponent(current.id)}`, {
      method: "PATCH",
      body: { expires_at: expires },
    }),
  );
  if (vm) {
    store.putVm(vm);
    byId("vm-dialog").close();
  }
}

function askDelete() {
  const vm = current;
  confirmAction({
    title: t("dialog.delete_vm_title", { vm: vm.id }),
    text: vm.booked_by
      ? t("dialog.delete_booked_vm_text", { owner: vm.booked_by })
      : t("dialog.delete_vm_text"),
    label: t("action.delete"),
    run: async () => {
      const force = vm.booked_by && boot.is_admin ? "true" : undefined;
      await api(`/api/vms/${encodeURIComponent(vm.id)}`, { method: "DELETE", query: { force } });
      store.dropVm(vm.id);
      byId("vm-dialog").close();
    },
  });
}

export function initVmDialog() {
  byId("vm-form").addEventListener("submit", save);
  byId("vm-expiry-form").addEventListener("submit", changeExpiry);
  byId("vm-delete").addEventListener("click", askDelete);
  byId("vm-force-release").addEventListener("click", (event) => {
    askRelease(current, event.currentTarget);
  });
  byId("vm-history-link").addEventListener("click", () => byId("vm-dialog").close());
  byId("add-vm")?.addEventListener("click", (event) => open(null, event.currentTarget));
  onAction("details", open);
  store.on("vm", ({ vm }) => {
    if (current?.id !== vm.id || !byId("vm-dialog").open) return;
    current = vm;
    showDetails(vm);
  });
  store.on("vm-removed", ({ id }) => {
    if (current?.id === id && byId("vm-dialog").open) byId("vm-dialog").close();
  });
}
