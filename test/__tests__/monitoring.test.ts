// spec.monitoring: the Prometheus scrape config keeps exactly the stack's Loki pods on their HTTP port
// (Prometheus' relabelling played against the rendered pod templates), labels them by component and
// instance, and the alerts select the series that scrape config produces.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSpec, renderKubernetes, writeManifests } from 'loki-microservices';
import { parse } from 'yaml';
import { allContainers, render, workloads } from '../src/objects.js';

interface Relabel {
  source_labels?: string[];
  regex?: string;
  action?: string;
  target_label?: string;
  replacement?: string;
}

/** Prometheus relabelling (keep and replace, the defaults elsewhere): the target's labels, or undefined if dropped. */
function relabel(labels: Record<string, string>, rules: Relabel[]): Record<string, string> | undefined {
  const result = { ...labels };
  for (const rule of rules) {
    const value = (rule.source_labels ?? []).map((label) => result[label] ?? '').join(';');
    const match = new RegExp(`^(?:${rule.regex ?? '(.*)'})$`).exec(value);
    if (rule.action === 'keep') {
      if (!match) return undefined;
      continue;
    }
    if (match && rule.target_label) result[rule.target_label] = (rule.replacement ?? '$1').replace('$1', match[1] ?? '');
  }
  return result;
}

/** What Kubernetes SD (role: pod) gives Prometheus for each container port of a pod. */
function targets(podLabels: Record<string, string>, podName: string, namespace: string, ports: string[]): Record<string, string>[] {
  const meta = Object.fromEntries(Object.entries(podLabels).map(([key, value]) => [`__meta_kubernetes_pod_label_${key.replace(/[^A-Za-z0-9_]/g, '_')}`, value]));
  return ports.map((port) => ({ ...meta, __meta_kubernetes_pod_name: podName, __meta_kubernetes_namespace: namespace, __meta_kubernetes_pod_container_port_name: port }));
}

const input = { metadata: { name: 'logs', namespace: 'obs' }, spec: { monitoring: { enabled: true } } };

test('without spec.monitoring there are no Prometheus files', () => {
  expect(render({}).files).toEqual({});
});

test('the scrape config keeps the Loki pods of this stack on their HTTP port, labelled by component and instance', () => {
  const { objects, files } = render(input);
  const scrape = parse(files['prometheus-scrape.yaml']!) as { scrape_configs: { relabel_configs: Relabel[]; kubernetes_sd_configs: unknown[] }[] };
  const [job] = scrape.scrape_configs;
  expect(job!.kubernetes_sd_configs).toEqual([{ role: 'pod', namespaces: { names: ['obs'] } }]);
  const kept: Record<string, string>[] = [];
  for (const { template } of workloads(objects)) {
    const ports = allContainers(template).flatMap((c) => (c.ports ?? []).map((p) => p.name!));
    const labels = template.metadata!.labels!;
    for (const target of targets(labels, `${labels['app.kubernetes.io/component']}-0`, 'obs', ports)) {
      const result = relabel(target, job!.relabel_configs);
      if (result) kept.push(result);
    }
    // The same pod in another stack of the namespace is not scraped by this job.
    for (const target of targets({ ...labels, 'app.kubernetes.io/instance': 'other' }, 'x', 'obs', ports)) expect(relabel(target, job!.relabel_configs)).toBeUndefined();
  }
  const components = kept.map((target) => target.component).sort();
  expect(components).toEqual(['compactor', 'distributor', 'index-gateway', 'ingester', 'querier', 'query-frontend', 'query-scheduler', 'ruler']);
  for (const target of kept) {
    expect(target).toMatchObject({ loki_stack: 'logs', namespace: 'obs', instance: `${target.component}-0`, __meta_kubernetes_pod_container_port_name: 'http-metrics' });
  }
});

test('every alert selects the series of this stack, and says how bad and what to do', () => {
  const { files } = render(input);
  const rules = parse(files['prometheus-rules.yaml']!) as { groups: { rules: { alert: string; expr: string; for: string; labels: { severity: string }; annotations: Record<string, string> }[] }[] };
  const alerts = rules.groups.flatMap((g) => g.rules);
  expect(alerts.map((a) => a.alert)).toEqual(['LokiRequestErrors', 'LokiIngestionRateLimited', 'LokiIngesterFlushFailures', 'LokiPanics']);
  for (const alert of alerts) {
    const selectors = [...alert.expr.matchAll(/\{([^}]*)\}\[/g)].map((m) => m[1]!);
    expect(selectors.length).toBeGreaterThan(0);
    for (const selector of selectors) expect(selector).toContain('loki_stack="logs", namespace="obs"');
    expect(alert.for).toMatch(/^\d+m$/);
    expect(['warning', 'critical']).toContain(alert.labels.severity);
    expect(alert.annotations.summary).toBeTruthy();
    expect(alert.annotations.description).toBeTruthy();
  }
});

test('render -o DIR writes both files beside the manifests, outside the kustomization', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'monitoring-'));
  const files = await writeManifests(directory, renderKubernetes(parseSpec(input)));
  expect(files.slice(-2)).toEqual(['prometheus-scrape.yaml', 'prometheus-rules.yaml']);
  expect(readdirSync(directory)).toEqual(expect.arrayContaining(files));
  expect(readFileSync(join(directory, 'kustomization.yaml'), 'utf8')).not.toContain('prometheus');
});
