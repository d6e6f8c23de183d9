/**
 * How far V8 lets an app process's heaps grow past what they hold. After each full collection V8 sets the next one's
 * limit at a factor of what is still live that it picks from its own speed, up to 4×, and gives the pages back only
 * once the process has been quiet for a while: a busy worker's RSS was mostly garbage between collections (2,000
 * conversations: the main thread's heap held 60 MB live in 171 MB, the workflow thread's 43 MB in 145 MB).
 * A fixed 1.3× collects more often (V8's marking runs beside the program) and took the worker from ~540 MB to
 * ~280 MB in the bench, with turns per second and latency unchanged (README: Performance).
 */
import { setFlagsFromString } from 'node:v8';

/** The next full collection comes when the heap has grown this much (%) over what the last one left live. */
const heapGrowingPercent = 30;

/**
 * Sets the growth for every heap of this process: the flag is read at each collection, so it holds for the heap
 * already running and for worker threads started later (the workflow thread). Not in NODE_OPTIONS, which refuses it.
 */
export function limitHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${heapGrowingPercent}`);
}
