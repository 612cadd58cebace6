// spec.monitoring: a scrape config that finds the stack's Loki pods by Kubernetes service discovery
// (relabelled to `component` and `instance` like the Nomad scrape job), and alerts that matter for Loki:
// request errors, ingestion rate limiting, ingester flush failures, panics. For a Prometheus without the
// Operator they are files next to the manifests (`render -o DIR`); with `prometheusOperator`, a PodMonitor
// and a PrometheusRule applied with the stack, producing the same series labels.
import type { KubernetesObject } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { LokiStack } from '../../spec/schema.js';
import { MEMCACHED, metadata, PORTS } from './common.js';

/** The `app.kubernetes.io/name` of the pods scraped: Loki, and the caches' exporter sidecars (same port name). */
const SCRAPED_PRODUCTS = ['loki', MEMCACHED];

/** The label every series of the stack carries, set by the scrape config, that the alerts select on. */
export const STACK_LABEL = 'loki_stack';

export function scrapeConfig(stack: LokiStack): Record<string, unknown> {
  const { name, namespace } = stack.metadata;
  const label = (key: string) => `__meta_kubernetes_pod_label_${key.replace(/[^A-Za-z0-9_]/g, '_')}`;
  return {
    scrape_configs: [
      {
        job_name: `loki-${namespace}-${name}`,
        metrics_path: '/metrics',
        kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: [namespace] } }],
        relabel_configs: [
          // The stack's Loki pods and memcached exporters, on their metrics port; nothing else in the namespace.
          {
            source_labels: [label('app.kubernetes.io/instance'), label('app.kubernetes.io/name')],
            regex: `${name};(${SCRAPED_PRODUCTS.join('|')})`,
            action: 'keep',
          },
          { source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: PORTS.http.name, action: 'keep' },
          { source_labels: [label('app.kubernetes.io/component')], target_label: 'component' },
          { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'instance' },
          { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
          { target_label: STACK_LABEL, replacement: name },
        ],
      },
    ],
  };
}

/** The PromQL label matchers that pick this stack's series: the labels the scrape config above attaches. */
export const stackMetricSelector = (stack: LokiStack) =>
  `${STACK_LABEL}="${stack.metadata.name}", namespace="${stack.metadata.namespace}"`;

export function alertRules(stack: LokiStack): Record<string, unknown> {
  const { name, namespace } = stack.metadata;
  const selector = stackMetricSelector(stack);
  const alert = (
    alertName: string,
    expr: string,
    forDuration: string,
    severity: string,
    summary: string,
    description: string,
  ) => ({
    alert: alertName,
    expr,
    for: forDuration,
    labels: { severity },
    annotations: { summary, description },
  });
  return {
    groups: [
      {
        name: `loki-${namespace}-${name}`,
        rules: [
          alert(
            'LokiRequestErrors',
            `100 * sum by (namespace, component, route) (rate(loki_request_duration_seconds_count{${selector}, status_code=~"5.."}[2m])) / sum by (namespace, component, route) (rate(loki_request_duration_seconds_count{${selector}}[2m])) > 10`,
            '15m',
            'critical',
            'Loki is answering requests with errors.',
            '{{ $labels.component }} {{ $labels.route }} answers {{ printf "%.2f" $value }}% of requests with 5xx.',
          ),
          alert(
            'LokiIngestionRateLimited',
            `sum by (namespace, tenant, reason) (rate(loki_discarded_samples_total{${selector}, reason=~"rate_limited|per_stream_rate_limit|stream_limit"}[5m])) > 0`,
            '15m',
            'warning',
            'Loki is discarding log lines over the tenant limits.',
            'Tenant {{ $labels.tenant }} loses lines ({{ $labels.reason }}): raise spec.limits or lower the ingestion rate.',
          ),
          alert(
            'LokiIngesterFlushFailures',
            `sum by (namespace, instance) (increase(loki_ingester_chunks_flush_failures_total{${selector}}[15m])) > 0`,
            '15m',
            'critical',
            'An ingester cannot flush chunks to the object store.',
            '{{ $labels.instance }} failed to flush chunks: check the object store and its credentials; unflushed data lives only in the WAL.',
          ),
          alert(
            'LokiPanics',
            `sum by (namespace, component) (increase(loki_panic_total{${selector}}[10m])) > 0`,
            '5m',
            'critical',
            'A Loki component panicked.',
            '{{ $labels.component }} panicked {{ $value }} times in 10 minutes: see its logs.',
          ),
        ],
      },
    ],
  };
}

/** The PodMonitor and PrometheusRule of spec.monitoring.prometheusOperator: the scrape job and the rules above, as objects. */
export function prometheusOperatorObjects(stack: LokiStack): KubernetesObject[] {
  const { monitoring } = stack.spec;
  if (!monitoring.enabled || !monitoring.prometheusOperator) return [];
  const { name } = stack.metadata;
  const withLabels = (kind: string, spec: Record<string, unknown>): KubernetesObject => {
    const meta = metadata(stack, name);
    return {
      apiVersion: 'monitoring.coreos.com/v1',
      kind,
      metadata: { ...meta, labels: { ...meta.labels, ...monitoring.labels } },
      spec,
    } as KubernetesObject;
  };
  return [
    withLabels('PodMonitor', {
      // The Operator adds `namespace`, `pod` and `container`; the relabelling adds what the scrape config adds.
      // The stack's pods the scrape config keeps (not the object store or the gateway).
      selector: {
        matchLabels: { 'app.kubernetes.io/instance': name },
        matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: SCRAPED_PRODUCTS }],
      },
      podMetricsEndpoints: [
        {
          port: PORTS.http.name,
          path: '/metrics',
          relabelings: [
            { sourceLabels: ['__meta_kubernetes_pod_label_app_kubernetes_io_component'], targetLabel: 'component' },
            { sourceLabels: ['__meta_kubernetes_pod_name'], targetLabel: 'instance' },
            { targetLabel: STACK_LABEL, replacement: name },
          ],
        },
      ],
    }),
    withLabels('PrometheusRule', alertRules(stack)),
  ];
}

/** The files `render -o DIR` writes beside the manifests when spec.monitoring.enabled without the Operator. */
export function monitoringFiles(stack: LokiStack): Record<string, string> {
  if (!stack.spec.monitoring.enabled || stack.spec.monitoring.prometheusOperator) return {};
  const header = (what: string) =>
    `# ${what} for Loki stack ${stack.metadata.namespace}/${stack.metadata.name}, rendered by loki-microservices.\n`;
  return {
    'prometheus-scrape.yaml':
      header('Prometheus scrape config (add to scrape_configs)') + stringify(scrapeConfig(stack), { lineWidth: 0 }),
    'prometheus-rules.yaml':
      header('Prometheus alerting rules (rule_files)') + stringify(alertRules(stack), { lineWidth: 0 }),
  };
}
