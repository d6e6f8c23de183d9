/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
import { waitUntil } from '../../scripts/wait-until';

export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  let found: { value: T } | undefined;
  // The project's one polling loop; this only keeps the value the check produced.
  await waitUntil(
    options.what ?? 'condition',
    async () => {
      const result = await check();
      if (result === undefined || result === false) return false;
      found = { value: result };
      return true;
    },
    { timeoutMs: options.timeoutMs ?? 30_000, intervalMs: options.intervalMs ?? 100 },
  );
  return found!.value;
}
