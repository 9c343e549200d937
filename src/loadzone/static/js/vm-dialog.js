// Add and edit a VM (group, address, labels, description, maintenance); the administrator's
// "change expiry" and "force release"; deleting.
import { api } from "./api.js";
import { askRelease } from "./book-dialog.js";
import { busy, confirmAction, onAction, openDialog } from "./dialogs.js";
import { byId, el, fromLocalInput, showError, toLocalInput } from "./dom.js";
import { boot } from "./boot.js";
import { formatDateTime, t } from "./i18n.js";
import { LabelsEditor, labelPairs, sameLabels } from "./labels-editor.js";
import * as store from "./store.js";
import { holderOf, statusOf } from "./vm-actions.js";

let current = null; // the VM being edited, or null when adding
let labels;

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
  const status = statusOf(vm);
  const rows = [
    [t("vm.status"), t(`status.${status}`)],
    [t("vm.group"), store.groupName(vm.group) || t("group.none")],
  ];
  if (status === "held") {
    const holder = holderOf(vm);
    rows.push([t("vm.held_for"), holder ? holder.owner : t("status.held_tip")]);
  }
  if (status === "maintenance" && vm.maintenance_reason) {
    rows.push([t("vm.maintenance_reason"), vm.maintenance_reason]);
  }
  if (vm.address) rows.push([t("vm.address"), vm.address]);
  const pairs = labelPairs(vm.labels);
  if (pairs.length) rows.push([t("vm.labels"), pairs.join(", ")]);
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
  byId("vm-address").value = vm?.address || "";
  labels.set(vm?.labels || {});
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

/** What Save sends (only what changed, when editing), or `{error, field}`. */
function changes() {
  const group = byId("vm-group").value ? Number(byId("vm-group").value) : null;
  const description = byId("vm-description").value.trim();
  const address = byId("vm-address").value.trim() || null;
  const read = labels.read();
  if (read.error) return read;
  if (!current) {
    const body = { id: byId("vm-id").value.trim(), group, description, labels: read.labels };
    if (address) body.address = address;
    return { body };
  }
  const body = {};
  if (group !== current.group) body.group = group;
  if (description !== (current.description || "")) body.description = description;
  if (address !== (current.address || null)) body.address = address;
  if (!sameLabels(read.labels, current.labels)) body.labels = read.labels;
  const maintenance = byId("vm-maintenance").checked;
  if (maintenance !== Boolean(current.maintenance)) body.maintenance = maintenance;
  return { body };
}

async function save(event) {
  event.preventDefault();
  const { body, error, field } = changes();
  if (error) {
    showError(byId("vm-error"), error);
    field?.focus();
    return;
  }
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
  labels = new LabelsEditor(byId("vm-labels"));
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
