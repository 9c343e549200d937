// The usage view: Chart.js bar charts of bookings and occupancy per group and per VM.
import { errorMessage, serverNow } from "./api.js";
import { byId } from "./dom.js";
import { formatNumber, locale, t } from "./i18n.js";
import * as store from "./store.js";
import { computeUsage, fetchHistory, perGroup } from "./usage-data.js";

const DAY = 86400000;
const TOP = 10;
const CHART_SRC = "/static/vendor/chart.js/chart.umd.min.js";
const charts = {};
let history = null; // { records, partial, fetchedAt }
let visible = false;

function loadChartJs() {
  if (window.Chart) return Promise.resolve(window.Chart);
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = CHART_SRC;
    script.onload = () => resolve(window.Chart);
    script.onerror = () => reject(new Error(t("usage.no_charts")));
    document.head.append(script);
  });
}

function colour(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function formatter(percent) {
  if (!percent) return (value) => formatNumber(value);
  return (value) => `${formatNumber(Math.round(value * 10) / 10)} %`;
}

/** The chart's figures as text too, for screen readers (the canvas has role="img"). */
function describe(canvas, labels, values, format) {
  const title = canvas.closest("figure").querySelector("figcaption").textContent;
  const figures = labels.map((label, i) => `${label}: ${format(values[i])}`).join(", ");
  canvas.setAttribute("aria-label", `${title}: ${figures || t("usage.none")}`);
}

function draw(id, labels, values, { color, percent = false, horizontal = false }) {
  const canvas = byId(id);
  const format = formatter(percent);
  describe(canvas, labels, values, format);
  charts[id]?.destroy();
  const valueAxis = {
    beginAtZero: true,
    grid: { color: colour("--chart-grid") },
    ticks: { callback: format, precision: percent ? undefined : 0 },
  };
  const labelAxis = { grid: { display: false }, ticks: { autoSkip: false } };
  const dataset = { data: values, backgroundColor: colour(color), borderRadius: 4 };
  charts[id] = new window.Chart(canvas, {
    type: "bar",
    data: { labels, datasets: [{ ...dataset, maxBarThickness: 28 }] },
    options: {
      indexAxis: horizontal ? "y" : "x",
      animation: false,
      maintainAspectRatio: false,
      locale,
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (item) => format(item.parsed[horizontal ? "x" : "y"]) } },
      },
      scales: horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis },
    },
  });
}

function top(perVm, key, span) {
  const rows = [...perVm.entries()].map(([id, usage]) => ({
    id,
    bookings: usage.bookings,
    occupancy: (100 * usage.busy) / span,
  }));
  return rows
    .filter((row) => row[key] > 0)
    .sort((a, b) => b[key] - a[key])
    .slice(0, TOP);
}

function chartDefaults() {
  const defaults = window.Chart.defaults;
  defaults.color = colour("--muted");
  defaults.borderColor = colour("--chart-grid");
  defaults.font.family = getComputedStyle(document.body).fontFamily;
}

function drawCharts(perVm, groups, span) {
  const names = groups.map((g) => g.name || t("group.none"));
  const ofGroups = (key) => groups.map((g) => g[key]);
  draw("chart-group-bookings", names, ofGroups("bookings"), { color: "--chart-1" });
  draw("chart-group-occupancy", names, ofGroups("occupancy"), {
    color: "--chart-2",
    percent: true,
  });
  const booked = top(perVm, "bookings", span);
  draw("chart-vm-bookings", booked.map((r) => r.id), booked.map((r) => r.bookings), {
    color: "--chart-3",
    horizontal: true,
  });
  const occupied = top(perVm, "occupancy", span);
  draw("chart-vm-occupancy", occupied.map((r) => r.id), occupied.map((r) => r.occupancy), {
    color: "--chart-4",
    horizontal: true,
    percent: true,
  });
}

function showTotals(perVm, people, span, vmCount) {
  let bookings = 0;
  let busy = 0;
  for (const usage of perVm.values()) {
    bookings += usage.bookings;
    busy += usage.busy;
  }
  const occupancy = vmCount ? (100 * busy) / (span * vmCount) : null;
  byId("usage-bookings").textContent = formatNumber(bookings);
  byId("usage-occupancy").textContent = occupancy == null ? "–" : formatter(true)(occupancy);
  byId("usage-people").textContent = formatNumber(people);
  const n = formatNumber(history.records.length);
  byId("usage-status").textContent = t(history.partial ? "usage.partial" : "usage.based_on", { n });
}

function render() {
  if (!history || !window.Chart) return;
  chartDefaults();
  const days = Number(document.querySelector("input[name=usage-days]:checked").value);
  const to = serverNow();
  const span = days * DAY;
  const { perVm, people } = computeUsage(history.records, to - span, to);
  const vms = [...store.allVms()];
  const groups = perGroup(perVm, vms, store.groupName, span);
  groups.sort((a, b) => b.bookings - a.bookings || a.name.localeCompare(b.name));
  drawCharts(perVm, groups, span);
  showTotals(perVm, people, span, vms.length);
  byId("view-usage").dataset.ready = "true";
}

async function refresh() {
  byId("usage-status").textContent = t("usage.loading");
  try {
    const since = new Date(serverNow() - 30 * DAY);
    const [, fetched] = await Promise.all([loadChartJs(), fetchHistory(since)]);
    history = { ...fetched, fetchedAt: Date.now() };
    if (visible) render();
  } catch (error) {
    byId("usage-status").textContent = errorMessage(error);
  }
}

/** Called by the router; the history is fetched again when older than a minute. */
export function showUsage(show) {
  visible = show;
  if (!show) return;
  if (!history || Date.now() - history.fetchedAt > 60000) refresh();
  else render();
}

export function initUsage() {
  for (const input of document.querySelectorAll("input[name=usage-days]")) {
    input.addEventListener("change", render);
  }
  document.addEventListener("themechange", () => visible && render());
  // Per-group figures need the VMs: draw again once they are (re)loaded.
  store.on("reset", () => visible && render());
}
