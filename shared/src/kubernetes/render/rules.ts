// Declared rules on Kubernetes: one ConfigMap per tenant, each mounted as the directory `<rules>/<tenant>`
// of the ruler pods (Loki's local rule storage). A ConfigMap volume is updated in place by the kubelet and
// the ruler re-reads its directory every poll_interval, so changing a rule restarts nothing. Every ruler
// replica mounts the same ConfigMaps and sees the same rules; the ring shards their evaluation.
import type { V1ConfigMap, V1EnvVar, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { SpecError } from '../../errors.js';
import type { ComponentName } from '../../spec/components.js';
import type { LokiStack } from '../../spec/schema.js';
import { remoteWriteHeaderEnv } from '../../stack/loki-config.js';
import { declaredRules, rulesAnnotationOf, tenantRules } from '../../stack/rule-files.js';
import { checksum, metadata, PATHS, RULES_ANNOTATION } from './common.js';

/** What Kubernetes allows for all the annotations of one object together, names included (bytes). */
const ANNOTATIONS_LIMIT = 256 * 1024;

/** On each rules ConfigMap: the tenant its files are for (a tenant ID need not be a valid object name). */
export const RULES_TENANT_ANNOTATION = 'loki-microservices/rules-tenant';

/** `<name>-rules-<tenant>`, or a hash of the tenant when it is not a DNS label. */
export function rulesConfigMapName(stack: LokiStack, tenant: string): string {
  const readable = /^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$/.test(tenant);
  return `${stack.metadata.name}-rules-${readable ? tenant : checksum(tenant).slice(0, 10)}`;
}

export function rulesConfigMaps(stack: LokiStack): V1ConfigMap[] {
  if (!stack.spec.components.ruler.enabled) return [];
  return tenantRules(stack).map(({ tenant, files }) => {
    const base = metadata(stack, rulesConfigMapName(stack, tenant), 'ruler');
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { ...base, annotations: { ...base.annotations, [RULES_TENANT_ANNOTATION]: tenant } },
      data: Object.fromEntries(files.map((file) => [file.name, file.text])),
    };
  });
}

/** The ruler's rule directories (a volume per tenant) and the environment of its remote-write headers. */
export function rulerRuleFiles(
  stack: LokiStack,
  component: ComponentName,
): { volumes: V1Volume[]; mounts: V1VolumeMount[]; env: V1EnvVar[] } {
  if (component !== 'ruler') return { volumes: [], mounts: [], env: [] };
  const tenants = tenantRules(stack).map(({ tenant }) => ({
    tenant,
    volume: `rules-${checksum(tenant).slice(0, 10)}`,
  }));
  const headers = Object.values(stack.spec.rules.remoteWrite?.headers ?? {});
  return {
    volumes: tenants.map(({ tenant, volume }) => ({
      name: volume,
      configMap: { name: rulesConfigMapName(stack, tenant) },
    })),
    // Mounted as directories, not subPath: the kubelet updates them in place.
    mounts: tenants.map(({ tenant, volume }) => ({
      name: volume,
      mountPath: `${PATHS.rulesDir}/${tenant}`,
      readOnly: true,
    })),
    env: headers.map(({ secretName, key }, index) => ({
      name: remoteWriteHeaderEnv(index),
      valueFrom: { secretKeyRef: { name: secretName, key } },
    })),
  };
}

/**
 * The annotations of the ruler's StatefulSet with the declared rules added (none without rules). Too many groups
 * for Kubernetes' annotation limit is refused here rather than by the API server halfway through an apply.
 */
export function withRulesAnnotation(stack: LokiStack, annotations: Record<string, string>): Record<string, string> {
  const declared = declaredRules(stack);
  if (declared.length === 0) return annotations;
  const annotated = { ...annotations, [RULES_ANNOTATION]: rulesAnnotationOf(declared) };
  const size = Object.entries(annotated).reduce(
    (total, [name, value]) => total + new TextEncoder().encode(name + value).length,
    0,
  );
  if (size > ANNOTATIONS_LIMIT)
    throw new SpecError([
      {
        path: 'spec.rules',
        message: `declares ${declared.reduce((total, file) => total + file.groups.length, 0)} rule groups, too many to list in the ruler's ${RULES_ANNOTATION} annotation (${Math.ceil(size / 1024)} KiB of annotations, Kubernetes allows ${ANNOTATIONS_LIMIT / 1024} KiB): put rules in fewer groups with shorter names`,
      },
    ]);
  return annotated;
}
