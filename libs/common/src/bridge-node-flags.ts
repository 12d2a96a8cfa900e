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
 * `--heap-growing-percent=50`: after each full GC V8 lets the old generation grow to 1.5 x what
 * survived before the next one (by default up to several times that while the heap is small). A
 * burst of tasks (10,000 taken in ~8 s) promotes garbage that then sits uncollected for as long
 * as the heartbeats keep allocating (70 s in one run): RSS holding 10,000 tasks read 143-242 MB
 * without the flag, the old generation's committed size up to 150 MB for 50 MB live. It is a
 * trade against latency under load (more full GCs), so the value is the middle of three, all
 * measured 2026-12-06 with `BENCH_BRIDGE_NODE_FLAGS` alternating against the semi-space flag alone:
 *   held 10,000 tasks   none 143, 210, 240, 242 MB | 50: 140, 144, 145, 147, 148 | 30: 137, 138, 141, 150
 *   relay p99, 300/s    none 25-40 ms (8 runs, mean 32) | 50: 25, 37, 51 | 30: 46, 53, 55, 56
 *   tasks/s, CPU        30 vs none, 3 rounds each: 0.84 / 0.91 vs 0.84 / 0.82 x; 1.03 / 0.99 vs 1.05 / 1.07 x
 * (the latency phase saturates this 2-vCPU VM at 300 tasks/s; at 150 the three read the same).
 * A growth factor, not a cap: a large backlog still grows the heap as it needs. Accepted by Node
 * 20, 22 and 24 (checked; V8 refuses an unknown flag at start, so a rename would show at once).
 */
export const BRIDGE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--heap-growing-percent=50'];
