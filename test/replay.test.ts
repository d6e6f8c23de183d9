import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { sharedWorkflowBundle } from './support/engine';
import { loadHistories } from './support/histories';

describe('workflow determinism', () => {
  it('when recorded conversation histories are replayed against the current workflow code then none diverges', async () => {
    const histories = loadHistories();
    expect(histories.length).toBeGreaterThan(0);
    const failures: string[] = [];
    const results = Worker.runReplayHistories({ workflowBundle: await sharedWorkflowBundle() }, histories);
    for await (const result of results) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
  });
});
