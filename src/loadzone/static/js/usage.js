// The usage view: the server's report (GET /api/usage) as summary figures, Chart.js bar
// charts per group and per VM, and a table per group.
import { errorMessage } from "./api.js";
import { byId, el } from "./dom.js";
import { formatDateTime, formatNumber, locale, t } from "./i18n.js";
import { fetchUsage, topVms, totals } from "./usage-data.js";

const CHART_SRC = "/static/vendor/chart.js/chart.umd.min.js";
const FRESH_MS = 60000;
const charts = {};
const reports = new Map(); // days -> { report, fetchedAt }
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

const formatPercent = (share) => `${formatNumber(Math.round(share * 1000) / 10)} %`;
const formatDecimal = (value) => formatNumber(Math.round(value * 10) / 10);

/** The chart's figures as text too, for screen readers (the canvas has role="img"). */
function describe(canvas, labels, values, format) {
  const title = canvas.closest("figure").querySelector("figcaption").textContent;
  const figures = labels.map((label, i) => `${label}: ${format(values[i])}`).join(", ");
  canvas.setAttribute("aria-label", `${title}: ${figures || t("usage.none")}`);
}

function draw(id, labels, values, { color, percent = false, horizontal = false }) {
  const canvas = byId(id);
  const format = percent ? formatPercent : formatNumber;
  describe(canvas, labels, values, format);
  charts[id]?.destroy();
  const valueAxis = {
    beginAtZero: true,
    grid: { color: colour("--chart-grid") },
    ticks: { callback: format, precision: percent ? undefined : 0 },
  };
  if (percent) valueAxis.suggestedMax = 0.1;
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

function chartDefaults() {
  const defaults = window.Chart.defaults;
  defaults.color = colour("--muted");
  defaults.borderColor = colour("--chart-grid");
  defaults.font.family = getComputedStyle(document.body).fontFamily;
}

const groupName = (group) => group.name ?? t("group.none");

function drawCharts(report) {
  const groups = [...report.groups].sort(
    (a, b) => b.bookings - a.bookings || groupName(a).localeCompare(groupName(b)),
  );
  const names = groups.map(groupName);
  draw("chart-group-bookings", names, groups.map((g) => g.bookings), { color: "--chart-1" });
  draw("chart-group-occupancy", names, groups.map((g) => g.occupancy), {
    color: "--chart-2",
    percent: true,
  });
  const booked = topVms(report, "bookings");
  draw("chart-vm-bookings", booked.map((vm) => vm.vm_id), booked.map((vm) => vm.bookings), {
    color: "--chart-3",
    horizontal: true,
  });
  const occupied = topVms(report, "occupancy");
  const occupancies = occupied.map((vm) => vm.occupancy);
  draw("chart-vm-occupancy", occupied.map((vm) => vm.vm_id), occupancies, {
    color: "--chart-4",
    horizontal: true,
    percent: true,
  });
}

function groupRow(group) {
  const cell = (text) => el("td", { class: "num", text });
  return el(
    "tr",
    {},
    el("th", { scope: "row", text: groupName(group) }),
    cell(formatNumber(group.bookings)),
    cell(formatDecimal(group.hours)),
    cell(formatPercent(group.occupancy)),
    cell(formatNumber(group.people)),
  );
}

function showFigures(report) {
  const sums = totals(report);
  byId("usage-bookings").textContent = formatNumber(sums.bookings);
  byId("usage-hours").textContent = formatDecimal(sums.hours);
  const occupancy = sums.occupancy == null ? "–" : formatPercent(sums.occupancy);
  byId("usage-occupancy").textContent = occupancy;
  const queue = report.queue;
  byId("usage-queue").textContent = t("usage.queue", {
    requests: formatNumber(queue.requests),
    granted: formatNumber(queue.granted),
  });
  const wait = queue.median_wait_s;
  const minutes = wait == null ? null : formatNumber(Math.round(wait / 6) / 10);
  byId("usage-wait").textContent = minutes == null ? "–" : t("usage.minutes", { n: minutes });
  byId("usage-groups").replaceChildren(...report.groups.map(groupRow));
  byId("usage-status").textContent = t("usage.window", {
    from: formatDateTime(report.from),
    to: formatDateTime(report.to),
  });
}

function days() {
  return Number(document.querySelector("input[name=usage-days]:checked").value);
}

function render() {
  const entry = reports.get(days());
  if (!visible || !entry || !window.Chart) return;
  chartDefaults();
  drawCharts(entry.report);
  showFigures(entry.report);
  byId("view-usage").dataset.ready = "true";
}

/** Show the chosen period, asking the server again when its figures are over a minute old. */
async function refresh() {
  const period = days();
  const entry = reports.get(period);
  if (entry && Date.now() - entry.fetchedAt < FRESH_MS) {
    render();
    return;
  }
  delete byId("view-usage").dataset.ready;
  byId("usage-status").textContent = t("usage.loading");
  try {
    const [, report] = await Promise.all([loadChartJs(), fetchUsage(period)]);
    reports.set(period, { report, fetchedAt: Date.now() });
    if (period === days()) render();
  } catch (error) {
    byId("usage-status").textContent = errorMessage(error);
  }
}

/** Called by the router. */
export function showUsage(show) {
  visible = show;
  if (show) refresh();
}

export function initUsage() {
  for (const input of document.querySelectorAll("input[name=usage-days]")) {
    input.addEventListener("change", refresh);
  }
  document.addEventListener("themechange", render);
}
