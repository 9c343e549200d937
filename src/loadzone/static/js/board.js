// The VM board: one row per VM, built once and then patched per event; filters only toggle
// `hidden`, and the countdowns are text nodes driven by countdown.js.
import { openClaim } from "./claim-dialog.js";
import { copyFrom } from "./copy-button.js";
import { track, untrack } from "./countdown.js";
import { onAction } from "./dialogs.js";
import { byId, debounce, el } from "./dom.js";
import { fillHealth, healthDot } from "./health-dot.js";
import { collator, formatNumber, formatWhen, t } from "./i18n.js";
import {
  addLabel,
  initLabelFilter,
  labelButtons,
  matchesLabels,
  setLabels,
  wantedLabels,
} from "./label-filter.js";
import { labelPairs } from "./labels-editor.js";
import * as queue from "./queue-data.js";
import * as store from "./store.js";
import { actionButtons, heldFor, queueText, statusOf, statusTip } from "./vm-actions.js";

const rows = new Map();
let order = [];
const filters = { q: "", group: "", status: "" };
let listNode;
let template;
let summaryQueued = false;

function refsOf(li) {
  const refs = {
    li,
    id: li.querySelector(".vm-id"),
    desc: li.querySelector(".vm-desc"),
    group: li.querySelector(".vm-group-name"),
    pill: li.querySelector(".pill"),
    owner: li.querySelector(".owner-email"),
    time: li.querySelector(".vm-time"),
    until: li.querySelector(".until"),
    meter: li.querySelector(".meter-fill"),
    actions: li.querySelector(".vm-actions"),
    extra: li.querySelector(".vm-extra"),
    address: li.querySelector(".vm-address"),
    addressText: li.querySelector(".address-text"),
    copy: li.querySelector(".copy-button"),
    labels: li.querySelector(".vm-labels"),
    health: healthDot(),
    labelText: "",
    queueText: "",
    count: document.createTextNode(""),
  };
  li.querySelector(".countdown").append(refs.count);
  return refs;
}

function fillAddress(refs, vm) {
  refs.address.hidden = !vm.address;
  refs.addressText.textContent = vm.address || "";
  if (vm.address && refs.copy.dataset.vm !== vm.id) {
    const label = t("board.copy_address", { vm: vm.id });
    refs.copy.dataset.vm = vm.id;
    refs.copy.setAttribute("aria-label", label);
    refs.copy.title = label;
  }
}

function fillLabels(refs, vm) {
  const text = labelPairs(vm.labels).join("\n");
  if (text === refs.labelText) return;
  refs.labelText = text;
  refs.labels.replaceChildren(...labelButtons(vm.labels));
  refs.labels.hidden = !text;
}

function fill(refs, vm) {
  const status = statusOf(vm);
  refs.li.dataset.status = status;
  refs.desc.textContent = vm.description || "";
  refs.desc.title = vm.description || "";
  fillAddress(refs, vm);
  fillLabels(refs, vm);
  fillHealth(refs.health, vm);
  refs.extra.hidden = refs.address.hidden && refs.labels.hidden;
  refs.group.textContent = store.groupName(vm.group);
  refs.pill.textContent = t(`status.${status}`);
  refs.pill.title = statusTip(vm, status);
  // A failed reset says why in the row itself: phones have no hover.
  const reason = status === "maintenance" ? vm.maintenance_reason || "" : "";
  const owner = status === "held" ? heldFor(vm) : vm.booked_by || reason;
  refs.owner.textContent = owner;
  refs.owner.title = owner;
  if (vm.booked_by && vm.expires_at) {
    refs.time.dataset.booked = "";
    refs.until.textContent = t("board.until", { time: formatWhen(vm.expires_at) });
    track(vm.id, {
      text: refs.count,
      host: refs.li,
      meter: refs.meter,
      expiresAt: vm.expires_at,
      startedAt: vm.booked_at,
    });
  } else {
    untrack(vm.id);
    delete refs.time.dataset.booked;
    refs.li.dataset.urgency = "";
    refs.count.nodeValue = "—";
  }
  refs.actions.replaceChildren(...actionButtons(vm));
  refs.queueText = queueText(vm);
}

function buildRow(vm) {
  const li = template.cloneNode(true);
  li.dataset.id = vm.id;
  const refs = refsOf(li);
  refs.id.append(vm.id, refs.health);
  fill(refs, vm);
  rows.set(vm.id, refs);
  return refs;
}

function groupMatches(vm) {
  if (!filters.group) return true;
  return filters.group === "none" ? vm.group == null : String(vm.group) === filters.group;
}

function statusMatches(vm) {
  if (!filters.status) return true;
  const status = statusOf(vm);
  if (filters.status === "booked") return status === "booked" || status === "mine";
  return status === filters.status;
}

function matches(vm) {
  if (!groupMatches(vm) || !statusMatches(vm) || !matchesLabels(vm)) return false;
  if (!filters.q) return true;
  const fields = [vm.id, vm.description, vm.booked_by, store.groupName(vm.group), vm.address];
  fields.push(...labelPairs(vm.labels));
  return fields.some((field) => field && field.toLowerCase().includes(filters.q));
}

