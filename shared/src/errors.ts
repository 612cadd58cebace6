import { redact } from './redact.js';

/** One problem with a stack spec: where it is and what would be valid. */
export interface SpecIssue {
  /** Dotted path of the field, e.g. `spec.components.ingester.replicas`. */
  path: string;
  message: string;
}

/** The spec is invalid. Carries every problem found, not just the first. */
export class SpecError extends Error {
  readonly issues: SpecIssue[];

  constructor(issues: SpecIssue[]) {
    const redacted = issues.map((issue) => ({ path: issue.path, message: redact(issue.message) }));
    super(`invalid stack spec:\n${redacted.map((issue) => `  - ${issue.path}: ${issue.message}`).join('\n')}`);
    this.name = 'SpecError';
    this.issues = redacted;
  }
}

/**
 * A request to the Kubernetes API failed. `code` is the HTTP status (undefined when none came back). The
 * message is redacted: it may quote what an API server or a webhook answered.
 */
export class ClusterError extends Error {
  constructor(
    message: string,
    readonly code?: number,
    /** The API's `reason` (NotFound, Conflict, Forbidden, Invalid…), when it gave one. */
    readonly reason?: string,
  ) {
    super(redact(message));
    this.name = 'ClusterError';
  }
}

/** Fields owned by another field manager with a different value: nothing was changed. */
export class ConflictError extends ClusterError {
  constructor(
    readonly object: string,
    readonly conflicts: { manager: string; field: string }[],
    forceConflicts: string | undefined,
  ) {
    super(
      `${object}: ${conflicts.map((c) => `${c.field} is owned by "${c.manager}"`).join(', ')}. ` +
        `Another tool manages these fields${forceConflicts ? `; re-run with ${forceConflicts} to take them over` : ''}.`,
      409,
      'Conflict',
    );
    this.name = 'ConflictError';
  }
}

/** No stack of that name in that namespace (no object of ours carries its labels). */
export class StackNotFoundError extends ClusterError {
  constructor(name: string, namespace: string) {
    super(`no Loki stack "${name}" in namespace "${namespace}"`, 404, 'NotFound');
    this.name = 'StackNotFoundError';
  }
}
