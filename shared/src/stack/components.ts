import { COMPONENT_NAMES, type ComponentName } from '../spec/components.js';
import type { LokiStack } from '../spec/schema.js';

/** Whether a stack runs the component: always, unless it is an optional one (with `enabled`) switched off. */
export function isDeployed(stack: LokiStack, name: ComponentName): boolean {
  const component = stack.spec.components[name];
  return !('enabled' in component) || component.enabled;
}

/** The components a stack runs, in the table's order: every one but the optional ones switched off. */
export function deployedComponents(stack: LokiStack): ComponentName[] {
  return COMPONENT_NAMES.filter((name) => isDeployed(stack, name));
}