function summarise() {
  summaryQueued = false;
  const counts = { free: 0, booked: 0, mine: 0, held: 0, resetting: 0, maintenance: 0 };
  let shown = 0;
  for (const [id, refs] of rows) {
    counts[statusOf(store.getVm(id))] += 1;
    if (!refs.li.hidden) shown += 1;
  }
  counts.booked += counts.mine;
  counts.maintenance += counts.resetting;
  delete counts.resetting;
  for (const [key, value] of Object.entries(counts)) {
    byId(`stat-${key}`).textContent = formatNumber(value);
  }
  byId("stat-held-item").hidden = counts.held === 0;
  const total = rows.size;
  byId("board-count").textContent = t("board.shown", {
    shown: formatNumber(shown),
    total: formatNumber(total),
  });
  const empty = byId("board-empty");
  empty.hidden = shown > 0;
  empty.textContent = total ? t("board.no_match") : t("board.no_vms");
}

function queueSummary() {
  if (summaryQueued) return;
  summaryQueued = true;
  requestAnimationFrame(summarise);
}

function applyFilters() {
  for (const [id, refs] of rows) {
    const hide = !matches(store.getVm(id));
    if (refs.li.hidden !== hide) refs.li.hidden = hide;
  }
  summarise();
}

function renderAll() {
  performance.mark("loadzone:board-render-start");
  rows.clear();
  const vms = [...store.allVms()].sort((a, b) => collator.compare(a.id, b.id));
  order = vms.map((vm) => vm.id);
  const fragment = document.createDocumentFragment();
  for (const vm of vms) fragment.append(buildRow(vm).li);
  listNode.replaceChildren(fragment);
  byId("board-loading").hidden = true;
  listNode.setAttribute("aria-busy", "false");
  applyFilters();
  performance.mark("loadzone:board-rendered");
}

function insertionIndex(id) {
  let low = 0;
  let high = order.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (collator.compare(order[mid], id) < 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

function flash(li) {
  if (window.matchMedia("(prefers-reduced-motion: reduce)").matches || li.hidden) return;
  const frames = [
    { boxShadow: "inset 0 0 0 2px var(--focus)" },
    { boxShadow: "inset 0 0 0 2px transparent" },
  ];
  li.animate(frames, { duration: 1200, easing: "ease-out" });
}

function onVm({ vm }) {
  let refs = rows.get(vm.id);
  if (refs) {
    fill(refs, vm);
  } else {
    const index = insertionIndex(vm.id);
    refs = buildRow(vm);
    const next = order[index] ? rows.get(order[index]).li : null;
    listNode.insertBefore(refs.li, next);
    order.splice(index, 0, vm.id);
  }
  refs.li.hidden = !matches(vm);
  flash(refs.li);
  queueSummary();
}

function onVmRemoved({ id }) {
  const refs = rows.get(id);
  if (!refs) return;
  untrack(id);
  refs.li.remove();
  rows.delete(id);
  order.splice(order.indexOf(id), 1);
  queueSummary();
}

function fillGroupFilter() {
  const select = byId("filter-group");
  const keep = filters.group; // may come from the URL before the groups were loaded
  const fixed = [...select.options].slice(0, 2);
  const options = store
    .sortedGroups()
    .map((group) => el("option", { value: group.id, text: group.name }));
  select.replaceChildren(...fixed, ...options);
  select.value = [...select.options].some((o) => o.value === keep) ? keep : "";
  filters.group = select.value;
}

function onGroups() {
  const selected = filters.group;
  fillGroupFilter();
  let renamed = false;
  for (const [id, refs] of rows) {
    const name = store.groupName(store.getVm(id).group);
    if (refs.group.textContent !== name) {
      refs.group.textContent = name;
      renamed = true;
    }
  }
  // Group names are searchable, and a deleted group may have been the filter.
  if (renamed || selected !== filters.group) applyFilters();
}

/** Rows whose queue part changed (a request joined, moved up, was granted or left). */
function onQueue() {
  for (const [id, refs] of rows) {
    const vm = store.getVm(id);
    if (refs.queueText !== queueText(vm)) fill(refs, vm);
  }
}

/**
 * Called by the router: `#board?group=3&status=free&label=os=linux` presets the filters
 * (`label` may repeat).
 */
export function showBoard(params) {
  let changed = false;
  for (const key of ["group", "status"]) {
    if (params.has(key)) {
      filters[key] = params.get(key);
      byId(`filter-${key}`).value = filters[key];
      changed = true;
    }
  }
  if (params.has("label")) setLabels(params.getAll("label"));
  else if (changed && rows.size) applyFilters();
}

export function initBoard() {
  listNode = byId("vm-list");
  template = byId("vm-row").content.firstElementChild;
  const search = byId("filter-q");
  const onSearch = debounce(() => {
    filters.q = search.value.trim().toLowerCase();
    applyFilters();
  }, 120);
  search.addEventListener("input", onSearch);
  for (const key of ["group", "status"]) {
    byId(`filter-${key}`).addEventListener("change", (event) => {
      filters[key] = event.target.value;
      applyFilters();
    });
  }
  byId("board-filters").addEventListener("submit", (event) => event.preventDefault());
  initLabelFilter(() => rows.size && applyFilters());
  listNode.addEventListener("click", (event) => {
    const chip = event.target.closest("[data-label-key]");
    if (chip) addLabel(chip.dataset.labelKey, chip.dataset.labelValue);
  });
  onAction("copy-address", (vm, button) => {
    if (vm.address) copyFrom(button, vm.address, button.parentElement.querySelector("code"));
  });
  byId("claim-any").addEventListener("click", (event) => {
    const group = /^\d+$/.test(filters.group) ? Number(filters.group) : null;
    openClaim({ group, labels: wantedLabels() }, event.currentTarget);
  });
  queue.on("request", onQueue);
  queue.on("reset", onQueue);
  store.on("reset", renderAll);
  store.on("vm", onVm);
  store.on("vm-removed", onVmRemoved);
  store.on("groups", onGroups);
}
