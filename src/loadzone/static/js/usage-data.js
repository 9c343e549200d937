// Usage figures as the server computes them from the bookings (GET /api/usage), and the few
// sums and rankings the page draws from them.
import { api } from "./api.js";

const TOP = 10;
const HOUR = 3600000;

/** The report for the last `days` days (7 or 30). */
export function fetchUsage(days) {
  return api("/api/usage", { query: { days } });
}

/** Bookings, hours and the occupancy of the whole pool over the report's window. */
export function totals(report) {
  let bookings = 0;
  let hours = 0;
  for (const vm of report.vms) {
    bookings += vm.bookings;
    hours += vm.hours;
  }
  const windowHours = (Date.parse(report.to) - Date.parse(report.from)) / HOUR;
  const capacity = windowHours * report.vms.length;
  return { bookings, hours, occupancy: capacity ? hours / capacity : null };
}

/** The VMs with the most of `key` ("bookings" or "occupancy"), none with zero. */
export function topVms(report, key) {
  return report.vms
    .filter((vm) => vm[key] > 0)
    .sort((a, b) => b[key] - a[key] || a.vm_id.localeCompare(b.vm_id))
    .slice(0, TOP);
}
