/**
 * The whole alerting path with real parts: the launcher's processes export metrics, Debian's Prometheus scrapes
 * them (the API's with an operator token) and evaluates deploy/prometheus/alerts.yml, and Debian's Alertmanager
 * routes by deploy/alertmanager/alertmanager.yml (its addresses pointed at a local webhook) to the on-call receiver.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StackHandle } from '../scripts/stack';
import { freePort } from '../lib/free-ports';
import { testEnvironment } from './support/engine';
import { eventually } from './support/eventually';
import { startOpenAiServer, type OpenAiServer } from '../scripts/simulators/openai-server';
import { startAlertmanager, startPrometheus, startWebhookReceiver, type MonitoringProcess, type WebhookReceiver } from './support/prometheus';
import { startTestStack } from './support/stack';
import { bearer } from './support/tokens';

const deploy = fileURLToPath(new URL('../deploy/', import.meta.url));

interface Receiver {
  name: string;
  webhook_configs?: { url: string; http_config?: { authorization?: { credentials_file: string } } }[];
}

/** The shipped routing, with every webhook pointed at `hook` (path: the receiver's name) and no waiting to group. */
function alertmanagerConfig(hook: string, tokenFile: string) {
  const config = parse(readFileSync(join(deploy, 'alertmanager', 'alertmanager.yml'), 'utf8')) as {
    route: Record<string, unknown>;
    receivers: Receiver[];
  };
  Object.assign(config.route, { group_wait: '1s', group_interval: '1s' });
  for (const receiver of config.receivers) {
    for (const webhook of receiver.webhook_configs ?? []) {
      webhook.url = `${hook}/${receiver.name}`;
      webhook.http_config = { authorization: { credentials_file: tokenFile } };
    }
  }
  return config;
}

describe('alerts through a real Prometheus and Alertmanager', () => {
  let model: OpenAiServer;
  let stack: StackHandle;
  let env: Record<string, string>;
  let hook: WebhookReceiver;
  let alertmanager: MonitoringProcess;
  let prometheus: MonitoringProcess;

  beforeAll(async () => {
    model = await startOpenAiServer();
    const metricsPort = await freePort();
    env = testEnvironment({
      providers: [{ name: 'local', type: 'openai-compatible', endpoint: model.url, model: 'test-model' }],
      env: { METRICS_PORT: String(metricsPort) },
    });
    stack = await startTestStack(env);
    hook = await startWebhookReceiver();
    const dir = mkdtempSync(join(tmpdir(), 'aac-monitoring-'));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, (await bearer(env, 'prometheus', 'operator')).authorization!.replace('Bearer ', ''));
    alertmanager = await startAlertmanager(alertmanagerConfig(hook.url, tokenFile));
    prometheus = await startPrometheus({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [join(deploy, 'prometheus', 'alerts.yml')],
      alerting: { alertmanagers: [{ static_configs: [{ targets: [new URL(alertmanager.url).host] }] }] },
      scrape_configs: [
        { job_name: 'worker', static_configs: [{ targets: [`127.0.0.1:${metricsPort}`] }] },
        { job_name: 'api', authorization: { credentials_file: tokenFile }, static_configs: [{ targets: [new URL(stack.urls.api).host] }] },
      ],
    });
  });
  afterAll(async () => {
    await prometheus?.stop();
    await alertmanager?.stop();
    await hook?.close();
    await stack?.stop();
    await model?.close();
  });

  it('when every provider refuses a turn then the user gets an apology and the on-call receiver gets ApologiesSent', async () => {
    const query = async (expr: string) =>
      ((await (await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as {
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      }).data.result;
    // Both processes scraped: the worker without a token, the API with the operator's.
    await eventually(async () => (await query('up == 1')).length === 2 || undefined, { what: 'both targets up', timeoutMs: 60_000 });
    const rules = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as { data: { groups: { rules: { health: string }[] }[] } };
    expect(rules.data.groups.flatMap((g) => g.rules).every((r) => r.health === 'ok')).toBe(true);

    model.setFault({ type: 'error', status: 400, message: 'This model refuses.' });
    const response = await fetch(`${stack.urls.api}/api/v1/chat`, {
      method: 'POST',
      headers: { ...(await bearer(env)), 'content-type': 'application/json' },
      body: JSON.stringify({ conversationId: `alert-${Date.now()}`, text: 'hello?' }),
    });
    expect(((await response.json()) as { reply: { kind: string } }).reply.kind).toBe('apology');

    const notification = await eventually(
      () => hook.received.find((n) => n.body.status === 'firing' && n.body.alerts.some((a) => a.labels.alertname === 'ApologiesSent')),
      { what: 'ApologiesSent at the webhook', timeoutMs: 90_000 },
    );
    expect(notification.path).toBe('/on-call');
    const [alert] = notification.body.alerts.filter((a) => a.labels.alertname === 'ApologiesSent');
    expect(alert!.labels.severity).toBe('page');
    expect(alert!.annotations.summary).toBe('Users got an apology instead of an answer in the last 10 minutes');
    expect(alert!.annotations.runbook).toMatch(/Every configured provider failed/);
  });
});
