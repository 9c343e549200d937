// "Get any free VM" (count, hours and labels from a group, optionally waiting in the queue)
// and "Wait for it" (one VM that is taken or held): POST /api/bookings, then the outcome in
// the dialog: the VMs granted, or the place in the queue and the expected turn.
import { boot } from "./boot.js";
import { busy, onAction, openDialog } from "./dialogs.js";
import { byId, el, showError } from "./dom.js";
import { formatHours, formatWhen, t } from "./i18n.js";
import { LabelsEditor } from "./labels-editor.js";
import { askDesktopAlerts, canAskDesktopAlerts } from "./notifications.js";
import * as queue from "./queue-data.js";
import { describeTarget, expectedTurn } from "./queue-text.js";
import * as store from "./store.js";

const WAIT_CHOICES = [15, 30, 60, 120, 240, 480, 1440]; // minutes
const DEFAULT_WAIT = 60;
const DEFAULT_HOURS = 2;
let mode = "pool"; // or "vm"
let vmId = null;
let labels;

/** The longest booking in a group: the site's maximum, or the group's when lower. */
function maxHours(groupId) {
  const groupMax = store.getGroup(groupId)?.max_hours;
  return groupMax ? Math.min(boot.max_hours, groupMax) : boot.max_hours;
}

function chosenGroup() {
  const value = byId("claim-group").value;
  return value ? Number(value) : null;
}

function currentMax() {
  return maxHours(mode === "vm" ? store.getVm(vmId)?.group : chosenGroup());
}

function fillGroups(selected) {
  const options = store
    .sortedGroups()
    .map((group) => el("option", { value: group.id, text: group.name }));
  const select = byId("claim-group");
  select.replaceChildren(el("option", { value: "", text: t("claim.any_group") }), ...options);
  select.value = selected != null && store.getGroup(selected) ? String(selected) : "";
}

function showRules() {
  const max = currentMax();
  byId("claim-hours").max = String(max);
  byId("claim-hours-hint").textContent = t("cal.hours_range", { max });
  const waiting = mode === "vm" || byId("claim-wait").checked;
  byId("claim-minutes-field").hidden = !waiting;
  byId("claim-submit").textContent = t(
    mode === "vm" ? "claim.wait_submit" : waiting ? "claim.ask_or_wait" : "claim.ask",
  );
}

function vmAbout(vm) {
  if (vm.booked_by) {
    return t("claim.vm_booked", { owner: vm.booked_by, time: formatWhen(vm.expires_at) });
  }
  return vm.status === "held" ? t("status.held_tip") : "";
}

function reset() {
  byId("claim-fields").hidden = false;
  byId("claim-result").hidden = true;
  byId("claim-next").hidden = true;
  byId("claim-submit").hidden = false;
  byId("claim-close").textContent = t("action.cancel");
}

/**
 * Open for a pool (`{group, labels}`: either may be empty) or for one VM (`{vm}`): "wait for
 * it" always waits.
 */
export function openClaim({ group = null, labels: wanted = {}, vm = null }, opener) {
  mode = vm ? "vm" : "pool";
  vmId = vm?.id ?? null;
  reset();
  const title = vm ? t("claim.wait_title", { vm: vm.id }) : t("claim.title");
  byId("claim-title").textContent = title;
  const about = vm ? vmAbout(vm) : "";
  byId("claim-about").textContent = about;
  byId("claim-about").hidden = !about;
  for (const id of ["claim-group-field", "claim-count-field", "claim-labels-field"]) {
    byId(id).hidden = Boolean(vm);
  }
  byId("claim-wait-field").hidden = Boolean(vm);
  byId("claim-wait").checked = false;
  byId("claim-minutes").value = String(DEFAULT_WAIT);
  fillGroups(group);
  byId("claim-count").value = "1";
  labels.set(wanted);
  byId("claim-hours").value = String(Math.min(DEFAULT_HOURS, currentMax()));
  showRules();
  const dialog = byId("claim-dialog");
  dialog.dataset.vm = vmId || "";
  openDialog(dialog, opener);
  byId(vm ? "claim-hours" : "claim-group").focus();
}

