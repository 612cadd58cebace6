import { COMPONENT_NAMES, type ComponentName } from '../spec/components.js';
import type { LokiStack } from '../spec/schema.js';

/** The components a stack runs, in the table's order: every one but a switched-off ruler. */
export function deployedComponents(stack: LokiStack): ComponentName[] {
  return COMPONENT_NAMES.filter((name) => name !== 'ruler' || stack.spec.components.ruler.enabled);
}
