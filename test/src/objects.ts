// Helpers to look inside rendered objects: find workloads, their pod templates and containers.
import type { KubernetesObject, V1Container, V1PodTemplateSpec, V1Service } from '@kubernetes/client-node';
import {
  parseSpec,
  renderKubernetes,
  type LokiStack,
  type LokiStackInput,
  type RenderedStack,
} from 'loki-microservices';

export interface Rendered extends RenderedStack {
  stack: LokiStack;
}

export function render(input: LokiStackInput): Rendered {
  const stack = parseSpec(input);
  return { stack, ...renderKubernetes(stack) };
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet'];

export interface Workload {
  object: KubernetesObject;
  template: V1PodTemplateSpec;
}

export function workloads(objects: KubernetesObject[]): Workload[] {
  return objects
    .filter((object) => WORKLOAD_KINDS.includes(object.kind ?? ''))
    .map((object) => ({
      object,
      template: (object as unknown as { spec: { template: V1PodTemplateSpec } }).spec.template,
    }));
}

export function allContainers(template: V1PodTemplateSpec): V1Container[] {
  return [...(template.spec?.initContainers ?? []), ...(template.spec?.containers ?? [])];
}

export function services(objects: KubernetesObject[]): V1Service[] {
  return objects.filter((object) => object.kind === 'Service') as V1Service[];
}

export function find<T extends KubernetesObject>(objects: KubernetesObject[], kind: string, name: string): T {
  const found = objects.find((object) => object.kind === kind && object.metadata?.name === name);
  if (!found)
    throw new Error(`no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ')}`);
  return found as T;
}

/** True when every label of `selector` is on `labels`. */
export function selects(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  return (
    !!selector &&
    Object.keys(selector).length > 0 &&
    Object.entries(selector).every(([key, value]) => labels?.[key] === value)
  );
}
