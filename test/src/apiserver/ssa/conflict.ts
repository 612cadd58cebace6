// The 409 an apply answers when it would change fields other managers own, worded as the API server
// words it (k8s.io/apimachinery managedfields/internal/conflict.go).
import { managerIdentifier } from './managers.js';
import { compareStrings } from './path.js';
import type { ApplyConflict } from './apply.js';

export interface StatusCause {
  reason: 'FieldManagerConflict';
  message: string;
  field: string;
}

export interface ConflictStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: 'Conflict';
  details: { causes: StatusCause[] };
  code: 409;
}

/**
 * One conflict: `Apply failed with 1 conflict: conflict with "loki": .data.x`. Several: one
 * `conflicts with "<manager>":` line per manager (sorted), each followed by its `- <field>` lines.
 */
export function conflictStatus(conflicts: readonly ApplyConflict[]): ConflictStatus {
  const causes = conflicts.map((conflict): StatusCause => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${describe(conflict)}`,
    field: conflict.field,
  }));
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: message(conflicts),
    reason: 'Conflict',
    details: { causes },
    code: 409,
  };
}

function message(conflicts: readonly ApplyConflict[]): string {
  const [only] = conflicts;
  if (conflicts.length === 1 && only)
    return `Apply failed with 1 conflict: conflict with ${describe(only)}: ${only.field}`;
  const byManager = new Map<string, ApplyConflict[]>();
  for (const conflict of conflicts) {
    const identifier = identifierOf(conflict);
    byManager.set(identifier, [...(byManager.get(identifier) ?? []), conflict]);
  }
  const lines = [...byManager.keys()].sort(compareStrings).flatMap((identifier) => {
    const group = byManager.get(identifier)!;
    return [`conflicts with ${describe(group[0]!)}:`, ...group.map((conflict) => `- ${conflict.field}`)];
  });
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

/** `"kube-controller-manager" with subresource "status" using apps/v1`; appliers by name alone. */
function describe({ manager, operation, apiVersion, subresource }: ApplyConflict): string {
  const named = subresource
    ? `${JSON.stringify(manager)} with subresource ${JSON.stringify(subresource)}`
    : JSON.stringify(manager);
  return operation === 'Update' ? `${named} using ${apiVersion}` : named;
}

const identifierOf = ({ manager, operation = 'Apply', apiVersion = '', subresource }: ApplyConflict): string =>
  managerIdentifier({ manager, operation, apiVersion, ...(subresource && { subresource }) });
