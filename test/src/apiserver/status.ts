// Errors as the Kubernetes API returns them: `Status` objects with a code, a reason and, where
// Kubernetes gives them, details and causes (shapes from fixtures/k8s-api-transcripts).
import { qualifiedName, type ResourceType } from './resources.js';

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    uid?: string;
    causes?: StatusCause[];
    retryAfterSeconds?: number;
  };
  /** Absent on the Success Status of a delete, as Kubernetes sends it. */
  code?: number;
}

/** A request failed; `status` is the body to send. */
export class ApiError extends Error {
  constructor(readonly status: StatusBody) {
    super(status.message);
  }
}

export function failure(
  code: number,
  reason: string | undefined,
  message: string,
  details?: StatusBody['details'],
): ApiError {
  return new ApiError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    ...(reason ? { reason } : {}),
    ...(details ? { details } : {}),
    code,
  });
}

const describe = (type: ResourceType, name: string) => ({
  name,
  ...(type.group ? { group: type.group } : {}),
  kind: type.plural,
});

export const notFound = (type: ResourceType, name: string) =>
  failure(404, 'NotFound', `${qualifiedName(type)} "${name}" not found`, describe(type, name));

export const namespaceNotFound = (namespace: string) =>
  failure(404, 'NotFound', `namespaces "${namespace}" not found`, { name: namespace, kind: 'namespaces' });

export const alreadyExists = (type: ResourceType, name: string) =>
  failure(409, 'AlreadyExists', `${qualifiedName(type)} "${name}" already exists`, describe(type, name));

export const conflict = (type: ResourceType, name: string, why: string) =>
  failure(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedName(type)} "${name}": ${why}`,
    describe(type, name),
  );

/** 422 Invalid, with one cause per field: `<Kind>.<group> "<name>" is invalid: [...]` as Kubernetes words it. */
export function invalid(type: ResourceType, name: string, causes: StatusCause[]): ApiError {
  const kind = type.group ? `${type.kind}.${type.group}` : type.kind;
  const messages = causes.map((cause) => `${cause.field}: ${cause.message}`);
  const joined = messages.length === 1 ? messages[0] : `[${messages.join(', ')}]`;
  return failure(422, 'Invalid', `${kind} "${name}" is invalid: ${joined}`, {
    name,
    ...(type.group ? { group: type.group } : {}),
    kind: type.kind,
    causes,
  });
}

export const badRequest = (message: string) => failure(400, 'BadRequest', message);

export const unauthorized = () => failure(401, 'Unauthorized', 'Unauthorized');

export const namespaceTerminating = (type: ResourceType, name: string, namespace: string) =>
  failure(
    403,
    'Forbidden',
    `${qualifiedName(type)} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
    {
      name,
      kind: type.plural,
      causes: [
        {
          reason: 'NamespaceTerminating',
          message: `namespace ${namespace} is being terminated`,
          field: 'metadata.namespace',
        },
      ],
    },
  );

/**
 * A validating admission webhook's refusal, as the webhook plugin's ToStatusErr
 * (k8s.io/apiserver/pkg/admission/plugin/webhook/errors/statuserror.go) turns the webhook's Status into the
 * answer: the webhook's code (below 400, or none: 400), status Failure, its reason if it gave one, and the
 * message `admission webhook "<name>" denied the request: <message>` ("… denied the request without
 * explanation" when there is none); no details.
 */
export function webhookDenied(webhook: string, message: string, code = 400, reason?: string): ApiError {
  const deniedBy = `admission webhook ${JSON.stringify(webhook)} denied the request`;
  const text = message
    ? `${deniedBy}: ${message}`
    : reason
      ? `${deniedBy}: ${reason}`
      : `${deniedBy} without explanation`;
  return failure(code < 400 ? 400 : code, reason, text);
}

export const methodNotAllowed = () =>
  failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');

export const unsupportedMediaType = (contentType: string) =>
  failure(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got ${contentType})`,
  );

export const notAcceptable = () =>
  failure(
    406,
    'NotAcceptable',
    'only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf',
  );

export const serviceUnavailable = (message: string) => failure(503, 'ServiceUnavailable', message);

export const tooManyRequests = () =>
  failure(429, 'TooManyRequests', 'the server has received too many requests and has asked us to try again later', {
    retryAfterSeconds: 1,
  });

export const internalError = (message: string) => failure(500, 'InternalError', message);

/** The Status a successful background delete answers (transcript 56). */
export function deleted(type: ResourceType, name: string, uid: string): StatusBody {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { ...describe(type, name), uid },
  };
}
