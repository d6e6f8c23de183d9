/**
 * The Grafana dashboard in deploy/grafana, checked the way an operator would notice it broken: it imports (every
 * panel bound to the data source variable), draws each alert's threshold where that alert's metric is plotted, and
 * queries only metrics that exist, so a renamed or misspelt metric fails here instead of reading "No data".
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../lib/metrics';

interface Target {
  expr?: string;
  datasource?: { uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title?: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  /** A collapsed row holds its panels here. */
  panels?: Panel[];
  fieldConfig?: {
    defaults: {
      custom?: { thresholdsStyle?: { mode: string } };
      thresholds?: { steps: { value: number | null }[] };
    };
  };
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query: string };
  datasource?: { uid?: string };
}
interface Dashboard {
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

const file = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
const dashboard = JSON.parse(file('deploy/grafana/engine.json')) as Dashboard;
const dataSource = '${DS_PROMETHEUS}';
const queryPanels = (d: Dashboard) => d.panels.flatMap((p) => (p.type === 'row' ? p.panels ?? [] : [p]));
const exprs = (panel: Panel) => (panel.targets ?? []).flatMap((t) => (t.expr ? [t.expr] : []));

/** PromQL words that stand alone. Functions and aggregations need no list: with `by (…)` blanked, "(" follows them. */
const keywords = new Set(['and', 'or', 'unless', 'bool', 'atan2', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);

/**
 * The metric names a PromQL expression selects. Small on purpose: blank out what may hold identifiers that are not
 * metrics (strings, label matchers, range windows, grouping label lists), then every identifier left that is not
 * called like a function, not part of a number or duration (`1e3`, `5m`) and not a keyword is a metric.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // label values, label_replace's arguments
    .replace(/\{[^}]*\}/g, '{}') // label names and $variables in matchers
    .replace(/\[[^\]]*\]/g, '[]') // [5m], [$__rate_interval]
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ''); // by (le, channel)
  const identifiers = bare.match(/(?<![\w.:$])[a-zA-Z_:][\w:]*(?![\w:]|\s*\()/g) ?? [];
  return [...new Set(identifiers.filter((name) => !keywords.has(name.toLowerCase())))];
}

/** The series a metric of this type exposes. */
const seriesOf = (name: string, type: string) =>
  type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`]
    : type === 'summary' ? [name, `${name}_sum`, `${name}_count`]
      : [name];

/** The engine's registry, prom-client's default process and Node.js metrics included. */
async function engineSeries(): Promise<string[]> {
  const metrics = await createMetrics('worker').registry.getMetricsAsJSON();
  // prom-client types `type` as a numeric enum; at run time it is the exposition's type name ("histogram").
  return metrics.flatMap((m) => seriesOf(m.name, String(m.type)));
}

/**
 * What the workflow counts through the SDK metric meter, read from its source. The SDK core's exporter serves these
 * under their own names: no `temporal_` prefix (user metrics bypass it) and no `_total` on counters.
 */
function workflowSeries(): string[] {
  const source = file('workflows/conversation-metrics.ts');
  const created = [...source.matchAll(/\.create(Counter|Histogram|Gauge)\(\s*'([^']+)'/g)];
  // Every instrument the file creates was understood (not one written with double quotes, say).
  expect(created).toHaveLength(source.match(/\.create\w+\(/g)?.length ?? 0);
  return created.flatMap(([, kind, name]) => seriesOf(name!, kind!.toLowerCase()));
}

/**
 * Temporal SDK core metrics the dashboard reads, as the worker's exporter names them (default prefix `temporal_`,
 * counters without `_total`, durations in seconds under the same name). From sdk-core's
 * crates/sdk-core/src/telemetry/metrics.rs and crates/common/src/telemetry/metrics.rs, shipped in
 * node_modules/@temporalio/core-bridge/sdk-core; test/metrics.test.ts scrapes some of them from a real worker.
 */
const sdkCoreSeries = [
  'temporal_workflow_task_schedule_to_start_latency_bucket',
  'temporal_activity_schedule_to_start_latency_bucket',
  'temporal_num_pollers',
  'temporal_workflow_task_execution_failed',
  'temporal_sticky_cache_size',
];

/** "panel title: metric" for every metric a panel or variable queries that nothing exports. */
function unknownMetrics(d: Dashboard, known: Set<string>): string[] {
  const variables = d.templating.list.flatMap((v) => {
    const query = typeof v.query === 'string' ? v.query : v.query?.query;
    const metric = query && /label_values\(\s*([a-zA-Z_:][\w:]*)/.exec(query)?.[1];
    return metric ? [{ title: `$${v.name}`, names: [metric] }] : [];
  });
  const panels = queryPanels(d).map((p) => ({ title: p.title, names: exprs(p).flatMap(metricNames) }));
  return [...panels, ...variables].flatMap(({ title, names }) => names.filter((n) => !known.has(n)).map((n) => `${title}: ${n}`));
}

describe('grafana dashboard', () => {
  it('when Grafana imports it then every panel has a title, the data source variable and a query', () => {
    expect(dashboard.title).toBe('ai-assistant-core: engine');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    const all = [...dashboard.panels, ...dashboard.panels.flatMap((p) => p.panels ?? [])];
    expect(new Set(all.map((p) => p.id)).size).toBe(all.length);
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ type: 'datasource', name: 'DS_PROMETHEUS', query: 'prometheus' }));
    for (const panel of all) expect(panel.title, `panel ${panel.id}`).toBeTruthy();
    for (const panel of queryPanels(dashboard)) {
      expect(panel.datasource?.uid, panel.title).toBe(dataSource);
      expect(exprs(panel).length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.datasource?.uid ?? dataSource, panel.title).toBe(dataSource);
    }
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title?.split(':')[0]);
    expect(rows).toEqual(['Turns', 'Model', 'Delivery', 'API', 'Workers and processes']);
  });

  it('when a query uses a $variable then the dashboard defines it', () => {
    const defined = new Set(dashboard.templating.list.map((v) => v.name));
    const texts = [...queryPanels(dashboard).flatMap(exprs), ...dashboard.templating.list.map((v) => JSON.stringify(v.query ?? ''))];
    // Grafana's own ($__rate_interval, $__range) and label_replace's capture groups ("${1}xx") are not ours.
    const used = texts.flatMap((t) => [...t.matchAll(/\$\{?(\w+)/g)].map(([, name]) => name!)).filter((n) => !n.startsWith('__') && !/^\d+$/.test(n));
    expect(used.length).toBeGreaterThan(0);
    for (const name of new Set(used)) expect(defined.has(name), `$${name}`).toBe(true);
    for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) expect(variable.datasource?.uid, variable.name).toBe(dataSource);
  });

  it("when Prometheus parses every query (Grafana's variables filled in) then none is a syntax error", () => {
    // promtool (Debian's prometheus package, as in test/alerts.test.ts) checks recording rules' PromQL offline.
    // Variables sit in regex matchers (=~"$channel"); label_replace's "${1}" is Prometheus' own and stays.
    const filled = (expr: string) => expr.replace(/\$__rate_interval|\$__range/g, '5m').replace(/\$\w+/g, '.*');
    const rules = queryPanels(dashboard).flatMap((p) => exprs(p).map((expr, i) => ({ record: `grafana:panel_${p.id}_${i}`, expr: filled(expr) })));
    const dir = mkdtempSync(join(tmpdir(), 'aac-grafana-'));
    writeFileSync(join(dir, 'queries.yml'), stringify({ groups: [{ name: 'grafana', rules }] }));
    let output: string;
    try {
      output = execFileSync('promtool', ['check', 'rules', join(dir, 'queries.yml')], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      const failed = error as { stdout?: string; stderr?: string };
      output = `${failed.stdout ?? ''}${failed.stderr ?? ''}`;
    }
    expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it('when PromQL is read then only the metric names come out', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le, channel) (rate(aac_turn_duration_seconds_bucket{channel=~"$channel"}[$__rate_interval])))'))
      .toEqual(['aac_turn_duration_seconds_bucket']);
    expect(metricNames('sum(rate(a_total{outcome!="ok"}[5m] offset 1h)) by (provider) / on(provider) group_left sum(b_total) > 1e3 and c'))
      .toEqual(['a_total', 'b_total', 'c']);
    expect(metricNames('sum by (route, status_class) (label_replace(rate(x_total[1m]), "status_class", "${1}xx", "status", "([0-9]).."))'))
      .toEqual(['x_total']);
    expect(metricNames('temporal_num_pollers == 0 or absent(up)')).toEqual(['temporal_num_pollers', 'up']);
  });

  it('when every query is checked then each metric exists, and a misspelt one is named', async () => {
    const known = new Set([...(await engineSeries()), ...workflowSeries(), ...sdkCoreSeries]);
    expect(unknownMetrics(dashboard, known)).toEqual([]);

    const misspelt = structuredClone(dashboard);
    const target = queryPanels(misspelt).flatMap((p) => p.targets ?? []).find((t) => t.expr?.includes('aac_turn_duration_seconds_bucket'));
    target!.expr = target!.expr!.replace('aac_turn_duration_seconds_bucket', 'aac_turn_duraton_seconds_bucket');
    expect(unknownMetrics(misspelt, known)).toEqual(['Turn latency p50 / p95 / p99: aac_turn_duraton_seconds_bucket']);
  });

  it("when an alert's threshold is drawn then it is the alert's own, on a panel plotting the alert's metric", () => {
    const rules = (parse(file('deploy/prometheus/alerts.yml')) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules);
    for (const alert of ['TurnLatencyHigh', 'FirstTokenLatencyHigh', 'ModelErrorRateHigh', 'HighCpu']) {
      const expr = rules.find((r) => r.alert === alert)?.expr.trim() ?? '';
      const threshold = Number(/>\s*([\d.]+)$/.exec(expr)?.[1]);
      const panel = queryPanels(dashboard).find((p) => p.description?.includes(`the ${alert} alert`));
      expect(panel, alert).toBeDefined();
      const defaults = panel!.fieldConfig!.defaults;
      expect(defaults.custom?.thresholdsStyle?.mode, alert).not.toBe('off');
      expect(defaults.thresholds?.steps.map((s) => s.value), alert).toContain(threshold);
      expect(exprs(panel!).flatMap(metricNames), alert).toEqual(expect.arrayContaining(metricNames(expr)));
    }
  });
});
