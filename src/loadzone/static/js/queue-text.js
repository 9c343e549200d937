// A queue request in words: what it waits for, and when its turn is expected.
import { serverNow } from "./api.js";
import { formatWhen, t } from "./i18n.js";
import { labelPairs } from "./labels-editor.js";
import * as store from "./store.js";

/** "lz-03", "Load generators", "Load generators · os=linux", "os=linux, disk=ssd". */
export function describeTarget(request) {
  if (request.vm_id) return request.vm_id;
  const parts = [];
  if (request.group != null) {
    parts.push(store.groupName(request.group) || t("queue.group_n", { id: request.group }));
  }
  const pairs = labelPairs(request.labels);
  if (pairs.length) parts.push(pairs.join(", "));
  return parts.join(" · ");
}

/** The expected turn as a time ("now" once it has passed), or "not known yet". */
export function turnTime(request) {
  if (!request.eta) return t("queue.eta_unknown");
  return Date.parse(request.eta) <= serverNow() ? t("queue.eta_now") : formatWhen(request.eta);
}

/** A sentence about the expected turn, for the claim dialog. */
export function expectedTurn(request) {
  if (!request.eta) return t("claim.eta_unknown");
  return t("claim.eta", { time: turnTime(request) });
}
