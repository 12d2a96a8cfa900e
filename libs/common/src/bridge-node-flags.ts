/**
 * The Node flags the bridge process runs with, wherever it is started (package.json `start:prod`,
 * the Dockerfile's CMD, docker-compose, the demo, the bench; those that are not TypeScript repeat
 * them and point here).
 *
 * `--max-semi-space-size=8` (MB; V8's default on 64-bit is 16): a smaller young generation. The
 * bridge allocates short-lived objects per task (SDK calls, Redis replies) and V8 keeps the young
 * generation it grew to, so a burst of tasks left the process much larger than what it holds.
 * Measured 2026-12-06 (`BENCH_BRIDGE_NODE_FLAGS=... BENCH_PHASES=held,steady`, one run each): idle
 * RSS 133 -> 118 MB, holding 10,000 tasks 254 -> 158 MB, steady 100 tasks/s 164-199 -> 129-130 MB;
 * CPU per task the same within the VM's noise (2 alternating pairs of `BENCH_PHASES=direct,bridge`:
 * 1.10 / 1.27 ms without, 1.19 / 1.23 ms with). 4 MB saved a few MB more but cost CPU (three pairs:
 * 1.23-1.24 -> 1.32-1.61 ms per task). It bounds the young generation only, never the heap: a large
 * backlog still gets the memory it needs.
 *
 * `--heap-growing-percent=30`: after each full GC V8 lets the old generation grow to 1.3 x what
 * survived before the next one (by default up to several times that while the heap is small). A
 * burst of tasks (10,000 taken in ~8 s) promotes garbage that then sat uncollected: RSS holding
 * 10,000 tasks read 143-241 MB without the flag, the old generation's committed size up to 150 MB
 * for 50 MB live. Measured 2026-12-06 (`BENCH_BRIDGE_NODE_FLAGS`, 2 alternating pairs of
 * `BENCH_PHASES=direct,bridge,held`, 3 rounds each): holding 240 / 143 -> 137 / 138 MB, idle 118 ->
 * 112-113 MB; tasks/s 0.84 / 0.82 -> 0.84 / 0.91 x and CPU per task 1.05 / 1.07 -> 1.03 / 0.99 x the
 * direct worker's (no cost visible: more full GCs, but each marks a smaller heap, mostly on
 * V8's helper threads). 20 held 137 MB, 50 147-148. A growth factor, not a cap: a large backlog
 * still grows the heap as it needs, in steps of 30 %. Accepted by Node 20, 22 and 24 (checked).
 */
export const BRIDGE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--heap-growing-percent=30'];
