// One Nomad group per Loki component (cf. the Kubernetes component renderers): `count` from replicas,
// the Loki image with its -target, the config and credentials templates, the service with a /ready check,
// resources from the profile, and for the stateful components a sticky disk or a CSI volume and a kill
// timeout long enough to flush.
import { COMPONENTS, type ComponentName, type StatefulComponentName } from '../../spec/components.js';
import type { LokiStack } from '../../spec/schema.js';
import { attributes, block, interpolated, mapBlock, type HclBlock, type HclEntry, type Interpolated } from './hcl.js';
import {
  CSI_DATA_DIR,
  groupName,
  jobMeta,
  mebibytes,
  memberlistServiceName,
  nomadResources,
  PORT_LABELS,
  runtimePath,
  serviceName,
  TASK_PATHS,
  usesMemberlist,
} from './common.js';
import { CONSUL_ENV } from './loki-config.js';
import {
  configTemplate,
  credentialTemplates,
  ruleTemplates,
  runtimeConfigTemplate,
  tlsTemplates,
} from './templates.js';
import { traefikTags } from './traefik.js';
import { STARTUP } from '../../stack/startup.js';

const isStateful = (component: ComponentName): component is StatefulComponentName =>
  COMPONENTS[component].kind === 'StatefulSet';

const nomadDuration = (seconds: number) => (seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`);

export function componentGroup(stack: LokiStack, component: ComponentName): HclBlock {
  const spec = stack.spec.components[component];
  return block(
    'group',
    [groupName(component)],
    attributes({ count: spec.replicas }),
    mapBlock('meta', jobMeta(stack)),
    placement(stack, spec.replicas),
    network(stack),
    storage(stack, component),
    service(stack, component),
    usesMemberlist(stack) && memberlistService(stack, component),
    task(stack, component),
  );
}

/** Replicas of one component on distinct nodes (`hard`) or spread over them (`soft`), and over datacenters. */
function placement(stack: LokiStack, count: number): HclBlock[] {
  if (count < 2) return [];
  const { antiAffinity, zoneSpread } = stack.spec.scheduling;
  return [
    ...(antiAffinity === 'hard'
      ? [block('constraint', [], attributes({ operator: 'distinct_hosts', value: 'true' }))]
      : []),
    ...(antiAffinity === 'soft'
      ? [block('spread', [], attributes({ attribute: interpolated('${node.unique.id}'), weight: 50 }))]
      : []),
    ...(zoneSpread
      ? [block('spread', [], attributes({ attribute: interpolated('${node.datacenter}'), weight: 50 }))]
      : []),
  ];
}

/** Dynamic ports: Loki listens on and advertises what Nomad gives it (see loki-config.ts). */
function network(stack: LokiStack): HclBlock {
  const labels = [PORT_LABELS.http, PORT_LABELS.grpc, ...(usesMemberlist(stack) ? [PORT_LABELS.gossip] : [])];
  return block(
    'network',
    [],
    labels.map((label) => block('port', [label])),
  );
}

function storage(stack: LokiStack, component: ComponentName): HclBlock[] {
  if (!isStateful(component)) return [];
  const { size } = stack.spec.components[component].storage;
  if (stack.spec.nomad.volumes === 'csi') {
    return [
      block(
        'volume',
        ['data'],
        attributes({
          type: 'csi',
          source: serviceName(stack, component),
          per_alloc: true,
          access_mode: 'single-node-writer',
          attachment_mode: 'file-system',
        }),
      ),
    ];
  }
  // Sticky: an updated allocation keeps its WAL and index on the same node; migrate: moved with it otherwise.
  return [block('ephemeral_disk', [], attributes({ sticky: true, migrate: true, size: mebibytes(size) }))];
}

const serviceMeta = (component: ComponentName) =>
  mapBlock('meta', { alloc_id: interpolated('${NOMAD_ALLOC_ID}'), component: COMPONENTS[component].target });

function service(stack: LokiStack, component: ComponentName): HclBlock {
  return block(
    'service',
    [],
    attributes({
      name: serviceName(stack, component),
      provider: stack.spec.nomad.serviceProvider,
      port: PORT_LABELS.http,
      tags: ['loki', COMPONENTS[component].target, ...traefikTags(stack, component)],
    }),
    serviceMeta(component),
    block(
      'check',
      [],
      attributes({
        name: 'ready',
        type: 'http',
        path: '/ready',
        interval: `${STARTUP[stack.spec.profile].readinessPeriodSeconds}s`,
        timeout: '3s',
      }),
    ),
  );
}

/** Every component reads rings (schedulers, index-gateways and ingesters are found through them), so all gossip. */
function memberlistService(stack: LokiStack, component: ComponentName): HclBlock {
  return block(
    'service',
    [],
    attributes({
      name: memberlistServiceName(stack),
      provider: stack.spec.nomad.serviceProvider,
      port: PORT_LABELS.gossip,
      tags: ['loki', 'memberlist'],
    }),
    serviceMeta(component),
  );
}

function task(stack: LokiStack, component: ComponentName): HclBlock {
  const { target, objectStore } = COMPONENTS[component];
  const { nomad } = stack.spec;
  const needsVault = nomad.tls.enabled || (objectStore && nomad.credentials?.source === 'vault');
  const csi = isStateful(component) && nomad.volumes === 'csi';
  return block(
    'task',
    [target],
    attributes({ driver: 'docker' }),
    block(
      'config',
      [],
      attributes({
        image: `${stack.spec.image}:${stack.spec.version}`,
        ports: [PORT_LABELS.http, PORT_LABELS.grpc, ...(usesMemberlist(stack) ? [PORT_LABELS.gossip] : [])],
        args: [
          `-target=${target}`,
          interpolated(`-config.file=${runtimePath(TASK_PATHS.configFile)}`),
          '-config.expand-env=true',
        ],
      }),
    ),
    env(stack, objectStore),
    configTemplate(stack),
    runtimeConfigTemplate(stack),
    objectStore ? credentialTemplates(stack) : [],
    tlsTemplates(stack),
    component === 'ruler' ? ruleTemplates(stack) : [],
    needsVault && block('vault', [], attributes({ role: nomad.vaultRole, change_mode: 'restart' })),
    csi && block('volume_mount', [], attributes({ volume: 'data', destination: CSI_DATA_DIR })),
    block('resources', [], attributes(nomadResources(stack.spec.components[component].resources))),
    attributes({ kill_timeout: nomadDuration(COMPONENTS[component].shutdownGraceSeconds), kill_signal: 'SIGTERM' }),
  );
}

function env(stack: LokiStack, objectStore: boolean): HclEntry | undefined {
  const values: Record<string, string | Interpolated> = {};
  // Interpolated by Nomad on each node: the task reaches its Consul agent on the node's address.
  if (!usesMemberlist(stack)) values[CONSUL_ENV.address] = interpolated(stack.spec.nomad.consulAddress);
  if (objectStore && stack.spec.storage.type === 'gcs' && stack.spec.nomad.credentials) {
    values.GOOGLE_APPLICATION_CREDENTIALS = interpolated(runtimePath(TASK_PATHS.gcsKeyFile));
  }
  return Object.keys(values).length > 0 ? mapBlock('env', values) : undefined;
}
