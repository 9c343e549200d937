// Translated strings (a JSON data island rendered from the gettext catalogue) and
// locale-aware formatting of dates, times and durations.
import { boot } from "./boot.js";

function island(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : {};
}

const strings = island("i18n");
export const locale = boot.locale || document.documentElement.lang || "en";

export function has(key) {
  return Object.hasOwn(strings, key);
}

/** The translation of `key`, with {name} placeholders filled from `params`. */
export function t(key, params) {
  const text = has(key) ? strings[key] : key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (match, name) =>
    Object.hasOwn(params, name) ? String(params[name]) : match,
  );
}

const fullFormat = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });
const timeFormat = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" });
const dayTimeFormat = new Intl.DateTimeFormat(locale, {
  weekday: "short",
  day: "numeric",
  month: "short",
  hour: "2-digit",
  minute: "2-digit",
});
const numberFormat = new Intl.NumberFormat(locale);

/** VM ids in the order people expect: "vm-2" before "vm-10". */
export const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

export function formatNumber(value) {
  return numberFormat.format(value);
}

/** A date and time in the person's locale and time zone. */
export function formatDateTime(value) {
  if (value == null || value === "") return "";
  return fullFormat.format(new Date(value));
}

/** Just the time when it is today, else the day and time. */
export function formatWhen(value) {
  if (value == null || value === "") return "";
  const date = new Date(value);
  const today = new Date();
  return date.toDateString() === today.toDateString()
    ? timeFormat.format(date)
    : dayTimeFormat.format(date);
}

function pad(value) {
  return String(value).padStart(2, "0");
}

/** Time left as H:MM:SS (with days when longer), for the live countdowns. */
export function formatCountdown(ms) {
  if (ms <= 0) return t("countdown.ending");
  const total = Math.ceil(ms / 1000);
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const clock = `${pad(hours)}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
  return days ? `${t("unit.days", { n: days })} ${clock}` : clock;
}

/** "3 h" in the locale's words. */
export function formatHours(hours) {
  return t("unit.hours", { n: hours });
}
