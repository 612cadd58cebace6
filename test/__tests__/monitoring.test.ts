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
    if (match && rule.target_label)
      result[rule.target_label] = (rule.replacement ?? '$1').replace('$1', match[1] ?? '');
  }
  return result;
}

/** What Kubernetes SD (role: pod) gives Prometheus for each container port of a pod. */
function targets(
  podLabels: Record<string, string>,
  podName: string,
  namespace: string,
  ports: string[],
): Record<string, string>[] {
  const meta = Object.fromEntries(
    Object.entries(podLabels).map(([key, value]) => [
      `__meta_kubernetes_pod_label_${key.replace(/[^A-Za-z0-9_]/g, '_')}`,
      value,
    ]),
  );
  return ports.map((port) => ({
    ...meta,
    __meta_kubernetes_pod_name: podName,
    __meta_kubernetes_namespace: namespace,
    __meta_kubernetes_pod_container_port_name: port,
  }));
}

// With memcached caches: their exporter sidecars are scraped like the Loki pods.
const input = {
  metadata: { name: 'logs', namespace: 'obs' },
  spec: { monitoring: { enabled: true }, caches: { type: 'memcached' } },
} as const;

test('without spec.monitoring there are no Prometheus files', () => {
  expect(render({}).files).toEqual({});
});

test('the scrape config keeps the Loki pods and cache exporters of this stack on their metrics port, labelled by component and instance', () => {
  const { objects, files } = render(input);
  const scrape = parse(files['prometheus-scrape.yaml']!) as {
    scrape_configs: { relabel_configs: Relabel[]; kubernetes_sd_configs: unknown[] }[];
  };
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
    for (const target of targets({ ...labels, 'app.kubernetes.io/instance': 'other' }, 'x', 'obs', ports))
      expect(relabel(target, job!.relabel_configs)).toBeUndefined();
  }
  const components = kept.map((target) => target.component).sort();
  expect(components).toEqual([
    'chunks-cache',
    'compactor',
    'distributor',
    'index-gateway',
    'ingester',
    'querier',
    'query-frontend',
    'query-scheduler',
    'results-cache',
    'ruler',
  ]);
  for (const target of kept) {
    expect(target).toMatchObject({
      loki_stack: 'logs',
      namespace: 'obs',
      instance: `${target.component}-0`,
      __meta_kubernetes_pod_container_port_name: 'http-metrics',
    });
  }
});

test('every alert selects the series of this stack, and says how bad and what to do', () => {
  const { files } = render(input);
  const rules = parse(files['prometheus-rules.yaml']!) as {
    groups: {
      rules: {
        alert: string;
        expr: string;
        for: string;
        labels: { severity: string };
        annotations: Record<string, string>;
      }[];
    }[];
  };
  const alerts = rules.groups.flatMap((g) => g.rules);
  expect(alerts.map((a) => a.alert)).toEqual([
    'LokiRequestErrors',
    'LokiIngestionRateLimited',
    'LokiIngesterFlushFailures',
    'LokiPanics',
  ]);
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

describe('with the Prometheus Operator (spec.monitoring.prometheusOperator)', () => {
  const operatorInput = {
    ...input,
    spec: {
      ...input.spec,
      monitoring: { enabled: true, prometheusOperator: true, labels: { release: 'kube-prometheus-stack' } },
    },
  };
  const { objects, files } = render(operatorInput);
  const podMonitor = objects.find((o) => o.kind === 'PodMonitor') as unknown as {
    metadata: { name: string; labels: Record<string, string> };
    spec: {
      selector: {
        matchLabels: Record<string, string>;
        matchExpressions?: { key: string; operator: string; values: string[] }[];
      };
      podMetricsEndpoints: {
        port: string;
        path: string;
        relabelings: { sourceLabels?: string[]; targetLabel?: string; replacement?: string }[];
      }[];
    };
  };
  const rule = objects.find((o) => o.kind === 'PrometheusRule') as unknown as {
    metadata: { labels: Record<string, string> };
    spec: unknown;
  };

  /** The relabelling the Operator generates for a PodMonitor: its selector and port, then the endpoint's own rules. */
  function operatorRelabel(target: Record<string, string>): Record<string, string> | undefined {
    const [endpoint] = podMonitor.spec.podMetricsEndpoints;
    const labelOf = (key: string) => `__meta_kubernetes_pod_label_${key.replace(/[^A-Za-z0-9_]/g, '_')}`;
    const selector: Relabel[] = [
      ...Object.entries(podMonitor.spec.selector.matchLabels).map(([key, value]) => ({
        source_labels: [labelOf(key)],
        regex: value,
        action: 'keep',
      })),
      ...(podMonitor.spec.selector.matchExpressions ?? []).map(({ key, operator, values }) => {
        expect(operator).toBe('In');
        return { source_labels: [labelOf(key)], regex: `(${values.join('|')})`, action: 'keep' };
      }),
    ];
    const port: Relabel = {
      source_labels: ['__meta_kubernetes_pod_container_port_name'],
      regex: endpoint!.port,
      action: 'keep',
    };
    const namespace: Relabel = { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' };
    const own = endpoint!.relabelings.map(({ sourceLabels, targetLabel, replacement }) => ({
      ...(sourceLabels ? { source_labels: sourceLabels } : {}),
      target_label: targetLabel,
      replacement,
    }));
    return relabel(target, [...selector, port, namespace, ...own]);
  }

  test('a PodMonitor and a PrometheusRule replace the files, labelled for the Prometheus that should pick them up', () => {
    expect(files).toEqual({});
    expect(podMonitor.metadata.labels).toMatchObject({
      release: 'kube-prometheus-stack',
      'app.kubernetes.io/instance': 'logs',
    });
    expect(rule.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
    expect(rule.spec).toEqual(parse(render(input).files['prometheus-rules.yaml']!));
  });

  test('the PodMonitor scrapes the same targets as the scrape config, with the same labels the alerts select on', () => {
    const scrape = parse(render(input).files['prometheus-scrape.yaml']!) as {
      scrape_configs: { relabel_configs: Relabel[] }[];
    };
    let compared = 0;
    for (const { template } of workloads(objects)) {
      const ports = allContainers(template).flatMap((c) => (c.ports ?? []).map((p) => p.name!));
      const labels = template.metadata!.labels!;
      for (const target of [
        ...targets(labels, 'pod-0', 'obs', ports),
        ...targets({ ...labels, 'app.kubernetes.io/instance': 'other' }, 'x', 'obs', ports),
      ]) {
        const viaFile = relabel(target, scrape.scrape_configs[0]!.relabel_configs);
        const viaOperator = operatorRelabel(target);
        const pick = (result: Record<string, string> | undefined) =>
          result && {
            component: result.component,
            instance: result.instance,
            namespace: result.namespace,
            loki_stack: result.loki_stack,
          };
        expect(pick(viaOperator)).toEqual(pick(viaFile));
        if (viaFile) compared++;
      }
    }
    expect(compared).toBe(10);
  });
});
