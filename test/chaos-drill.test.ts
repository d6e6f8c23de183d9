import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('npm run chaos', () => {
  it('when the client drops every 5th reply then the drill reports them lost and exits non-zero', async () => {
    const out = mkdtempSync(join(tmpdir(), 'aac-chaos-test-'));
    const args = ['--import', 'tsx', 'scripts/chaos/main.ts', '--conversations', '3', '--messages', '5', '--think', '100ms'];
    args.push('--kill-every', '0', '--faults', 'worker', '--drop-every', '5', '--out', out);
    const exitCode = await new Promise<number | null>((resolve) => {
      execFile(process.execPath, args, { timeout: 240_000 }, (error) => resolve(error ? ((error as { code?: number }).code ?? null) : 0));
    });
    expect(exitCode).toBe(1);
    const { report } = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.ok).toBe(false);
    expect(report.channels[0].sent).toBe(15);
    expect(report.channels[0].lost).toBe(3);
    expect(report.channels[0].duplicated).toBe(0);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<svg');
  }, 300_000);
});
