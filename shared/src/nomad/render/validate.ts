// What a valid spec may still ask for that Nomad cannot give: checked before rendering the job, so the
// CLI reports it as invalid input (exit 2) with the field and the fix.
import type { SpecIssue } from '../../errors.js';
import { autoscaledParts, type LokiStack } from '../../spec/schema.js';

export function nomadIssues(stack: LokiStack): SpecIssue[] {
  const { storage, nomad } = stack.spec;
  const issues: SpecIssue[] = [];
  if (storage.type === 'bundled') {
    issues.push({
      path: 'spec.storage.type',
      message:
        'bundled runs a Kubernetes pod and has no Nomad form: use s3 (with endpoint and forcePathStyle for a MinIO or RustFS you run), gcs or azure',
    });
    return issues;
  }
  const block = storage[storage.type];
  if (block?.secretName) {
    issues.push({
      path: `spec.storage.${storage.type}.secretName`,
      message:
        'names a Kubernetes Secret, which Nomad cannot read: remove it and set spec.nomad.credentials (a Vault path or a Nomad Variable)',
    });
  }
  if (storage.type === 'azure' && !nomad.credentials) {
    issues.push({
      path: 'spec.nomad.credentials',
      message:
        'required for azure on Nomad (there is no workload identity for it): name the Vault path or Nomad Variable holding AZURE_STORAGE_ACCOUNT_KEY',
    });
  }
  if (stack.spec.zoneAwareness.enabled) {
    issues.push({
      path: 'spec.zoneAwareness.enabled',
      message:
        'is Kubernetes only (a StatefulSet per zone, pinned by node labels; the Nomad job has one ingester group): set it to false for --target nomad',
    });
  }
  if (Object.keys(stack.spec.rules.remoteWrite?.headers ?? {}).length > 0) {
    issues.push({
      path: 'spec.rules.remoteWrite.headers',
      message:
        'reads Kubernetes Secrets, which Nomad cannot: remove the headers (on Nomad, write through a proxy that adds them)',
    });
  }
  if (stack.spec.rules.discovery.enabled) {
    issues.push({
      path: 'spec.rules.discovery.enabled',
      message:
        'collects Kubernetes ConfigMaps, which Nomad has none of: set it to false and declare the rules in spec.rules.files or spec.rules.inline',
    });
  }
  if (storage.type === 'azure' && storage.azure?.useFederatedToken) {
    issues.push({
      path: 'spec.storage.azure.useFederatedToken',
      message: 'Azure Workload Identity is Kubernetes-only: remove it and set spec.nomad.credentials',
    });
  }
  for (const [path] of autoscaledParts(stack.spec)) {
    issues.push({
      path: [...path, 'autoscaling', 'enabled'].join('.'),
      message:
        "is Kubernetes-only (Nomad's scaling needs the separate Nomad Autoscaler and an APM plugin): set it to false and size the group with replicas",
    });
  }
  if (stack.spec.gateway.expose) {
    issues.push({
      path: 'spec.gateway.expose',
      message:
        'renders a Kubernetes Ingress or HTTPRoute, which Nomad has none of: remove it and expose the stack with spec.nomad.traefik',
    });
  }
  return issues;
}
