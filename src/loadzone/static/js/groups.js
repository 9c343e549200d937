// The groups view: create, rename, delete groups and move VMs between them.
import { api, errorMessage } from "./api.js";
import { openClaim } from "./claim-dialog.js";
import { busy, confirmAction, openDialog } from "./dialogs.js";
import { byId, el, icon, showError } from "./dom.js";
import { boot } from "./boot.js";
import { collator, formatNumber, t } from "./i18n.js";
import { toast } from "./notifications.js";
import * as store from "./store.js";
import { statusOf } from "./vm-actions.js";

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
  for (const list of byGroup.values()) list.sort((a, b) => collator.compare(a.id, b.id));
  return byGroup;
}

function chip(vm, removable) {
  const item = el("li", { class: removable ? "chip" : "chip static", "data-status": statusOf(vm) });
  item.append(el("span", { class: "vm-id", text: vm.id }));
  if (removable) {
    const label = t("group.remove_vm", { vm: vm.id });
    const attributes = { "data-group-action": "ungroup", "data-id": vm.id };
    item.append(
      el(
        "button",
        { type: "button", class: "chip-remove", "aria-label": label, title: label, ...attributes },
        icon("close"),
      ),
    );
  }
  return item;
}

function chips(vms, group, title) {
  const list = el("ul", { class: "chips", "aria-label": t("group.vms_of", { group: title }) });
  const removable = Boolean(group) && boot.can_manage;
  list.append(...vms.slice(0, CHIP_LIMIT).map((vm) => chip(vm, removable)));
  if (vms.length > CHIP_LIMIT) {
    const more = t("group.more", { n: formatNumber(vms.length - CHIP_LIMIT) });
    list.append(el("li", { class: "chip static more", text: more }));
  }
  return list;
}

function moveForm(key) {
  const input = el("input", {
    id: `move-${key}`,
    class: "input mono",
    list: "vm-ids",
    autocomplete: "off",
    maxlength: 64,
    required: true,
  });
  const label = el("label", { for: input.id, text: t("group.move_here") });
  return el(
    "form",
    { class: "inline-form move-form", "data-group": key },
    el("div", { class: "field" }, label, input),
    el("button", { type: "submit", class: "button", text: t("action.move") }),
    el("p", { class: "notice error", role: "alert", hidden: true }),
  );
}

function cardActions(group, key) {
  const actions = el("div", { class: "card-actions" });
  const href = `#board?group=${key}`;
  actions.append(el("a", { class: "button small ghost", href, text: t("group.show_on_board") }));
  if (!group) return actions;
  const button = (action, className, text, label) =>
    el("button", {
      type: "button",
      class: `button small ${className}`,
      "data-group-action": action,
      "data-id": group.id,
      "aria-label": label,
      text,
    });
  const claim = t("group.claim_in", { group: group.name });
  actions.append(button("claim", "", t("claim.open"), claim));
  if (boot.can_manage) {
    actions.append(
      button("rename", "", t("action.rename")),
      button("delete", "danger ghost", t("action.delete")),
    );
  }
  return actions;
}

function card(group, vms) {
  const key = group ? String(group.id) : "none";
  const title = group ? group.name : t("group.none");
  const booked = vms.filter((vm) => vm.booked_by).length;
  const counts = t("group.counts", { n: formatNumber(vms.length), booked: formatNumber(booked) });
  return el(
    "li",
    { class: "card group-card", "data-group-id": key },
    el(
      "div",
      { class: "card-head" },
      el("h2", { text: title }),
      el("span", { class: "meta", text: counts }),
    ),
    vms.length ? chips(vms, group, title) : el("p", { class: "muted", text: t("group.empty") }),
    boot.can_manage ? moveForm(key) : null,
    cardActions(group, key),
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

let queued = false;
function queueRefresh() {
  if (queued) return;
  queued = true;
  requestAnimationFrame(() => {
    queued = false;
    if (visible) render();
    else dirty = true;
  });
}

export function showGroups(show) {
  visible = show;
  if (show && dirty) render();
}

function openGroupDialog(group, opener) {
  editing = group;
  const title = group ? t("group.rename_title", { group: group.name }) : t("group.create_title");
  byId("group-title").textContent = title;
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

function moveTo(vmId, group) {
  return api(`/api/vms/${encodeURIComponent(vmId)}`, { method: "PATCH", body: { group } });
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
  const vm = await busy(form.querySelector("button"), error, () => moveTo(vmId, group));
  if (vm) {
    input.value = "";
    store.putVm(vm);
  }
}

function askDelete(group, opener) {
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
    opener,
  );
}

async function onCardClick(event) {
  const target = event.target.closest("[data-group-action]");
  if (!target) return;
  const { groupAction, id } = target.dataset;
  if (groupAction === "ungroup") {
    try {
      store.putVm(await moveTo(id, null));
    } catch (error) {
      toast({ title: t("error.title"), detail: errorMessage(error), kind: "warning" });
    }
    return;
  }
  const group = store.getGroup(Number(id));
  if (group && groupAction === "claim") openClaim({ group: group.id }, target);
  if (group && groupAction === "rename") openGroupDialog(group, target);
  if (group && groupAction === "delete") askDelete(group, target);
}

export function initGroups() {
  byId("add-group")?.addEventListener("click", (event) => {
    openGroupDialog(null, event.currentTarget);
  });
  byId("group-form").addEventListener("submit", submitGroup);
  const list = byId("group-list");
  list.addEventListener("click", onCardClick);
  list.addEventListener("submit", (event) => {
    event.preventDefault();
    moveVm(event.target);
  });
  for (const type of ["reset", "groups", "vm", "vm-removed"]) store.on(type, queueRefresh);
}
