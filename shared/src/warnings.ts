/**
 * node-fetch 2, inside @kubernetes/client-node 1.x, calls url.parse() on every request, and Node 24 warns
 * about that once per process (DEP0169) on stderr. Nothing a user of the CLI or a workflow author can act on:
 * our own processes (the CLI, the Action's steps and its forwarder) keep it out of their output, and every
 * other warning in. A library must not do this to its host's process, so the core never calls it itself.
 */
export function quietKnownDeprecations(): void {
  const emitWarning = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const code = typeof rest[0] === 'object' ? (rest[0] as { code?: string } | null)?.code : rest[1];
    if (code === 'DEP0169') return;
    (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}
