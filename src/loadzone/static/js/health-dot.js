// A VM's health dot: green when its address answers, red when it stopped answering (since
// when, in the tooltip), grey when nobody checks it (no address, or probes are off).
import { el } from "./dom.js";
import { formatWhen, t } from "./i18n.js";

/** An empty dot; `fillHealth` colours it and gives it its words. */
export function healthDot() {
  return el("span", { class: "health-dot", role: "img" });
}

export function fillHealth(dot, vm) {
  const health = vm.health === "up" || vm.health === "down" ? vm.health : "unknown";
  const text =
    health === "down"
      ? t("health.down", { time: formatWhen(vm.health_since) })
      : t(`health.${health}`);
  if (dot.dataset.health === health && dot.title === text) return;
  dot.dataset.health = health;
  dot.title = text;
  dot.setAttribute("aria-label", text);
}
