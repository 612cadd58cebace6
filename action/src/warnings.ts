/**
 * node-fetch 2, inside @kubernetes/client-node 1.x, calls url.parse() on every request, and Node 24 warns
 * about that once per process (DEP0169) on stderr. Nothing a workflow author can act on: keep it out of
 * their logs, and every other warning in.
 */
export function quietKnownDeprecations(): void {
  const emitWarning = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const code = typeof rest[0] === 'object' ? (rest[0] as { code?: string } | null)?.code : rest[1];
    if (code === 'DEP0169') return;
    (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}
