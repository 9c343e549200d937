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

function draw(id, labels, values, { color, percent = false, horizontal = false }) {
  const Chart = window.Chart;
  const canvas = byId(id);
  const format = (v) => (percent ? `${formatNumber(Math.round(v * 10) / 10)} %` : formatNumber(v));
  const summary = labels.map((label, i) => `${label}: ${format(values[i])}`).join(", ");
  canvas.setAttribute("aria-label", `${canvas.closest("figure").querySelector("figcaption").textContent}: ${summary || t("usage.none")}`);
  charts[id]?.destroy();
  const valueAxis = {
    beginAtZero: true,
    grid: { color: colour("--chart-grid") },
    ticks: { callback: format, precision: percent ? undefined : 0 },
    max: percent ? 100 : undefined,
  };
  const labelAxis = { grid: { display: false }, ticks: { autoSkip: false } };
  charts[id] = new Chart(canvas, {
    type: "bar",
    data: { labels, datasets: [{ data: values, backgroundColor: colour(color), borderRadius: 4, maxBarThickness: 28 }] },
    options: {
      indexAxis: horizontal ? "y" : "x",
      animation: false,
      maintainAspectRatio: false,
      locale,
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => format(c.parsed[horizontal ? "x" : "y"]) } } },
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
  return rows.filter((row) => row[key] > 0).sort((a, b) => b[key] - a[key]).slice(0, TOP);
}

function render() {
  if (!history || !window.Chart) return;
  const Chart = window.Chart;
  Chart.defaults.color = colour("--muted");
  Chart.defaults.borderColor = colour("--chart-grid");
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  const days = Number(document.querySelector("input[name=usage-days]:checked").value);
  const to = serverNow();
  const from = to - days * DAY;
  const span = to - from;
  const { perVm, people } = computeUsage(history.records, from, to);
  const vms = [...store.allVms()];
  const groups = perGroup(perVm, vms, store.groupName, span).sort((a, b) => b.bookings - a.bookings || a.name.localeCompare(b.name));
  const groupLabel = (g) => g.name || t("group.none");
  draw("chart-group-bookings", groups.map(groupLabel), groups.map((g) => g.bookings), { color: "--chart-1" });
  draw("chart-group-occupancy", groups.map(groupLabel), groups.map((g) => g.occupancy), { color: "--chart-2", percent: true });
  const byBookings = top(perVm, "bookings", span);
  draw("chart-vm-bookings", byBookings.map((r) => r.id), byBookings.map((r) => r.bookings), { color: "--chart-3", horizontal: true });
  const byOccupancy = top(perVm, "occupancy", span);
  draw("chart-vm-occupancy", byOccupancy.map((r) => r.id), byOccupancy.map((r) => r.occupancy), { color: "--chart-4", horizontal: true, percent: true });
  let bookings = 0;
  let busy = 0;
  for (const usage of perVm.values()) {
    bookings += usage.bookings;
    busy += usage.busy;
  }
  byId("usage-bookings").textContent = formatNumber(bookings);
  byId("usage-occupancy").textContent = vms.length ? `${formatNumber(Math.round((1000 * busy) / (span * vms.length)) / 10)} %` : "–";
  byId("usage-people").textContent = formatNumber(people);
  byId("usage-status").textContent = history.partial ? t("usage.partial", { n: formatNumber(history.records.length) }) : t("usage.based_on", { n: formatNumber(history.records.length) });
  byId("view-usage").dataset.ready = "true";
}

async function refresh() {
  const status = byId("usage-status");
  status.textContent = t("usage.loading");
  try {
    const [, fetched] = await Promise.all([loadChartJs(), fetchHistory(new Date(serverNow() - 30 * DAY))]);
    history = { ...fetched, fetchedAt: Date.now() };
    if (visible) render();
  } catch (error) {
    status.textContent = errorMessage(error);
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
