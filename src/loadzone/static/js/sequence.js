// Event numbers. Each event carries `seq` and `prev`, the number of the last event for
// everyone before it (other people's personal events leave gaps that `prev` skips). A
// `prev` neither received nor covered by the last snapshot is a missed event. Events may
// arrive a little out of order (instances publish after their own commits), so the check
// waits for the burst to settle and then asks for one re-read.
const SETTLE_MS = 1000;
const KEEP = 2000;

/** Watch events for gaps; `onGap(missing)` is called at most once per settled burst. */
export function watchGaps(onGap) {
  let floor = 0; // every event up to this number is in the last snapshot
  const have = new Set();
  const wanted = new Set();
  let timer = null;

  function check() {
    timer = null;
    const missing = [...wanted].filter((prev) => prev > floor && !have.has(prev));
    wanted.clear();
    if (missing.length) onGap(missing);
  }

  return {
    /** An event's payload arrived. */
    seen(data) {
      if (typeof data?.seq !== "number") return;
      have.add(data.seq);
      if (have.size > KEEP) {
        // `prev` names a recent event: the oldest numbers are no longer asked for.
        const old = [...have].slice(0, KEEP / 2);
        for (const seq of old) have.delete(seq);
      }
      const prev = data.prev;
      if (typeof prev === "number" && prev > floor && !have.has(prev)) {
        wanted.add(prev);
        timer ??= setTimeout(check, SETTLE_MS);
      }
    },
    /** A fresh snapshot reflects every event up to `seq`. */
    snapshot(seq) {
      floor = Math.max(floor, seq);
      for (const known of have) if (known <= floor) have.delete(known);
    },
  };
}
