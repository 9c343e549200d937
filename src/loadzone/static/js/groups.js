// The groups view: create, rename, delete groups and move VMs between them.
import { api, errorMessage } from "./api.js";
import { statusOf } from "./board.js";
import { busy, confirmAction, openDialog } from "./dialogs.js";
import { byId, el, icon, showError } from "./dom.js";
import { boot, formatNumber, t } from "./i18n.js";
import { toast } from "./notifications.js";
import * as store from "./store.js";

const CHIP_LIMIT = 40;
let editing = null; // the group being renamed, or null when creating
let visible = false;
let dirty = true;

function members() {
  const byGroup = new Map();
  for (const vm of store.allVms()) {
    const key = vm.group ?? "none";
    if (!byGroup.has(key)) byGroup.set(key, []);
    byGroup.get(key).push(vm);
  }
  for (const list of byGroup.values()) list.sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }));
  return byGroup;
}

function chip(vm, groupId) {
  const item = el("li", { class: groupId == null || !boot.can_manage ? "chip static" : "chip" });
  item.append(el("span", { class: "vm-id", text: vm.id }));
  item.dataset.status = statusOf(vm);
  if (groupId != null && boot.can_manage) {
    const label = t("group.remove_vm", { vm: vm.id });
    item.append(
      el("button", {
        type: "button",
        class: "chip-remove",
        "data-group-action": "ungroup",
        "data-id": vm.id,
        "aria-label": label,
        title: label,
      }, icon("close")),
    );
  }
  return item;
}

function moveForm(groupId) {
  const key = groupId ?? "none";
  const input = el("input", {
    id: `move-${key}`,
    class: "input mono",
    list: "vm-ids",
    autocomplete: "off",
    maxlength: 64,
    required: true,
  });
  return el(
    "form",
    { class: "inline-form move-form", "data-group": key },
    el("div", { class: "field" }, el("label", { for: input.id, text: t("group.move_here") }), input),
    el("button", { type: "submit", class: "button", text: t("action.move") }),
    el("p", { class: "notice error", role: "alert", hidden: true }),
  );
}

function card(group, vms) {
  const id = group ? group.id : null;
  const booked = vms.filter((vm) => vm.booked_by).length;
  const title = group ? group.name : t("group.none");
  const chips = el("ul", { class: "chips", "aria-label": t("group.vms_of", { group: title }) });
  chips.append(...vms.slice(0, CHIP_LIMIT).map((vm) => chip(vm, id)));
  if (vms.length > CHIP_LIMIT) {
    chips.append(el("li", { class: "chip static more", text: t("group.more", { n: formatNumber(vms.length - CHIP_LIMIT) }) }));
  }
  const actions = el("div", { class: "card-actions" });
  actions.append(
    el("a", { class: "button small ghost", href: `#board?group=${id ?? "none"}`, text: t("group.show_on_board") }),
  );
  if (group && boot.can_manage) {
    actions.append(
      el("button", { type: "button", class: "button small", "data-group-action": "rename", "data-id": id, text: t("action.rename") }),
      el("button", { type: "button", class: "button small danger ghost", "data-group-action": "delete", "data-id": id, text: t("action.delete") }),
    );
  }
  return el(
    "li",
    { class: "card group-card", "data-group-id": id ?? "none" },
    el(
      "div",
      { class: "card-head" },
      el("h2", { text: title }),
      el("span", { class: "meta", text: t("group.counts", { n: formatNumber(vms.length), booked: formatNumber(booked) }) }),
    ),
    vms.length ? chips : el("p", { class: "muted", text: t("group.empty") }),
    boot.can_manage ? moveForm(id) : null,
    actions,
  );
}

function render() {
  dirty = false;
  const byGroup = members();
  const groups = store.sortedGroups();
  const cards = groups.map((group) => card(group, byGroup.get(group.id) || []));
  const loose = byGroup.get("none") || [];
  if (loose.length || groups.length) cards.push(card(null, loose));
  // A re-render must not lose what someone is typing in a "move" field, nor the focus.
  const list = byId("group-list");
  const drafts = [...list.querySelectorAll(".move-form input")].map((i) => [i.id, i.value]);
  const focused = document.activeElement?.id;
  list.replaceChildren(...cards);
  for (const [id, value] of drafts) if (byId(id)) byId(id).value = value;
  byId("groups-empty").hidden = groups.length > 0;
  if (focused && byId(focused)) byId(focused).focus();
}

function refresh() {
  if (visible) render();
  else dirty = true;
}

let queued = false;
function queueRefresh() {
  if (queued) return;
  queued = true;
  requestAnimationFrame(() => {
    queued = false;
    refresh();
  });
}

export function showGroups(show) {
  visible = show;
  if (show && dirty) render();
}

function openGroupDialog(group, opener) {
  editing = group;
  byId("group-title").textContent = group ? t("group.rename_title", { group: group.name }) : t("group.create_title");
  byId("group-submit").textContent = group ? t("action.rename") : t("action.create");
  byId("group-name").value = group ? group.name : "";
  openDialog(byId("group-dialog"), opener);
}

async function submitGroup(event) {
  event.preventDefault();
  const name = byId("group-name").value.trim();
  const path = editing ? `/api/groups/${editing.id}` : "/api/groups";
  const group = await busy(byId("group-submit"), byId("group-error"), () =>
    api(path, { method: editing ? "PATCH" : "POST", body: { name } }),
  );
  if (group) {
    store.putGroup(group);
    byId("group-dialog").close();
  }
}

async function moveVm(form) {
  const input = form.querySelector("input");
  const error = form.querySelector(".notice");
  const vmId = input.value.trim();
  if (!store.getVm(vmId)) {
    showError(error, t("group.no_such_vm", { vm: vmId }));
    return;
  }
  const group = form.dataset.group === "none" ? null : Number(form.dataset.group);
  const vm = await busy(form.querySelector("button"), error, () =>
    api(`/api/vms/${encodeURIComponent(vmId)}`, { method: "PATCH", body: { group } }),
  );
  if (vm) {
    input.value = "";
    store.putVm(vm);
  }
}

async function onCardClick(event) {
  const target = event.target.closest("[data-group-action]");
  if (!target) return;
  const { groupAction, id } = target.dataset;
  if (groupAction === "ungroup") {
    try {
      store.putVm(await api(`/api/vms/${encodeURIComponent(id)}`, { method: "PATCH", body: { group: null } }));
    } catch (error) {
      toast({ title: t("error.title"), detail: errorMessage(error), kind: "warning" });
    }
    return;
  }
  const group = store.getGroup(Number(id));
  if (!group) return;
  if (groupAction === "rename") openGroupDialog(group, target);
  if (groupAction === "delete") {
    confirmAction(
      {
        title: t("group.delete_title", { group: group.name }),
        text: t("group.delete_text"),
        label: t("action.delete"),
        run: async () => {
          await api(`/api/groups/${group.id}`, { method: "DELETE" });
          store.dropGroup(group.id);
        },
      },
      target,
    );
  }
}

export function initGroups() {
  byId("add-group")?.addEventListener("click", (event) => openGroupDialog(null, event.currentTarget));
  byId("group-form").addEventListener("submit", submitGroup);
  const list = byId("group-list");
  list.addEventListener("click", onCardClick);
  list.addEventListener("submit", (event) => {
    event.preventDefault();
    moveVm(event.target);
  });
  for (const type of ["reset", "groups", "vm", "vm-removed"]) store.on(type, queueRefresh);
}
