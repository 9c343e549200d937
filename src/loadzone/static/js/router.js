// Views of the single page, chosen by the URL hash: #board, #calendar, #mine, #groups, #history,
// #usage.
import { byId } from "./dom.js";
import { t } from "./i18n.js";

const views = new Map();
let current = null;

/** `onShow(true, params)` when the view appears, `onShow(false)` when it goes. */
export function registerView(name, onShow) {
  views.set(name, onShow);
}

function parse() {
  const [name, query] = window.location.hash.slice(1).split("?");
  return { name: views.has(name) ? name : "board", params: new URLSearchParams(query || "") };
}

function show(moveFocus) {
  const { name, params } = parse();
  if (current && current !== name) views.get(current)(false);
  for (const section of document.querySelectorAll("main > .view")) {
    section.hidden = section.dataset.view !== name;
  }
  for (const link of document.querySelectorAll("a[data-view]")) {
    if (link.dataset.view === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${t(`nav.${name}`)} · LoadZone`;
  current = name;
  views.get(name)(true, params);
  if (moveFocus) byId(`${name}-title`)?.focus();
}

export function initRouter() {
  window.addEventListener("hashchange", () => show(true));
  show(false);
}
