/**
 * Texts carried by reference live in the archive: when it is down, an activity that needs one fails with the
 * retryable `ArchiveUnavailable`, so the workflow can tell "wait for the archive" from "the model failed for good"
 * (which ends in an apology).
 */
import { ApplicationFailure } from '@temporalio/activity';
import { UnavailableError } from '../lib/errors';

export const archiveUnavailable = 'ArchiveUnavailable';

export async function withArchive<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof UnavailableError)) throw error;
    throw ApplicationFailure.create({ message: 'the archive (stored texts) is unavailable', type: archiveUnavailable, cause: error });
  }
}
