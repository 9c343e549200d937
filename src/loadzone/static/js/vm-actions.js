// What a VM's state is as people read it, and the buttons a person may use on it: shared by
// the board, "my bookings", the groups view and the VM dialog.
import { el, icon } from "./dom.js";
import { boot } from "./boot.js";
import { t } from "./i18n.js";

/** free | booked | mine | maintenance, as the board colours it. */
export function statusOf(vm) {
  if (vm.booked_by) return vm.booked_by === boot.email ? "mine" : "booked";
  return vm.maintenance ? "maintenance" : "free";
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
  } else if (status === "booked" && boot.is_admin) {
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
