// The Socket.IO link: live events in, a "reconnecting" banner while it is down, and a call
// to re-read the state each time it comes back (events sent meanwhile are lost).
import { io } from "../vendor/socket.io-client/socket.io.esm.min.js";
import { api } from "./api.js";
import { byId } from "./dom.js";

const EVENTS = [
  "vm_updated",
  "vm_deleted",
  "group_updated",
  "group_deleted",
  "booking_updated",
  "queue_updated",
  "notification",
];

/**
 * Connect; `onEvent(name, data)` for each event, `onConnect()` on every (re)connection.
 * Returns `{ socket, connected }`, the promise settling on the first connection.
 */
export function connect({ onEvent, onConnect }) {
  const socket = io({ transports: ["websocket"], reconnectionDelayMax: 5000 });
  const banner = byId("conn-banner");
  let resolveFirst;
  const connected = new Promise((resolve) => {
    resolveFirst = resolve;
  });
  socket.on("connect", () => {
    if (!performance.getEntriesByName("loadzone:live").length) performance.mark("loadzone:live");
    banner.hidden = true;
    document.body.dataset.live = "true";
    onConnect();
    resolveFirst();
  });
  socket.on("disconnect", (reason) => {
    banner.hidden = false;
    document.body.dataset.live = "false";
    // The server closed it on purpose: the client does not retry by itself.
    if (reason === "io server disconnect") setTimeout(() => socket.connect(), 2000);
  });
  socket.on("connect_error", () => {
    banner.hidden = false;
    document.body.dataset.live = "false";
    if (!socket.active) {
      // Refused (signed out elsewhere?): /api/me sends us to the sign-in page on a 401.
      api("/api/me")
        .then(() => setTimeout(() => socket.connect(), 3000))
        .catch(() => setTimeout(() => socket.connect(), 5000));
    }
  });
  for (const name of EVENTS) socket.on(name, (data) => onEvent(name, data));
  return { socket, connected };
}
