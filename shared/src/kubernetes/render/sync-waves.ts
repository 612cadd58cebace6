// spec.gitops.syncWaves: Argo CD's `argocd.argoproj.io/sync-wave` annotation on every rendered object, in the
// order apply rolls a stack out (waves.ts). Argo CD applies the lowest wave first (within a wave, by kind:
// namespaces first), and the next one once the resources of the wave are healthy: everything but the Loki and
// gateway workloads is wave 0 (the bundled object store too, which Loki needs first), each workload its
// component's wave number (1, 2…), each zone of a zone-aware ingester its own.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { LokiStack } from '../../spec/schema.js';
import { waveOf, wavesOf } from '../../stack/waves.js';
import { ZONE_LABEL } from './common.js';

export const SYNC_WAVE_ANNOTATION = 'argocd.argoproj.io/sync-wave';

const WORKLOADS = new Set(['Deployment', 'StatefulSet']);

/** The objects with their sync wave, when the spec asks for them; as they are otherwise. */
export function withSyncWaves(stack: LokiStack, objects: KubernetesObject[]): KubernetesObject[] {
  if (!stack.spec.gitops.syncWaves) return objects;
  const waves = wavesOf(stack);
  return objects.map((object) => {
    const labels = object.metadata?.labels ?? {};
    const component = labels['app.kubernetes.io/component'] ?? '';
    const wave = WORKLOADS.has(object.kind ?? '') ? (waveOf(waves, component, labels[ZONE_LABEL])?.number ?? 0) : 0;
    return {
      ...object,
      metadata: {
        ...object.metadata,
        annotations: { ...object.metadata?.annotations, [SYNC_WAVE_ANNOTATION]: `${wave}` },
      },
    };
  });
}
