import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('npm run chaos', () => {
  it('when the API client drops every 5th reply then the drill reports them lost and exits non-zero, Telegram users unaffected', async () => {
    const out = mkdtempSync(join(tmpdir(), 'aac-chaos-test-'));
    const args = ['--import', 'tsx', 'scripts/chaos/main.ts', '--conversations', '3', '--messages', '5', '--think', '100ms', '--telegram', '1'];
    args.push('--kill-every', '0', '--faults', 'worker', '--drop-every', '5', '--out', out);
    const exitCode = await new Promise<number | null>((resolve) => {
      execFile(process.execPath, args, { timeout: 240_000 }, (error) => resolve(error ? ((error as { code?: number }).code ?? null) : 0));
    });
    expect(exitCode).toBe(1);
    const { report } = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.ok).toBe(false);
    const [api, telegram] = report.channels;
    expect(api).toMatchObject({ channel: 'api', sent: 15, lost: 3, duplicated: 0 });
    // The drops are the API client's own: the Telegram user's messages are all answered, once, in order.
    expect(telegram).toMatchObject({ channel: 'telegram', sent: 5, delivered: 5, lost: 0, duplicated: 0, outOfOrder: 0,
      unattributed: 0, telegram: { uncertainSends: 0, leftoverPreviews: 0 } });
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('uncertain sends');
  }, 300_000);
});
