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
 */
export const BRIDGE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];
