// "My bookings" (current bookings and my history) and the audit history with its filters.
import { api, errorMessage } from "./api.js";
import { track } from "./countdown.js";
import { byId, debounce, el, fromLocalInput, showError } from "./dom.js";
import { boot } from "./boot.js";
import { formatDateTime, formatWhen, t } from "./i18n.js";
import * as store from "./store.js";
import { actionButtons } from "./vm-actions.js";

const PAGE = 50;

/** A table filled from a paginated endpoint, with "load more" following next_cursor. */
class PagedTable {
  constructor({ path, body, more, empty, error, row }) {
    Object.assign(this, { path, body, more, empty, error, row });
    this.query = {};
    this.cursor = null;
    this.pages = 0;
    this.controller = null;
    more.addEventListener("click", () => this.load(false));
  }

  async load(fresh = true) {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    const query = { ...this.query, limit: PAGE, cursor: fresh ? null : this.cursor };
    this.more.disabled = true;
    try {
      const page = await api(this.path, { query, signal: controller.signal });
      if (fresh) this.body.replaceChildren();
      this.body.append(...page.items.map((entry) => this.row(entry)));
      this.cursor = page.next_cursor;
      this.pages = fresh ? 1 : this.pages + 1;
      this.more.hidden = !this.cursor;
      this.empty.hidden = this.body.children.length > 0;
      if (this.error) showError(this.error, "");
    } catch (error) {
      if (error.name === "AbortError") return;
      if (this.error) showError(this.error, errorMessage(error));
    } finally {
      if (this.controller === controller) this.more.disabled = false;
    }
  }
}

function actionTag(action) {
  return el("span", { class: "action-tag", "data-action": action, text: t(`history.${action}`) });
}

function details(entry) {
  if (entry.action === "release" && entry.reason === "expired") return t("history.expired");
  if (entry.actor && entry.actor !== entry.user) return t("history.by", { actor: entry.actor });
  return "";
}

function cell(text, className) {
  return el("td", { class: className, text });
}

function mineRow(entry) {
  return el(
    "tr",
    {},
    el("td", {}, el("time", { datetime: entry.at, text: formatDateTime(entry.at) })),
    el("td", {}, actionTag(entry.action)),
    cell(entry.vm_id, "vm-id"),
    cell(entry.end ? formatDateTime(entry.end) : "—"),
    cell(details(entry), "muted"),
  );
}

function auditRow(entry) {
  const by = entry.reason === "expired" ? t("history.system") : entry.actor || t("history.system");
  return el(
    "tr",
    {},
    el("td", {}, el("time", { datetime: entry.at, text: formatDateTime(entry.at) })),
    el("td", {}, actionTag(entry.action)),
    cell(entry.vm_id, "vm-id"),
    cell(entry.user),
    cell(by),
    cell(entry.end ? formatDateTime(entry.end) : "—"),
  );
}

// -- current bookings ------------------------------------------------------------------------
function bookingCard(vm) {
  const count = document.createTextNode("");
  const meter = el("span", { class: "meter-fill" });
  const card = el(
    "li",
    { class: "card booking-card", "data-vm-card": vm.id },
    el(
      "div",
      { class: "card-head" },
      el("h3", { class: "vm-id", text: vm.id }),
      el("span", { class: "muted", text: store.groupName(vm.group) }),
    ),
    vm.description ? el("p", { class: "muted", text: vm.description }) : null,
    el(
      "div",
      { class: "vm-time", "data-booked": true },
      el("span", { class: "countdown" }, count),
      el("span", { class: "until", text: t("board.until", { time: formatWhen(vm.expires_at) }) }),
      el("span", { class: "meter", "aria-hidden": "true" }, meter),
    ),
    el("div", { class: "card-actions" }, ...actionButtons(vm)),
  );
  const times = { expiresAt: vm.expires_at, startedAt: vm.booked_at };
  track(`card:${vm.id}`, { text: count, host: card, meter, ...times });
  return card;
}

function renderActive() {
  const mine = [...store.allVms()]
    .filter((vm) => vm.booked_by === boot.email)
    .sort((a, b) => Date.parse(a.expires_at) - Date.parse(b.expires_at));
  byId("mine-active").replaceChildren(...mine.map(bookingCard));
  byId("mine-none").hidden = mine.length > 0;
}

// -- wiring ----------------------------------------------------------------------------------
let shown = null;
let mineTable;
let auditTable;

function readFilters() {
  const form = byId("history-filters");
  return {
    vm_id: form.vm_id.value.trim(),
    user: form.user.value.trim(),
    action: form.action.value,
    since: fromLocalInput(form.since.value),
    until: fromLocalInput(form.until.value),
  };
}

/** Called by the router with the view shown ("mine", "history" or null) and its parameters. */
export function showHistory(view, params) {
  shown = view;
  if (view === "mine") {
    renderActive();
    mineTable.load();
  } else if (view === "history") {
    if (params?.has("vm")) {
      byId("history-filters").reset();
      byId("history-vm").value = params.get("vm");
    }
    auditTable.query = readFilters();
    auditTable.load();
  }
}

function touchesMe(vm, previous) {
  return vm.booked_by === boot.email || previous?.booked_by === boot.email;
}

export function initHistory() {
  mineTable = new PagedTable({
    path: "/api/me/bookings",
    body: byId("mine-rows"),
    more: byId("mine-more"),
    empty: byId("mine-empty"),
    row: mineRow,
  });
  auditTable = new PagedTable({
    path: "/api/history",
    body: byId("history-rows"),
    more: byId("history-more"),
    empty: byId("history-empty"),
    error: byId("history-error"),
    row: auditRow,
  });
  const form = byId("history-filters");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    auditTable.query = readFilters();
    auditTable.load();
  });
  form.addEventListener("reset", () => {
    setTimeout(() => {
      auditTable.query = {};
      auditTable.load();
    });
  });
  // A booking change adds an audit record: refresh what is on screen, a moment later.
  const reloadMine = debounce(() => shown === "mine" && mineTable.load(), 600);
  // Someone reading older pages keeps them; the first page alone follows along.
  const reloadAudit = debounce(
    () => shown === "history" && auditTable.pages <= 1 && auditTable.load(),
    600,
  );
  store.on("vm", ({ vm, previous }) => {
    if (vm.booked_by === previous?.booked_by && vm.expires_at === previous?.expires_at) return;
    if (touchesMe(vm, previous) && shown === "mine") {
      renderActive();
      reloadMine();
    }
    reloadAudit();
  });
  store.on("reset", () => {
    if (shown === "mine") renderActive();
    reloadMine();
    reloadAudit();
  });
}
