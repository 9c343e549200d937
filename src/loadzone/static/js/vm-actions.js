// What a VM's state is as people read it, and the buttons a person may use on it: shared by
// the board, "my bookings", the groups view and the VM dialog.
import { el, icon } from "./dom.js";
import { boot } from "./boot.js";
import { t } from "./i18n.js";
import * as queue from "./queue-data.js";

/** free | booked | mine | held | resetting | maintenance, as the board colours it. */
export function statusOf(vm) {
  if (vm.booked_by) return vm.booked_by === boot.email ? "mine" : "booked";
  if (vm.status === "resetting") return "resetting";
  if (vm.maintenance) return "maintenance";
  return vm.status === "held" ? "held" : "free";
}

/** What a VM's status chip says on hover: why it is held, resetting or in maintenance. */
export function statusTip(vm, status) {
  if (status === "maintenance") return vm.maintenance_reason || "";
  return status === "held" || status === "resetting" ? t(`status.${status}_tip`) : "";
}

/** The queue request a held VM is kept for, when this browser knows it. */
export function holderOf(vm) {
  return vm.held_for == null ? undefined : queue.get(vm.held_for);
}

/** Who a held VM is kept for, in words ("for bob@…" when this browser knows the request). */
export function heldFor(vm) {
  const holder = holderOf(vm);
  if (!holder) return t("board.held_queue");
  const who = holder.owner === boot.email ? t("notif.you") : holder.owner;
  return t("board.held_for", { owner: who });
}

/** What of the queue a VM's row shows: whom it is held for, and the person's own wait. */
export function queueText(vm) {
  const holder = holderOf(vm);
  const own = queue.waitingFor(vm.id, boot.email);
  return `${holder?.owner ?? ""} ${holder?.position ?? ""} ${own?.id ?? ""} ${own?.position ?? ""}`;
}

/** A link to the queue for a VM the person already waits for (by name, or held for them). */
function waitingLink(vm) {
  const own = queue.waitingFor(vm.id, boot.email);
  const holder = holderOf(vm);
  const request = own || (holder?.owner === boot.email ? holder : undefined);
  if (!request) return null;
  const place = request.position ?? "";
  return el("a", {
    class: "button small ghost",
    href: "#queue",
    "data-waiting": request.id,
    "aria-label": t("action.waiting_vm", { vm: vm.id, n: place }),
    text: place ? t("action.waiting_at", { n: place }) : t("action.waiting"),
  });
}

function button(action, vm, label, className, ariaLabel) {
  return el("button", {
    type: "button",
    class: `button small ${className}`,
    "data-action": action,
    "data-vm": vm.id,
    "aria-label": ariaLabel,
    text: label,
  });
}

/** The buttons a person may use on a VM, shared by the board and "my bookings". */
export function actionButtons(vm, { details = true } = {}) {
  const status = statusOf(vm);
  const list = [];
  const name = { vm: vm.id };
  if (status === "free") {
    list.push(button("book", vm, t("action.book"), "primary", t("action.book_vm", name)));
  } else if (status === "mine") {
    list.push(button("renew", vm, t("action.renew"), "", t("action.renew_vm", name)));
    list.push(button("release", vm, t("action.release"), "", t("action.release_vm", name)));
  } else if (status === "booked" || status === "held" || status === "resetting") {
    list.push(
      waitingLink(vm) || button("wait", vm, t("action.wait"), "", t("action.wait_vm", name)),
    );
  }
  if (status === "booked" && boot.is_admin) {
    const label = t("action.force_release_vm", name);
    list.push(button("release", vm, t("action.release"), "danger ghost", label));
  }
  if (details) {
    const label = t("action.details_vm", name);
    list.push(
      el("button", {
        type: "button",
        class: "icon-button",
        "data-action": "details",
        "data-vm": vm.id,
        "aria-label": label,
        title: label,
      }, icon("more")),
    );
  }
  return list;
}
