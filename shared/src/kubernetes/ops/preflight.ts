// The pre-flight of a Loki version change on Kubernetes, before anything is sent (no lock, no dry run: GETs
// only). The live version is the workloads' `app.kubernetes.io/version` label. When the spec's differs:
// the version rules, the rendered keys and the release notes (stack/upgrade.ts; an UpgradeRefusedError, exit 2),
// then the stack's health: no failing pod, and every ingester ACTIVE in the ring, as the distributor's ring
// page tells it in JSON through the API server's service proxy (an UpgradeNotReadyError, exit 3). A stack
// that does not exist yet, or runs the spec's version already, has no pre-flight.
import { ClusterError, StackNotFoundError } from '../../errors.js';
import type { LokiStack } from '../../spec/schema.js';
import { runtimeConfig } from '../../stack/runtime-config.js';
import type { StackStatus } from '../../stack/status-model.js';
import { checkUpgrade, type UpgradeCheck, type UpgradeRules } from '../../stack/upgrade.js';
import { PORTS } from '../render/common.js';
import { lokiConfig } from '../render/loki-config.js';
import type { Connection } from './connection.js';
import { CLI_OPTION_NAMES, type OptionNames } from './option-names.js';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from './retry.js';
import { readyPodOf } from './forward.js';
import { sendToPod } from './smoke.js';
import { getStackStatus } from './status.js';

export interface PreflightOptions extends UpgradeRules {
  /** How refusals name the options that accept them. @default CLI_OPTION_NAMES */
  optionNames?: OptionNames;
  /** Told of a version change that passed its pre-flight, with the release notes that concern the stack. */
  onUpgrade?: (check: UpgradeCheck) => void;
}

/** The stack is not fit for a version change now (a failing pod, an ingester not ACTIVE): nothing was sent. */
export class UpgradeNotReadyError extends ClusterError {
  constructor(
    message: string,
    readonly status: StackStatus,
  ) {
    super(message, undefined, 'NotReady');
    this.name = 'UpgradeNotReadyError';
  }
}

/** One member of a ring, as dskit's ring page lists it (`ring/http.go`, `ingesterDesc`). */
export interface RingMember {
  id: string;
  state: string;
  address?: string;
  timestamp?: string;
  zone?: string;
}

const RING_COMPONENT = 'distributor';

/**
 * The checks of a version change, before anything is sent. Returns what changes, or undefined when the version
 * does not (or the stack does not exist yet); throws an UpgradeRefusedError or an UpgradeNotReadyError.
 */
export async function preflightUpgrade(
  connection: Connection,
  stack: LokiStack,
  options: PreflightOptions & { retry?: RetryPolicy } = {},
): Promise<UpgradeCheck | undefined> {
  const ref = { name: stack.metadata.name, namespace: stack.metadata.namespace };
  const retry = options.retry ?? DEFAULT_RETRY;
  const status = await getStackStatus(connection, ref, retry).catch((error: unknown) => {
    if (error instanceof StackNotFoundError) return undefined;
    throw error;
  });
  if (!status) return undefined;
  const names = options.optionNames ?? CLI_OPTION_NAMES;
  const check = checkUpgrade(
    status.version,
    stack,
    { config: lokiConfig(stack), runtime: runtimeConfig(stack) },
    options,
    { allowDowngrade: names.allowDowngrade, allowSkip: names.allowSkip },
  );
  if (!check) return undefined;
  const refuse = (why: string) => {
    throw new UpgradeNotReadyError(
      `not changing stack ${ref.namespace}/${ref.name} from Loki ${check.from} to ${check.to}: ${why}; nothing was sent`,
      status,
    );
  };
  const failing = Object.values(status.components).flatMap((component) =>
    component.notReady.filter((pod) => pod.failing),
  );
  if (failing.length > 0)
    refuse(
      `${failing.length === 1 ? 'a pod is' : `${failing.length} pods are`} failing (${failing
        .map((pod) => `${pod.name}: ${pod.reason}${pod.message ? ` (${pod.message})` : ''}`)
        .join(
          '; ',
        )}); a rolling restart would take down the healthy ones too. Fix them first (see "status" and "diagnose")`,
    );
  const desired = Object.entries(status.components)
    .filter(([name]) => name === 'ingester' || name.startsWith('ingester-'))
    .reduce((sum, [, component]) => sum + component.desired, 0);
  const members = await ingesterRing(connection, stack, retry).catch((error: unknown) =>
    refuse(`the distributor's ring page could not be read: ${(error as Error).message}`),
  );
  const notActive = members.filter((member) => member.state !== 'ACTIVE');
  if (notActive.length > 0)
    refuse(
      `${notActive.map((member) => `ingester ${member.id} is ${member.state}`).join(', ')} in the ring: every ingester must be ACTIVE, or the restart of another one loses writes`,
    );
  if (members.length < desired)
    refuse(
      `the ring has ${members.length} ingester${members.length === 1 ? '' : 's'} of ${desired}: every ingester must be ACTIVE in it`,
    );
  options.onUpgrade?.(check);
  return check;
}

/**
 * The ingester ring as the distributor sees it: its `/ring` page in JSON, from a ready distributor pod over a
 * port-forward (with network isolation or the gateway, the distributor takes no HTTP from the API server's proxy).
 */
export async function ingesterRing(
  connection: Connection,
  stack: LokiStack,
  retry: RetryPolicy = DEFAULT_RETRY,
): Promise<RingMember[]> {
  const { namespace } = stack.metadata;
  const what = `reading the ingester ring from the ${RING_COMPONENT}`;
  const answer = await withRetry(
    what,
    async () => {
      const pod = await readyPodOf(connection, stack.metadata, RING_COMPONENT, retry);
      return sendToPod(connection, { namespace, pod, port: PORTS.http.port }, 'GET', '/ring', {
        headers: { Accept: 'application/json' },
      });
    },
    retry,
  );
  if (answer.status !== 200)
    throw new ClusterError(`${what}: HTTP ${answer.status}: ${answer.body.trim().slice(0, 200)}`, answer.status);
  let page: { shards?: RingMember[] | null };
  try {
    page = JSON.parse(answer.body) as typeof page;
  } catch {
    throw new ClusterError(`${what}: the answer is not JSON: ${answer.body.trim().slice(0, 200)}`);
  }
  return page.shards ?? [];
}
