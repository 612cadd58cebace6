// Server-side apply for the Kubernetes API test double: field ownership (metadata.managedFields), merge
// by the API types' list and map semantics, conflicts, and ownership after ordinary writes.
export { applyObject, appliedFields, type ApplyConflict, type ApplyInput, type ApplyResult } from './apply.js';
export { conflictStatus, type ConflictStatus, type StatusCause } from './conflict.js';
export { fieldPaths, fromFieldsV1, toFieldsV1, type FieldSet } from './fieldset.js';
export type { ManagedFieldsEntry } from './managers.js';
export { formatPath, type FieldPath, type PathElement } from './path.js';
export { relationshipAt, type Relationship } from './schema.js';
export { sameJson, SchemaError } from './typed.js';
export { recordUpdate } from './update.js';
