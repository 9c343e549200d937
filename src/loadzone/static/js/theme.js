// Dark and light themes: follow the system until the person picks one, then remember it.
import { t } from "./i18n.js";

const KEY = "loadzone.theme";
const system = window.matchMedia("(prefers-color-scheme: dark)");

function stored() {
  try {
    const value = localStorage.getItem(KEY);
    return value === "dark" || value === "light" ? value : null;
  } catch {
    return null;
  }
}

function currentTheme() {
  return document.documentElement.dataset.theme === "dark" ? "dark" : "light";
}

function apply(theme) {
  document.documentElement.dataset.theme = theme;
  const button = document.getElementById("theme-toggle");
  if (button) {
    const dark = theme === "dark";
    button.setAttribute("aria-pressed", String(dark));
    const label = dark ? t("theme.to_light") : t("theme.to_dark");
    button.setAttribute("aria-label", label);
    button.title = label;
  }
  document.dispatchEvent(new CustomEvent("themechange", { detail: { theme } }));
}

export function initTheme() {
  apply(stored() || (system.matches ? "dark" : "light"));
  system.addEventListener("change", (event) => {
    if (!stored()) apply(event.matches ? "dark" : "light");
  });
  document.getElementById("theme-toggle")?.addEventListener("click", () => {
    const next = currentTheme() === "dark" ? "light" : "dark";
    try {
      localStorage.setItem(KEY, next);
    } catch {
      // Private mode without storage: the choice lasts for this page only.
    }
    apply(next);
  });
}
