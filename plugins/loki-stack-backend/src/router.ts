// GET /stacks/:cluster/:namespace/:name → the stack's StackStatus (the versioned shape the CLI prints) and
// checkedAt. Backstage's default auth applies: a user or service token is required.
import type { HttpAuthService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import express from 'express';
import Router from 'express-promise-router';
import type { StackStatusService } from './StackStatusService.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

export async function createRouter(options: { statuses: StackStatusService; httpAuth: HttpAuthService }): Promise<express.Router> {
  const router = Router();
  router.get('/stacks/:cluster/:namespace/:name', async (request, response) => {
    await options.httpAuth.credentials(request, { allow: ['user', 'service'] });
    const { cluster, namespace, name } = request.params;
    const problems = [
      CLUSTER_NAME.test(cluster) ? '' : `cluster "${cluster}" is not a cluster name`,
      DNS_LABEL.test(namespace) ? '' : `namespace "${namespace}" is not a namespace name (DNS-1123 label)`,
      DNS_LABEL.test(name) ? '' : `name "${name}" is not a stack name (DNS-1123 label)`,
    ].filter(Boolean);
    if (problems.length > 0) throw new InputError(problems.join('; '));
    response.json(await options.statuses.get({ cluster, namespace, name }));
  });
  return router;
}
