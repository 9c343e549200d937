// Labels as editable key = value rows: the VM dialog's labels, a pool claim's label filter.
import { el, icon } from "./dom.js";
import { t } from "./i18n.js";

const KEY = /^[a-z0-9_.-]{1,32}$/;
const MAX_LABELS = 20;
const MAX_VALUE = 64;

/** The labels of `labels` as "key=value" strings, keys sorted. */
export function labelPairs(labels) {
  return Object.keys(labels || {})
    .sort()
    .map((key) => `${key}=${labels[key]}`);
}

export class LabelsEditor {
  constructor(host) {
    this.list = el("ul", { class: "label-rows" });
    this.add = el(
      "button",
      { type: "button", class: "button small ghost add-label" },
      icon("plus"),
      el("span", { text: t("labels.add") }),
    );
    host.replaceChildren(this.list, this.add);
    this.add.addEventListener("click", () => this.row("", "").key.focus());
    this.list.addEventListener("click", (event) => {
      const remove = event.target.closest("[data-remove-label]");
      if (remove) this.remove(remove.closest("li"));
    });
  }

  row(key, value) {
    const keyInput = el("input", {
      class: "input mono label-key",
      maxlength: 32,
      autocomplete: "off",
      spellcheck: "false",
      autocapitalize: "off",
      placeholder: t("labels.key_placeholder"),
      "aria-label": t("labels.key"),
    });
    const valueInput = el("input", {
      class: "input label-value",
      maxlength: MAX_VALUE,
      autocomplete: "off",
      placeholder: t("labels.value_placeholder"),
      "aria-label": t("labels.value"),
    });
    keyInput.value = key;
    valueInput.value = value;
    const label = t("labels.remove");
    const remove = el(
      "button",
      { type: "button", class: "icon-button", "data-remove-label": "", "aria-label": label, title: label },
      icon("close"),
    );
    this.list.append(
      el("li", {}, keyInput, el("span", { class: "label-eq", "aria-hidden": "true", text: "=" }), valueInput, remove),
    );
    return { key: keyInput, value: valueInput };
  }

  remove(item) {
    const next = item.nextElementSibling || item.previousElementSibling;
    item.remove();
    (next?.querySelector("input") || this.add).focus();
  }

  /** Show these labels (an object), one row each. */
  set(labels) {
    this.list.replaceChildren();
    for (const pair of labelPairs(labels)) {
      const at = pair.indexOf("=");
      this.row(pair.slice(0, at), pair.slice(at + 1));
    }
  }

  /** `{labels}` as typed (empty rows skipped, keys lower-cased), or `{error, field}`. */
  read() {
    const labels = {};
    for (const item of this.list.children) {
      const keyInput = item.querySelector(".label-key");
      const valueInput = item.querySelector(".label-value");
      const key = keyInput.value.trim().toLowerCase();
      const value = valueInput.value.trim();
      if (!key && !value) continue;
      if (!KEY.test(key)) return { error: t("labels.bad_key", { key }), field: keyInput };
      if (!value || value.length > MAX_VALUE) {
        return { error: t("labels.bad_value", { key }), field: valueInput };
      }
      if (Object.hasOwn(labels, key)) return { error: t("labels.twice", { key }), field: keyInput };
      labels[key] = value;
    }
    if (Object.keys(labels).length > MAX_LABELS) {
      return { error: t("labels.too_many", { max: MAX_LABELS }), field: this.add };
    }
    return { labels };
  }
}

/** Two label objects hold the same pairs. */
export function sameLabels(a, b) {
  const left = labelPairs(a);
  const right = labelPairs(b);
  return left.length === right.length && left.every((pair, i) => pair === right[i]);
}
