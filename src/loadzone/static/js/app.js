// The app: wires the modules together, loads the state and keeps it live.
import { api, errorMessage } from "./api.js";
import { initBookDialog } from "./book-dialog.js";
import { initLanguage, initSignOut } from "./chrome.js";
import { initBoard, showBoard } from "./board.js";
import * as bookings from "./calendar-data.js";
import { initCalendar, showCalendar } from "./calendar.js";
import { initClaimDialog } from "./claim-dialog.js";
import { initDialogs } from "./dialogs.js";
import { byId, debounce } from "./dom.js";
import { initGroups, showGroups } from "./groups.js";
import { initHistory, showHistory } from "./history.js";
import { t } from "./i18n.js";
import { initNotifications, onNotification, refreshNotifications, toast } from "./notifications.js";
import * as queue from "./queue-data.js";
import { initQueueView, showQueue } from "./queue-view.js";
import { initRouter, registerView } from "./router.js";
import { initSettings, showSettings } from "./settings.js";
import { watchGaps } from "./sequence.js";
import { connect } from "./socket.js";
import * as store from "./store.js";
import { initTheme } from "./theme.js";
import { initUsage, showUsage } from "./usage.js";
import { initVmDialog } from "./vm-dialog.js";

const APPLY = {
  vm_updated: store.putVm,
  vm_deleted: (data) => store.dropVm(data.id),
  group_updated: store.putGroup,
  group_deleted: (data) => store.dropGroup(data.id),
};

let buffer = null; // events that arrive while a snapshot is loading, replayed over it
let loading = null;
let again = false;

// A missed event (Redis was down, a command-line change without Redis): read everything again.
const gaps = watchGaps((missing) => {
  console.info("missed events before", missing, "- reading the state again");
  document.body.dataset.gapRereads = String(Number(document.body.dataset.gapRereads || 0) + 1);
  load();
});

function onEvent(name, data) {
  gaps.seen(data);
  if (name === "notification") onNotification(data);
  else if (name === "queue_updated") queue.put(data); // it keeps its own snapshot
  else if (name === "booking_updated") {
    bookings.put(data); // it keeps its own snapshot
    queue.nudge(); // expected turns follow the bookings
  } else if (buffer) buffer.push([name, data]);
  else APPLY[name]?.(data);
}

// The VM ids offered while typing in "move a VM here" and the history filter.
const fillVmIds = debounce(() => {
  const options = [...store.allVms()].map((vm) => new Option("", vm.id));
  byId("vm-ids").replaceChildren(...options);
}, 300);

async function loadOnce() {
  buffer = [];
  const meta = {};
  try {
    const [vms, groups] = await Promise.all([
      api("/api/vms", { meta }),
      api("/api/groups"),
      queue.load(), // before the board: it shows whom held VMs are kept for
    ]);
    performance.mark("loadzone:vms-fetched");
    store.reset(vms, groups);
    gaps.snapshot(meta.seq);
    for (const [name, data] of buffer) APPLY[name]?.(data);
    byId("board-loading").hidden = true;
  } catch (error) {
    const loadingNote = byId("board-loading");
    loadingNote.textContent = t("board.load_failed", { message: errorMessage(error) });
    toast({ title: t("error.title"), detail: errorMessage(error), kind: "warning" });
  } finally {
    buffer = null;
  }
  refreshNotifications();
}

/** (Re)read the whole state; calls during a load run once more after it. */
async function load() {
  if (loading) {
    again = true;
    return loading;
  }
  loading = (async () => {
    do {
      again = false;
      await loadOnce();
    } while (again);
    loading = null;
  })();
  return loading;
}

function init() {
  initTheme();
  initLanguage();
  initSignOut();
  initDialogs();
  initBookDialog();
  initClaimDialog();
  initBoard();
  initCalendar();
  initVmDialog();
  initGroups();
  initQueueView();
  initHistory();
  initNotifications();
  initUsage();
  initSettings();
  registerView("board", (shown, params) => shown && showBoard(params));
  registerView("calendar", showCalendar);
  registerView("mine", (shown) => showHistory(shown ? "mine" : null));
  registerView("queue", (shown) => showQueue(shown));
  registerView("groups", (shown) => showGroups(shown));
  registerView("history", (shown, params) => showHistory(shown ? "history" : null, params));
  registerView("usage", (shown) => showUsage(shown));
  registerView("settings", (shown) => showSettings(shown));
  initRouter();
  store.on("reset", fillVmIds);
  store.on("vm-removed", fillVmIds);
  store.on("vm", ({ previous }) => previous || fillVmIds());

  let started = false;
  const link = connect({ onEvent, onConnect: () => started && load() });
  // Subscribe before reading, so no change slips between the snapshot and the first event;
  // a socket that is slow to come up must not hold the board back for long.
  const timeout = new Promise((resolve) => setTimeout(resolve, 1500));
  Promise.race([link.connected, timeout]).then(() => {
    started = true;
    load();
  });
}

init();
