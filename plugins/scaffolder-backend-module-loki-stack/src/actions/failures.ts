// What an action's failure says, wherever the scaffolder shows it (the task log, the UI, the backend's log):
// a spec problem is an InputError naming the field, and every message passes the core's redaction layer.
import { InputError } from '@backstage/errors';
import { ClusterError, describeError, SpecError } from 'loki-microservices';

export async function reportingFailures<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof SpecError || error instanceof InputError) throw new InputError(describeError(error));
    // ClusterErrors are redacted when made, and keep their code for whoever reads it.
    if (error instanceof ClusterError) throw error;
    throw new Error(describeError(error));
  }
}
