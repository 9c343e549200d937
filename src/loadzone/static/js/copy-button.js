// Copy buttons: the Clipboard API where the page may use it, else a selected text area and
// the older copy command (a plain-http address on the LAN is not a secure context); the
// button shows a check and a toast confirms.
import { icon } from "./dom.js";
import { t } from "./i18n.js";
import { toast } from "./notifications.js";

const CONFIRM_MS = 2000;

function copyBySelection(text) {
  // A modal dialog makes the rest of the page inert: the text area must live inside it.
  const host = document.querySelector("dialog[open]") || document.body;
  const focused = document.activeElement;
  const area = document.createElement("textarea");
  area.value = text;
  area.readOnly = true;
  area.className = "copy-source";
  host.append(area);
  area.select();
  let done = false;
  try {
    done = document.execCommand("copy");
  } catch {
    done = false;
  }
  area.remove();
  focused?.focus?.();
  return done;
}

/** Put `text` on the clipboard; resolves to whether that worked. */
export async function copyText(text) {
  if (window.isSecureContext && navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Refused (no permission, page not focused): the older way may still work.
    }
  }
  return copyBySelection(text);
}

/**
 * Copy `text` for a click on `button`; when nothing works, select `source` (the text on the
 * page) so that the keyboard's copy does it.
 */
export async function copyFrom(button, text, source) {
  if (await copyText(text)) {
    button.replaceChildren(icon("check"));
    button.dataset.copied = "";
    setTimeout(() => {
      button.replaceChildren(icon("copy"));
      delete button.dataset.copied;
    }, CONFIRM_MS);
    toast({ title: t("board.copied"), detail: text, kind: "released", timeout: 2500 });
  } else {
    window.getSelection().selectAllChildren(source);
    toast({ title: t("board.copy_failed"), detail: text, kind: "warning" });
  }
}