/** What to send, as `{body}`, or `{error, field}` while the fields make no sense. */
function requestBody() {
  const hours = Number(byId("claim-hours").value);
  const max = currentMax();
  if (!Number.isInteger(hours) || hours < 1 || hours > max) {
    return { error: t("cal.hours_range", { max }), field: byId("claim-hours") };
  }
  const minutes = Number(byId("claim-minutes").value);
  if (mode === "vm") return { body: { vm_id: vmId, hours, wait: true, wait_minutes: minutes } };
  const count = Number(byId("claim-count").value);
  if (!Number.isInteger(count) || count < 1 || count > 50) {
    return { error: t("claim.count_range"), field: byId("claim-count") };
  }
  const read = labels.read();
  if (read.error) return read;
  const group = chosenGroup();
  const hasLabels = Object.keys(read.labels).length > 0;
  if (group == null && !hasLabels) {
    return { error: t("claim.need_target"), field: byId("claim-group") };
  }
  const request = { count, hours };
  if (group != null) request.group = group;
  if (hasLabels) request.labels = read.labels;
  if (byId("claim-wait").checked) Object.assign(request, { wait: true, wait_minutes: minutes });
  return { body: request };
}

function showGranted(bookings) {
  const ids = bookings.map((booking) => booking.vm_id).join(", ");
  const end = bookings[0] ? formatWhen(bookings[0].end) : "";
  return [
    el("strong", { text: t("claim.granted", { vms: ids }) }),
    el("p", { text: t("claim.granted_until", { time: end }) }),
  ];
}

function showQueued(request) {
  const place = request.position ?? "?";
  const lines = [
    el("strong", { text: t("claim.queued", { n: place, target: describeTarget(request) }) }),
    el("p", { text: expectedTurn(request) }),
    el("p", { text: t("claim.queued_until", { time: formatWhen(request.wait_until) }) }),
  ];
  byId("claim-next").hidden = false;
  byId("claim-alerts").hidden = !canAskDesktopAlerts();
  return lines;
}

function showOutcome(answer) {
  const result = byId("claim-result");
  const queued = Boolean(answer.request);
  result.className = `notice ${queued ? "info" : "success"}`;
  result.replaceChildren(...(queued ? showQueued(answer.request) : showGranted(answer.bookings)));
  result.hidden = false;
  byId("claim-fields").hidden = true;
  byId("claim-submit").hidden = true;
  byId("claim-close").textContent = t("action.close");
  byId("claim-close").focus();
}

async function submit(event) {
  event.preventDefault();
  const error = byId("claim-error");
  const { body: request, error: problem, field } = requestBody();
  if (problem) {
    showError(error, problem);
    field?.focus();
    return;
  }
  const answer = await busy(byId("claim-submit"), error, async () => {
    try {
      return await queue.ask(request);
    } catch (failure) {
      // Nothing fits and the person did not ask to wait: say what would help.
      if (failure.code === "not_available" && mode === "pool") {
        failure.message = t("claim.none_free");
        failure.code = "claim_none_free";
      }
      throw failure;
    }
  });
  if (answer) showOutcome(answer);
}

export function initClaimDialog() {
  labels = new LabelsEditor(byId("claim-labels"));
  byId("claim-minutes").replaceChildren(
    ...WAIT_CHOICES.map((minutes) =>
      el("option", {
        value: minutes,
        text: minutes < 60 ? t("usage.minutes", { n: minutes }) : formatHours(minutes / 60),
      }),
    ),
  );
  byId("claim-form").addEventListener("submit", submit);
  onAction("wait", (vm, opener) => openClaim({ vm }, opener));
  byId("claim-form").addEventListener("input", showRules);
  byId("claim-show-queue").addEventListener("click", () => byId("claim-dialog").close());
  byId("claim-alerts").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    await askDesktopAlerts();
    button.hidden = !canAskDesktopAlerts();
  });
}
