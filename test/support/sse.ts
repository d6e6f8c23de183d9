/** Collects SSE events from a URL until a predicate holds or time runs out (tests' view of a client). */
import { sseEvents, type SseEvent } from '../../scripts/sse';

export type { SseEvent };

export async function collectSse(
  url: string,
  until: (events: SseEvent[]) => boolean,
  options: { headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<SseEvent[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), options.timeoutMs ?? 30_000);
  const events: SseEvent[] = [];
  try {
    const response = await fetch(url, { headers: options.headers, signal: abort.signal });
    if (!response.ok || !response.body) throw new Error(`SSE ${url}: HTTP ${response.status}`);
    for await (const event of sseEvents(response.body)) {
      events.push(event);
      if (until(events)) return events;
    }
    return events;
  } catch (error) {
    if (abort.signal.aborted) return events;
    throw error;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}
