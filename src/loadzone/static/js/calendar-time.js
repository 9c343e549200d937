// Time arithmetic of the calendar: the shown window, positions as shares of it, hour slots.
// Days are local calendar days (a DST day has 23 or 25 hours), so day ends come from Date
// arithmetic, never from adding 24 h.
import { boot } from "./boot.js";
import { locale } from "./i18n.js";

export const HOUR = 3600000;
export const DAY = 24 * HOUR;

/** Local midnight at the start of the day holding `ms`, `offset` days later. */
export function dayStart(ms, offset = 0) {
  const date = new Date(ms);
  date.setHours(0, 0, 0, 0);
  date.setDate(date.getDate() + offset);
  return date.getTime();
}

/** The instant `ms` rounded down to the local hour. */
export function hourFloor(ms) {
  const date = new Date(ms);
  date.setMinutes(0, 0, 0);
  return date.getTime();
}

/** A window of whole days: { from, to, days, starts: [midnight of each day] }. */
export function makeWindow(from, days) {
  const starts = [];
  for (let i = 0; i < days; i += 1) starts.push(dayStart(from, i));
  return { from: starts[0], to: dayStart(from, days), days, starts };
}

/** Where `ms` lies in the window, 0..1 (clamped). */
export function share(win, ms) {
  return Math.min(1, Math.max(0, (ms - win.from) / (win.to - win.from)));
}

/** The instant at a share of the window. */
export function atShare(win, fraction) {
  return win.from + fraction * (win.to - win.from);
}

export function percent(fraction) {
  return `${(fraction * 100).toFixed(4)}%`;
}

/** The latest instant a reservation may start (boot.reserve_days ahead of `now`). */
export function horizon(now) {
  return now + (boot.reserve_days || 30) * DAY;
}

const dayLabel = new Intl.DateTimeFormat(locale, {
  weekday: "short",
  day: "numeric",
  month: "short",
});
const rangeLabel = new Intl.DateTimeFormat(locale, {
  day: "numeric",
  month: "short",
  year: "numeric",
});
const hourLabel = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" });
const tickLabel = new Intl.DateTimeFormat(locale, { hour: "numeric" });

export const formatDay = (ms) => dayLabel.format(ms);
export const formatHour = (ms) => hourLabel.format(ms);
export const formatTick = (ms) => tickLabel.format(ms);

/** "2 – 8 Dec 2026" for the window's first and last day. */
export function formatRange(win) {
  const last = win.starts[win.starts.length - 1];
  return win.days === 1 ? rangeLabel.format(win.from) : rangeLabel.formatRange(win.from, last);
}

function pad(value) {
  return String(value).padStart(2, "0");
}

/** An instant as the "YYYY-MM-DDTHH:MM" of a datetime-local input, in local time. */
export function toMinuteInput(ms) {
  const d = new Date(ms);
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return `${date}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local value as an instant (ms), or NaN when empty or invalid. */
export function fromMinuteInput(value) {
  return value ? new Date(value).getTime() : Number.NaN;
}
