// One timer for every live countdown on the page: each second it rewrites only the text
// nodes whose value changed, so thousands of bookings cost a few milliseconds per tick.
import { serverNow } from "./api.js";
import { boot } from "./boot.js";
import { formatCountdown } from "./i18n.js";

const tracked = new Map();
const warnMs = (boot.warning_minutes || 60) * 60000;
let timer = null;

function urgency(left) {
  if (left <= 0) return "over";
  return left <= warnMs ? "soon" : "";
}

function paint(entry, now) {
  const left = entry.expiresAt - now;
  const label = formatCountdown(left);
  if (entry.text.nodeValue !== label) entry.text.nodeValue = label;
  const level = urgency(left);
  if (entry.level !== level) {
    entry.level = level;
    entry.host.dataset.urgency = level;
  }
  if (entry.meter && entry.span > 0) {
    const share = Math.max(0, Math.min(1, left / entry.span));
    const rounded = Math.round(share * 200) / 200;
    if (entry.share !== rounded) {
      entry.share = rounded;
      entry.meter.style.transform = `scaleX(${rounded})`;
    }
  }
}

function tick() {
  const now = serverNow();
  for (const [key, entry] of tracked) {
    if (!entry.text.isConnected) tracked.delete(key);
    else paint(entry, now);
  }
  schedule();
}

function schedule() {
  clearTimeout(timer);
  timer = tracked.size ? setTimeout(tick, 1000 - (serverNow() % 1000) + 5) : null;
}

/**
 * Count down to `expiresAt` in `text` (a Text node); `host` gets data-urgency
 * ("soon" inside the warning lead time, "over" once passed); `meter` shows the share left.
 */
export function track(key, { text, host, meter, expiresAt, startedAt }) {
  const expires = Date.parse(expiresAt);
  const started = startedAt ? Date.parse(startedAt) : NaN;
  const entry = {
    text,
    host,
    meter,
    expiresAt: expires,
    span: Number.isNaN(started) ? 0 : expires - started,
    level: null,
    share: null,
  };
  tracked.set(key, entry);
  paint(entry, serverNow());
  if (!timer) schedule();
}

export function untrack(key) {
  tracked.delete(key);
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) tick();
});
