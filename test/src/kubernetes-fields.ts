// Unknown-field check for rendered objects. kubernetes-models validates types and enums but lets any
// unknown key through, while the API server refuses unknown fields in a server-side apply (transcript 29).
import { schemaProblems } from './apiserver/schema.js';

/** Paths of fields the Kubernetes API does not know, e.g. `spec.template.spec.containers[0].imagee`. */
export function unknownFields(object: { kind?: string }): string[] {
  return schemaProblems(object.kind ?? '', object)
    .filter((problem) => problem.problem === 'unknown field')
    .map((problem) => problem.path.slice(1));
}
