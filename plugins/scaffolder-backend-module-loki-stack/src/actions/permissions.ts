// Who may deploy and destroy Loki stacks: permissions of Backstage's permission framework, checked with the
// credentials of the user who started the task, before any request reaches a cluster.
import type { PermissionsService } from '@backstage/backend-plugin-api';
import { NotAllowedError } from '@backstage/errors';
import { AuthorizeResult, createPermission, type BasicPermission } from '@backstage/plugin-permission-common';
import type { ActionContext } from '@backstage/plugin-scaffolder-node';

/** Deploy a Loki stack with loki:stack:deploy, or plan it (loki:stack:plan, or deploy's dry run). */
export const lokiStackDeployPermission = createPermission({
  name: 'loki.stack.deploy',
  attributes: { action: 'create' },
});

/** Delete a Loki stack with loki:stack:destroy. */
export const lokiStackDestroyPermission = createPermission({
  name: 'loki.stack.destroy',
  attributes: { action: 'delete' },
});

export const LOKI_STACK_SCAFFOLDER_PERMISSIONS = [lokiStackDeployPermission, lokiStackDestroyPermission];

/** Throws NotAllowedError unless the policy allows `permission` to the task's initiator. */
export async function authorizeInitiator(
  permissions: PermissionsService,
  ctx: Pick<ActionContext<never, never>, 'getInitiatorCredentials'>,
  permission: BasicPermission,
): Promise<void> {
  const credentials = await ctx.getInitiatorCredentials();
  const [decision] = await permissions.authorize([{ permission }], { credentials });
  if (decision?.result !== AuthorizeResult.ALLOW)
    throw new NotAllowedError(`the permission policy does not allow ${permission.name} to whoever started this task`);
}
