// Dialog plumbing: <dialog> opening and focus return, busy buttons, the confirm dialog, and
// the buttons anywhere in the page that act on a VM (data-action, data-vm).
import { errorMessage } from "./api.js";
import { byId, showError } from "./dom.js";
import * as store from "./store.js";

const handlers = {};

/** Open a modal dialog; focus returns to `opener` (or the VM's button) when it closes. */
export function openDialog(dialog, opener) {
  dialog.returnTo = opener || document.activeElement;
  for (const box of dialog.querySelectorAll(".notice.error")) showError(box, "");
  dialog.showModal();
}

function returnFocus(dialog) {
  const target = dialog.returnTo;
  if (target?.isConnected) {
    target.focus();
    return;
  }
  const vmId = dialog.dataset.vm;
  if (vmId) document.querySelector(`[data-vm="${CSS.escape(vmId)}"]`)?.focus();
}

/** Run `work` with the submit button disabled; show a failure in `errorBox`. */
export async function busy(button, errorBox, work) {
  button.disabled = true;
  showError(errorBox, "");
  try {
    return await work();
  } catch (error) {
    showError(errorBox, errorMessage(error));
    return undefined;
  } finally {
    button.disabled = false;
  }
}

/** Buttons with data-action and data-vm anywhere in the page call the registered handler. */
export function onAction(name, handler) {
  handlers[name] = handler;
}

// -- confirm -------------------------------------------------------------------------------
let confirmRun = null;

/** Ask before a destructive step; `run` does it (its errors stay in the dialog). */
export function confirmAction({ title, text, label, run, vm }, opener) {
  const dialog = byId("confirm-dialog");
  byId("confirm-title").textContent = title;
  byId("confirm-text").textContent = text;
  byId("confirm-submit").textContent = label;
  dialog.dataset.vm = vm || "";
  confirmRun = run;
  openDialog(dialog, opener);
}

async function submitConfirm(event) {
  event.preventDefault();
  const done = await busy(byId("confirm-submit"), byId("confirm-error"), async () => {
    await confirmRun();
    return true;
  });
  if (done) byId("confirm-dialog").close();
}

function dispatch(event) {
  const target = event.target.closest("[data-action][data-vm]");
  if (!target || !handlers[target.dataset.action]) return;
  const vm = store.getVm(target.dataset.vm);
  if (vm) handlers[target.dataset.action](vm, target);
}

export function initDialogs() {
  for (const dialog of document.querySelectorAll("dialog")) {
    dialog.addEventListener("close", () => returnFocus(dialog));
    dialog.addEventListener("click", (event) => {
      if (event.target.closest("[data-close]")) dialog.close();
      else if (event.target === dialog) dialog.close(); // a click on the backdrop
    });
  }
  byId("confirm-form").addEventListener("submit", submitConfirm);
  document.addEventListener("click", dispatch);
}
