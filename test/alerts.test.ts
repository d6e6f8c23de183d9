/**
 * The alerts in deploy/prometheus are checked by Prometheus' own rule engine (promtool, from Debian's prometheus
 * package): each fires on the series that should fire it and stays quiet on healthy ones, and the Alertmanager
 * config routes them to their receivers.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';

const deploy = fileURLToPath(new URL('../deploy/', import.meta.url));
const rulesFile = join(deploy, 'prometheus', 'alerts.yml');

interface Rule {
  alert: string;
  labels: { severity: string };
  annotations: Record<string, string>;
}
interface ExpectedAlert {
  exp_labels: Record<string, string>;
  exp_annotations?: Record<string, string>;
}
interface RuleTests {
  rule_files: string[];
  tests: { alert_rule_test: { alertname: string; exp_alerts: ExpectedAlert[] }[] }[];
}

const rules = (parse(readFileSync(rulesFile, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

function run(tool: 'promtool' | 'amtool', ...args: string[]): { ok: boolean; output: string } {
  try {
    return { ok: true, output: execFileSync(tool, args, { encoding: 'utf8', stdio: 'pipe' }) };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe('alerts', () => {
  it('when promtool checks the rules then every alert has a severity, a summary and a runbook', () => {
    const checked = run('promtool', 'check', 'rules', rulesFile);
    expect(checked.output).toContain(`SUCCESS: ${rules.length} rules found`);
    for (const rule of rules) {
      expect(Object.keys(rule.annotations).sort(), rule.alert).toEqual(['runbook', 'summary']);
      expect(rule.annotations.runbook!.length, rule.alert).toBeGreaterThan(80);
    }
    const names = rules.map((r) => r.alert);
    // The seed's three, and the ones this engine's operators need.
    expect(names).toEqual(expect.arrayContaining(['HighCpu', 'TurnLatencyHigh', 'ModelErrorRateHigh', 'FirstTokenLatencyHigh']));
    expect(names).toEqual(expect.arrayContaining(['ApologiesSent', 'TelegramUncertainSends', 'WorkflowTaskFailures', 'NoWorkerPolling', 'ArchiveFailing', 'RedisUnavailable']));
  });

  it('when the test series are replayed then each alert fires exactly where it should, and every alert is tested firing', () => {
    const suite = parse(readFileSync(join(deploy, 'prometheus', 'alerts.test.yml'), 'utf8')) as RuleTests;
    const covered = new Set<string>();
    for (const test of suite.tests) {
      for (const check of test.alert_rule_test) {
        const runbook = rules.find((r) => r.alert === check.alertname)?.annotations.runbook;
        expect(runbook, check.alertname).toBeDefined();
        for (const alert of check.exp_alerts) {
          alert.exp_annotations = { ...alert.exp_annotations, runbook: runbook! };
          covered.add(check.alertname);
        }
      }
    }
    expect([...covered].sort()).toEqual(rules.map((r) => r.alert).sort());
    const dir = mkdtempSync(join(tmpdir(), 'aac-alerts-'));
    writeFileSync(join(dir, 'alerts.yml'), readFileSync(rulesFile));
    writeFileSync(join(dir, 'alerts.test.yml'), stringify(suite));
    const tested = run('promtool', 'test', 'rules', join(dir, 'alerts.test.yml'));
    expect(tested.output).toContain('SUCCESS');
    expect(tested.ok, tested.output).toBe(true);
  });

  it('when Alertmanager routes them then pages reach the on-call channels and tickets the operators\' webhook', () => {
    const config = join(deploy, 'alertmanager', 'alertmanager.yml');
    const checked = run('amtool', 'check-config', config);
    expect(checked.ok, checked.output).toBe(true);
    const severities = new Set(rules.map((r) => r.labels.severity));
    expect([...severities].sort()).toEqual(['page', 'ticket']);
    const receiver = (...labels: string[]) => run('amtool', 'config', 'routes', 'test', `--config.file=${config}`, ...labels).output.trim();
    expect(receiver('severity=page', 'alertname=TurnLatencyHigh')).toBe('on-call');
    expect(receiver('severity=ticket', 'alertname=HighCpu')).toBe('operators-webhook');
  });
});
