// GET /stacks/:cluster/:namespace/:name → the stack's StackStatus (the versioned shape the CLI prints) and
// checkedAt. Backstage's default auth applies: a user or service token is required.
import type { HttpAuthService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import express from 'express';
import { isClusterName, isNamespaceName, isStackName } from 'loki-microservices';
import Router from 'express-promise-router';
import type { StackStatusService } from './StackStatusService.js';


export async function createRouter(options: { statuses: StackStatusService; httpAuth: HttpAuthService }): Promise<express.Router> {
  const router = Router();
  router.get('/stacks/:cluster/:namespace/:name', async (request, response) => {
    await options.httpAuth.credentials(request, { allow: ['user', 'service'] });
    const { cluster, namespace, name } = request.params;
    const problems = [
      isClusterName(cluster) ? '' : `cluster "${cluster.slice(0, 80)}" is not a cluster name`,
      isNamespaceName(namespace) ? '' : `namespace "${namespace.slice(0, 80)}" is not a namespace name (DNS-1123 label)`,
      isStackName(name) ? '' : `name "${name.slice(0, 80)}" is not a stack name (a DNS-1123 label the spec allows)`,
    ].filter(Boolean);
    if (problems.length > 0) throw new InputError(problems.join('; '));
    response.json(await options.statuses.get({ cluster, namespace, name }));
  });
  return router;
}
