/**
 * Debian's Prometheus and Alertmanager as child processes (real ones: nothing here stands in for them), each on a
 * free port with its data in a temporary directory, and a webhook receiver that records what Alertmanager sends.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../../lib/free-ports';
import { spawnChild, type ChildHandle } from '../../scripts/child-process';
import { httpOk, waitUntil } from '../../scripts/wait-until';

export interface MonitoringProcess {
  url: string;
  stop(): Promise<void>;
}

/** Starts `binary` with the config (written as YAML) and `args`, and resolves once `readyPath` answers 200. */
async function startServer(binary: string, config: unknown, args: (dir: string, file: string, address: string) => string[]): Promise<MonitoringProcess> {
  const dir = mkdtempSync(join(tmpdir(), `aac-${binary}-`));
  const file = join(dir, 'config.yml');
  writeFileSync(file, stringify(config));
  const address = `127.0.0.1:${await freePort()}`;
  const lines: string[] = [];
  const child: ChildHandle = spawnChild(binary, binary, args(dir, file, address), { log: (line) => lines.push(line), quietWhenStopping: true });
  await waitUntil(binary, () => httpOk(`http://${address}/-/ready`), {
    timeoutMs: 30_000,
    failFast: () => (child.running() ? undefined : `it exited:\n${lines.slice(-10).join('\n')}`),
  });
  return { url: `http://${address}`, stop: async () => void (await child.stop(5000)) };
}

/** Prometheus evaluating `config` (scrape jobs, rule files, Alertmanagers). */
export function startPrometheus(config: unknown): Promise<MonitoringProcess> {
  return startServer('prometheus', config, (dir, file, address) => [
    `--config.file=${file}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${address}`,
  ]);
}

/** Alertmanager routing by `config`; clustering off (one instance). */
export function startAlertmanager(config: unknown): Promise<MonitoringProcess> {
  return startServer('prometheus-alertmanager', config, (dir, file, address) => [
    `--config.file=${file}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=${address}`, '--cluster.listen-address=',
  ]);
}

export interface WebhookReceiver {
  url: string;
  /** Every notification body received, each with the path it was posted to. */
  readonly received: { path: string; body: { receiver: string; status: string; alerts: { labels: Record<string, string>; annotations: Record<string, string> }[] } }[];
  close(): Promise<void>;
}

/** An HTTP endpoint for Alertmanager's webhook notifications. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: WebhookReceiver['received'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
