"""`python -m bench.calendar_compare`: vis-timeline against a plain positioned grid, 500 rows.

The same data (500 VMs, about 1,500 bookings over 7 days) drawn both ways in Chromium: the
time from the first line of drawing code until the next frame is painted, and the worst frame
while the mouse wheel scrolls through the rows. vis-timeline comes from the npm registry
(`npm pack`, needs npm) into a temporary folder; nothing is vendored. The figures and the
choice they led to are in docs/calendar.md; the app's own calendar is measured by
tests/browser/test_calendar_scale.py.
"""

from __future__ import annotations

import functools
import http.server
import statistics
import subprocess
import tarfile
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

VIS = "vis-timeline@8.5.4"
RUNS = 5
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]

DATA = """export function makeData() {
  const day0 = new Date(); day0.setHours(0, 0, 0, 0);
  const H = 3600000, from = day0.getTime(), to = from + 7 * 24 * H;
  const vms = [], bookings = [];
  let id = 1;
  for (let v = 0; v < 500; v++) {
    vms.push({ id: `vm-${String(v).padStart(3, "0")}` });
    let t = from + ((v * 7) % 24) * H;
    for (let k = 0; k < 3; k++) {
      const hours = 1 + ((v + k * 5) % 24);
      bookings.push({ id: id++, vm_id: vms[v].id, owner: `user${(v + k) % 20}@example.com`,
        start: t, end: t + hours * H });
      t += hours * H + (6 + (v * k) % 30) * H;
    }
  }
  return { vms, bookings, from, to };
}
export function done(t0, t1) {
  requestAnimationFrame(() => setTimeout(() => {
    window.benchResult = { script: t1 - t0, painted: performance.now() - t0 };
  }, 0));
}
"""

VIS_PAGE = """<!doctype html><meta charset="utf-8">
<link rel="stylesheet" href="vis-timeline-graph2d.min.css">
<script src="vis-timeline-graph2d.min.js"></script><div id="tl"></div>
<script type="module">
import { makeData, done } from "./data.js";
const { vms, bookings, from, to } = makeData();
const t0 = performance.now();
const groups = new vis.DataSet(vms.map(v => ({ id: v.id, content: v.id })));
const items = new vis.DataSet(bookings.map(b => ({ id: b.id, group: b.vm_id,
  start: new Date(b.start), end: new Date(b.end), content: b.owner })));
new vis.Timeline(document.getElementById("tl"), items, groups, {
  start: new Date(from), end: new Date(to), stack: false, height: "700px",
  verticalScroll: true, orientation: "top" });
done(t0, performance.now());
</script>"""

GRID_PAGE = """<!doctype html><meta charset="utf-8"><style>
body { margin: 0 } #cal { height: 700px; overflow: auto }
.row { display: grid; grid-template-columns: 120px 1fr; height: 32px;
  border-bottom: 1px solid #ddd; content-visibility: auto; contain-intrinsic-size: auto 32px }
.lab { position: sticky; left: 0; background: #fff; z-index: 2 }
.track { position: relative }
.bar { position: absolute; top: 4px; bottom: 4px; background: #cde; border-radius: 4px;
  overflow: hidden; white-space: nowrap; font: 12px sans-serif }
</style><div id="cal"></div>
<script type="module">
import { makeData, done } from "./data.js";
const { vms, bookings, from, to } = makeData();
const t0 = performance.now();
const tracks = new Map(), rows = document.createDocumentFragment();
for (const vm of vms) {
  const row = document.createElement("div"); row.className = "row";
  const lab = document.createElement("div"); lab.className = "lab"; lab.textContent = vm.id;
  const track = document.createElement("div"); track.className = "track";
  row.append(lab, track); rows.append(row); tracks.set(vm.id, track);
}
for (const b of bookings) {
  const s = Math.max(b.start, from), e = Math.min(b.end, to);
  if (e <= s) continue;
  const bar = document.createElement("div"); bar.className = "bar";
  bar.style.left = `${(100 * (s - from)) / (to - from)}%`;
  bar.style.width = `${(100 * (e - s)) / (to - from)}%`;
  bar.textContent = b.owner; tracks.get(b.vm_id).append(bar);
}
document.getElementById("cal").append(rows);
done(t0, performance.now());
</script>"""

FRAMES = """() => {
  const deltas = []; let last = performance.now(), run = true;
  const loop = (t) => { deltas.push(t - last); last = t; if (run) requestAnimationFrame(loop); };
  requestAnimationFrame(loop);
  window.stopFrames = () => { run = false; return deltas.slice(1); };
}"""


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def fetch_vis(folder: Path) -> None:
    subprocess.run(["npm", "pack", "--silent", VIS], cwd=folder, check=True, capture_output=True)
    [tarball] = folder.glob("vis-timeline-*.tgz")
    with tarfile.open(tarball) as archive:
        for name in (
            "standalone/umd/vis-timeline-graph2d.min.js",
            "styles/vis-timeline-graph2d.min.css",
        ):
            member = archive.getmember(f"package/{name}")
            (folder / Path(name).name).write_bytes(archive.extractfile(member).read())


def measure(browser, url: str) -> tuple[list[float], list[float]]:
    painted, worst = [], []
    for _ in range(RUNS):
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(url)
        page.wait_for_function("window.benchResult")
        painted.append(page.evaluate("window.benchResult.painted"))
        page.evaluate(FRAMES)
        page.mouse.move(640, 400)
        for _ in range(20):
            page.mouse.wheel(0, 400)
            page.wait_for_timeout(50)
        worst.append(max(page.evaluate("window.stopFrames()")))
        page.close()
    return painted, worst


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        fetch_vis(folder)
        (folder / "data.js").write_text(DATA)
        (folder / "vis.html").write_text(VIS_PAGE)
        (folder / "grid.html").write_text(GRID_PAGE)
        handler = functools.partial(Quiet, directory=tmp)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            for name in ("vis", "grid"):
                painted, worst = measure(browser, f"{base}/{name}.html")
                print(
                    f"{name}: drawn and painted in {statistics.median(painted):.0f} ms "
                    f"(median of {RUNS}: {[round(p) for p in painted]}), worst frame while "
                    f"scrolling {[round(w) for w in worst]} ms"
                )
            browser.close()
        server.shutdown()


if __name__ == "__main__":
    main()
