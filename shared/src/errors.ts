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
    super(`invalid stack spec:\n${issues.map((issue) => `  - ${issue.path}: ${issue.message}`).join('\n')}`);
    this.name = 'SpecError';
    this.issues = issues;
  }
}
