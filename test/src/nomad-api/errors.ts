// Nomad answers errors with a status code and a plain-text body: the error's message, nothing else.

export class NomadError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export const PERMISSION_DENIED = 'Permission denied';
export const TOKEN_NOT_FOUND = 'ACL token not found';
export const INVALID_METHOD = 'Invalid method';
export const JOB_NOT_FOUND = 'job not found';

/** go-multierror's text, which Nomad's validation errors reach clients in. */
export function multiError(errors: string[]): string {
  if (errors.length === 1) return `1 error occurred:\n\t* ${errors[0]}\n\n`;
  return `${errors.length} errors occurred:\n\t${errors.map((error) => `* ${error}`).join('\n\t')}\n\n`;
}
