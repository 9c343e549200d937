// The queue view: who waits for what, in grant order, live; one's own requests can be left,
// an admin may remove any. The tab shows how many wait.
import { boot } from "./boot.js";
import { openClaim } from "./claim-dialog.js";
import { confirmAction } from "./dialogs.js";
import { byId, el } from "./dom.js";
import { formatNumber, formatWhen, t } from "./i18n.js";
import * as queue from "./queue-data.js";
import { describeTarget, turnTime } from "./queue-text.js";
import * as store from "./store.js";

let visible = false;
let dirty = true;

function cell(label, content, className) {
  const td = el("td", { "data-label": label, class: className });
  td.append(content);
  return td;
}

function who(request) {
  if (request.owner !== boot.email) return request.owner;
  return t("cal.you_owner", { owner: request.owner });
}

function actions(request) {
  const mine = request.owner === boot.email;
  if (!mine && !boot.is_admin) return "";
  const target = describeTarget(request);
  return el("button", {
    type: "button",
    class: `button small ${mine ? "" : "danger ghost"}`,
    "data-leave": request.id,
    "aria-label": mine
      ? t("queue.leave_request", { target })
      : t("queue.remove_request", { owner: request.owner, target }),
    text: mine ? t("queue.leave") : t("queue.remove"),
  });
}

function row(request) {
  const held = request.held_vm_ids?.length ? request.held_vm_ids.join(", ") : "—";
  return el(
    "tr",
    { "data-request": request.id, "data-mine": request.owner === boot.email },
    cell(t("queue.place"), request.position ? `#${formatNumber(request.position)}` : "—", "queue-place"),
    cell(t("queue.who"), who(request), "queue-who"),
    cell(t("queue.target"), describeTarget(request), "queue-target"),
    cell(t("queue.count"), formatNumber(request.count), "num"),
    cell(t("queue.hours"), formatNumber(request.hours), "num"),
    cell(t("queue.eta"), turnTime(request), "queue-eta"),
    cell(t("queue.held"), el("span", { class: "mono", text: held }), "queue-held"),
    cell(t("queue.until"), formatWhen(request.wait_until), "queue-until"),
    cell(t("queue.actions"), actions(request), "queue-actions"),
  );
}

function render() {
  dirty = false;
  const requests = queue.all();
  const body = byId("queue-rows");
  // A re-render must not lose the focus of a Leave button that is still there.
  const focused = document.activeElement?.dataset?.leave;
  body.replaceChildren(...requests.map(row));
  byId("queue-table").hidden = requests.length === 0;
  byId("queue-empty").hidden = requests.length > 0;
  if (focused) body.querySelector(`[data-leave="${focused}"]`)?.focus();
}

function badge() {
  const count = queue.count();
  const node = byId("queue-count");
  node.textContent = formatNumber(count);
  node.hidden = count === 0;
}

function refresh() {
  badge();
  if (visible) render();
  else dirty = true;
}

export function showQueue(show) {
  visible = show;
  if (show && dirty) render();
}

function askLeave(request, button) {
  const mine = request.owner === boot.email;
  const target = describeTarget(request);
  confirmAction(
    {
      title: mine ? t("queue.leave_title") : t("queue.remove_title", { owner: request.owner }),
      text: t("queue.leave_text", { target, n: request.position ?? "?" }),
      label: mine ? t("queue.leave") : t("queue.remove"),
      run: async () => {
        await queue.leave(request.id);
        // The row is gone: focus goes to the next one's button, or to the heading.
        const next = button.closest("tr")?.nextElementSibling?.querySelector("[data-leave]");
        byId("confirm-dialog").returnTo = next || byId("queue-title");
      },
    },
    button,
  );
}

export function initQueueView() {
  byId("queue-rows").addEventListener("click", (event) => {
    const button = event.target.closest("[data-leave]");
    const request = button && queue.get(Number(button.dataset.leave));
    if (request) askLeave(request, button);
  });
  byId("queue-claim").addEventListener("click", (event) => openClaim({}, event.currentTarget));
  queue.on("request", refresh);
  queue.on("reset", refresh);
  // Group names appear in what requests wait for.
  store.on("groups", refresh);
}
