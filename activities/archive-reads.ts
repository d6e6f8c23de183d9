/**
 * Texts carried by reference live in the archive: when it fails (down, refusing, out of space), an activity that
 * needs one fails with the retryable `ArchiveUnavailable`, so the workflow can tell "wait for the archive" from
 * "the model failed for good" (which ends in an apology).
 */
import { ApplicationFailure } from '@temporalio/activity';

/** The failure type the workflow waits on (it names the same string: it cannot import this file). */
const archiveUnavailable = 'ArchiveUnavailable';

/** Runs a read or write of stored texts; any failure of it is the archive's. */
export async function withArchive<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const message = `the archive (stored texts) failed: ${error instanceof Error ? error.message : String(error)}`;
    throw ApplicationFailure.create({ message, type: archiveUnavailable, cause: error instanceof Error ? error : undefined });
  }
}
