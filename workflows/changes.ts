/**
 * The workflow's changes since its first release, each behind a patch: histories recorded before a change replay
 * without it. The SDK records a marker for every patch a run meets and upserts the TemporalChangeVersion search
 * attribute with it, a visibility write on the server each: nine per run (every new conversation, every
 * continue-as-new), five of them in its first workflow task. A run started by this code records one marker,
 * `changes-2026-12`, that stands for all of them (and for restoring the context in a local activity, which came
 * with it); runs recorded before it meet each change's own patch where they met it before.
 *
 * A later change gets a patch of its own, asked with `patched` where the change is.
 */
import { patched } from '@temporalio/workflow';

export type Change =
  | 'payload-budget'
  | 'throttled-search-attributes'
  | 'operator-search-attributes'
  | 'quiet-checkpoint'
  | 'park-quiet-runs'
  | 'idle-closer'
  | 'model-publishes-reply'
  | 'close-in-one-activity'
  | 'one-restore-activity';

/** Whether this run has a change. */
export type HasChange = (change: Change) => boolean;

/** Call it first thing in the run, before any other command. `current`: the run was started by this code. */
export function changesOfThisRun(): { current: boolean; has: HasChange } {
  const current = patched('changes-2026-12');
  return { current, has: (change) => current || patched(change) };
}
