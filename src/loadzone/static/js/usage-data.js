// Usage figures from the audit history: bookings and occupied time per VM and per group.
import { pages } from "./api.js";

const MAX_RECORDS = 50000;

/** Every audit record since `since` (oldest first), and whether the cap cut it short. */
export async function fetchHistory(since) {
  const records = [];
  let partial = false;
  for await (const items of pages("/api/history", { since: since.toISOString() })) {
    records.push(...items);
    if (records.length >= MAX_RECORDS) {
      partial = true;
      break;
    }
  }
  records.reverse();
  return { records, partial };
}

function overlap(start, end, from, to) {
  return Math.max(0, Math.min(end, to) - Math.max(start, from));
}

/**
 * Walk the records of the window [from, to) in order and sum, per VM, the bookings made and
 * the milliseconds it was booked. A renew or release without its book inside the window means
 * the booking began earlier: it counts from the start of the window.
 */
export function computeUsage(records, from, to) {
  const perVm = new Map();
  const people = new Set();
  const stat = (id) => {
    if (!perVm.has(id)) perVm.set(id, { bookings: 0, busy: 0, open: null });
    return perVm.get(id);
  };
  for (const record of records) {
    const at = Date.parse(record.at);
    if (at < from || at >= to) continue;
    const vm = stat(record.vm_id);
    const end = record.end ? Date.parse(record.end) : at;
    if (record.action === "book") {
      if (vm.open) vm.busy += overlap(vm.open.start, Math.min(at, vm.open.end), from, to);
      vm.open = { start: at, end };
      vm.bookings += 1;
      people.add(record.user);
    } else if (record.action === "renew") {
      vm.open = { start: vm.open ? vm.open.start : from, end };
    } else if (record.action === "release") {
      const open = vm.open || { start: from, end: at };
      vm.busy += overlap(open.start, Math.min(at, open.end), from, to);
      vm.open = null;
    }
  }
  for (const vm of perVm.values()) {
    if (vm.open) vm.busy += overlap(vm.open.start, vm.open.end, from, to);
    vm.open = null;
  }
  return { perVm, people: people.size };
}

/** Sum per group: bookings, and occupancy as a share of (window × VMs in the group). */
export function perGroup(perVm, vms, groupName, span) {
  const groups = new Map();
  for (const vm of vms) {
    const key = vm.group == null ? "" : groupName(vm.group);
    if (!groups.has(key)) groups.set(key, { bookings: 0, busy: 0, size: 0 });
    const entry = groups.get(key);
    const usage = perVm.get(vm.id);
    entry.size += 1;
    entry.bookings += usage ? usage.bookings : 0;
    entry.busy += usage ? usage.busy : 0;
  }
  return [...groups.entries()].map(([name, entry]) => ({
    name,
    bookings: entry.bookings,
    occupancy: entry.size ? (100 * entry.busy) / (span * entry.size) : 0,
  }));
}
