/**
 * Recorded workflow histories for the replay test. Run a suite with RECORD_HISTORIES=1 to (re)record the
 * histories of the conversations it drives into test/fixtures/histories/ (commit them: they are what
 * proves a workflow change still replays old conversations). Stored as binary protobuf: the SDK's JSON
 * helpers fail in this SDK version (two protobufjs majors disagree), and the binary form is exact.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const { History } = temporal.api.history.v1;
export const historiesDir = join(import.meta.dirname, '..', 'fixtures', 'histories');

export function recordingHistories(): boolean {
  return process.env.RECORD_HISTORIES === '1';
}

/** Saves every run of a workflow as `<name>-<n>.binpb`. */
export async function saveHistories(client: Client, workflowId: string, name: string): Promise<void> {
  mkdirSync(historiesDir, { recursive: true });
  let n = 0;
  for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const history = await client.workflow.getHandle(workflowId, run.runId).fetchHistory();
    writeFileSync(join(historiesDir, `${name}-${++n}.binpb`), History.encode(history).finish());
  }
}

export function loadHistories(): { workflowId: string; history: temporal.api.history.v1.History }[] {
  return readdirSync(historiesDir)
    .filter((file) => file.endsWith('.binpb'))
    .sort()
    .map((file) => ({
      workflowId: file.replace(/\.binpb$/, ''),
      history: History.decode(readFileSync(join(historiesDir, file))),
    }));
}
