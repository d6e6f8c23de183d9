/**
 * Secrets never reach a log line: the Telegram bot token is part of every Bot API URL, so every network error
 * carries it (in its message, its cause, its stack) unless the logger takes it out. And every line is an Elastic
 * Common Schema document, errors included, as Filebeat ships them (deploy/filebeat/filebeat.yml).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type StackHandle } from '../scripts/stack';
import { ecsField, logDocuments, missingEcsFields } from './support/ecs-lines';
import { testEnvironment } from './support/engine';
import { eventually } from './support/eventually';
import { freePort } from '../lib/free-ports';

const botToken = '123456789:AAE-secret_token-that-must-never-be-logged';

describe('logs with Telegram unreachable', () => {
  let stack: StackHandle;
  const lines: string[] = [];

  beforeAll(async () => {
    const env = testEnvironment({ env: { TELEGRAM_BOT_TOKEN: botToken, TELEGRAM_API_ROOT: `http://127.0.0.1:${await freePort()}`, LOG_LEVEL: 'debug' } });
    stack = await startStack({ env, port: await freePort(), workers: 1, devServer: false, log: (line) => lines.push(line) });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('when the Bot API cannot be reached then the failures are logged, and no line holds the bot token', async () => {
    await eventually(() => lines.filter((line) => /telegram/i.test(line) && /ECONNREFUSED|fetch failed|network/i.test(line)).length >= 2, {
      what: 'logged Telegram connection failures',
      timeoutMs: 20_000,
    }).catch((error: Error) => {
      throw new Error(`${error.message}; the log was:\n${lines.slice(-40).join('\n')}`);
    });
    expect(lines.filter((line) => line.includes(botToken))).toEqual([]);
    expect(lines.filter((line) => line.includes('AAE-secret_token'))).toEqual([]);
    expect(lines.some((line) => line.includes('[redacted]'))).toBe(true);
  });

  it('when the processes log then every line is an ECS document that names its service, and errors are ECS errors', () => {
    // Only Node's own warnings (on stderr, e.g. the AWS SDK's about Node versions) are plain text.
    const documents = logDocuments(lines);
    expect(documents.filter(({ doc }) => missingEcsFields(doc).length > 0)).toEqual([]);
    const services = new Set(documents.map(({ process, doc }) => `${process}: ${String(ecsField(doc, 'service.name'))}`));
    expect(services).toEqual(new Set(['api: ai-assistant-core-api', 'worker-1: ai-assistant-core-worker']));
    const failures = documents.filter(({ doc }) => /telegram/i.test(String(doc.message)) && ecsField(doc, 'log.level') === 'warn');
    expect(failures.length).toBeGreaterThan(0);
    for (const { doc } of failures) expect(ecsField(doc, 'error.message')).toEqual(expect.any(String));
  });
});
