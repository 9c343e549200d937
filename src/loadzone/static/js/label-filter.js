// The board's label filter: labels on a VM are buttons that add themselves to the filter; the
// filter shows as removable chips, and a VM must carry every label in it.
import { byId, el, icon } from "./dom.js";
import { t } from "./i18n.js";
import { labelPairs } from "./labels-editor.js";

const wanted = new Map(); // key -> value
let changed = () => {};

/** The VM carries every wanted label. */
export function matchesLabels(vm) {
  if (!wanted.size) return true;
  const labels = vm.labels || {};
  for (const [key, value] of wanted) if (labels[key] !== value) return false;
  return true;
}

/** The wanted labels as an object (what a pool claim from the board starts with). */
export function wantedLabels() {
  return Object.fromEntries(wanted);
}

/** The label buttons of a board row (none when the VM has no labels). */
export function labelButtons(labels) {
  return labelPairs(labels).map((pair) => {
    const label = t("board.filter_label", { label: pair });
    const at = pair.indexOf("=");
    return el(
      "li",
      {},
      el("button", {
        type: "button",
        class: "label-chip",
        "data-label-key": pair.slice(0, at),
        "data-label-value": pair.slice(at + 1),
        "aria-label": label,
        title: label,
        text: pair,
      }),
    );
  });
}

function render() {
  const chips = [...wanted].map(([key, value]) => {
    const pair = `${key}=${value}`;
    const label = t("board.unfilter_label", { label: pair });
    return el(
      "li",
      { class: "filter-chip" },
      el("span", { class: "filter-chip-text", text: pair, title: pair }),
      el(
        "button",
        { type: "button", class: "chip-remove", "data-unfilter": key, "aria-label": label, title: label },
        icon("close"),
      ),
    );
  });
  byId("label-filter-chips").replaceChildren(...chips);
  byId("label-filter").hidden = wanted.size === 0;
}

function update() {
  render();
  changed();
}

/** Want this label too (a VM has one value per key: a new value replaces the old). */
export function addLabel(key, value) {
  if (wanted.get(key) === value) return;
  wanted.set(key, value);
  update();
}

/** Replace the filter with `pairs` ("key=value" strings), e.g. from the URL. */
export function setLabels(pairs) {
  wanted.clear();
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at > 0) wanted.set(pair.slice(0, at), pair.slice(at + 1));
  }
  update();
}

function removeLabel(button) {
  const item = button.closest("li");
  const next = item.nextElementSibling || item.previousElementSibling;
  wanted.delete(button.dataset.unfilter);
  update();
  // Focus stays in the filter while chips are left, else goes back to the search box.
  const key = next?.querySelector("[data-unfilter]")?.dataset.unfilter;
  const target = key && byId("label-filter-chips").querySelector(`[data-unfilter="${CSS.escape(key)}"]`);
  (target || byId("filter-q")).focus();
}

/** `onChange()` runs after every change of the filter. */
export function initLabelFilter(onChange) {
  changed = onChange;
  byId("label-filter-chips").addEventListener("click", (event) => {
    const button = event.target.closest("[data-unfilter]");
    if (button) removeLabel(button);
  });
  byId("label-filter-clear").addEventListener("click", () => {
    wanted.clear();
    update();
    byId("filter-q").focus();
  });
}
