// What a started container writes to its log: for Loki images the logfmt lines Loki prints while it
// starts (version from the image tag, target from `-target=`, ports from the container), for other images
// a few generic lines; and the error a crash-looping container dies with. An OOM-killed process is killed
// by the kernel and writes nothing about it, so its log just stops.
import type { Container } from './objects.js';

/** RFC 3339 with nanoseconds, as Go's logfmt writes `ts`. */
const nanoTime = (at: Date) => at.toISOString().replace(/Z$/, '000000Z');

const isLoki = (container: Container) => container.image.includes('loki');

function argument(container: Container, name: string): string | undefined {
  const prefix = new RegExp(`^--?${name}=`);
  return container.args?.find((arg) => prefix.test(arg))?.replace(prefix, '');
}

function tagOf(image: string): string {
  const lastPart = image.slice(image.lastIndexOf('/') + 1).split('@')[0]!;
  return lastPart.includes(':') ? lastPart.slice(lastPart.indexOf(':') + 1) : 'latest';
}

const portNamed = (container: Container, name: string, fallback: number) =>
  container.ports?.find((port) => port.name === name)?.containerPort ?? fallback;

export function startupLines(container: Container, at: Date): string[] {
  if (!isLoki(container)) {
    const time = at.toISOString();
    const ports = (container.ports ?? []).map((port) => `${time} INFO listening on :${port.containerPort}`);
    return [`${time} INFO starting ${container.name} (image ${container.image})`, ...ports, `${time} INFO ready`];
  }
  const ts = nanoTime(at);
  const target = argument(container, 'target') ?? 'all';
  return [
    `level=info ts=${ts} caller=main.go:126 msg="Starting Loki" version="(version=${tagOf(container.image)}, branch=HEAD, revision=3b6bd7b)"`,
    `level=info ts=${ts} caller=server.go:352 msg="server listening on addresses" http=[::]:${portNamed(container, 'http', 3100)} grpc=[::]:${portNamed(container, 'grpc', 9095)}`,
    `level=info ts=${ts} caller=module_service.go:82 msg=starting module=server`,
    `level=info ts=${ts} caller=module_service.go:82 msg=starting module=${target}`,
    `level=info ts=${ts} caller=loki.go:542 msg="Loki started" startup_time=52.4ms`,
  ];
}

/** The last words of a container that exits with status 1 (none for an OOM kill). */
export function crashLines(container: Container, mode: 'crashLoop' | 'oomKilled', at: Date): string[] {
  if (mode === 'oomKilled') return [];
  if (!isLoki(container)) return [`${at.toISOString()} ERROR ${container.name}: fatal error, exiting with status 1`];
  const target = argument(container, 'target') ?? 'all';
  return [
    `level=error ts=${nanoTime(at)} caller=log.go:216 msg="error running loki" err="error initialising module: ${target}: failed to start ring lifecycler: dial tcp: lookup loki-memberlist on 10.96.0.10:53: no such host"`,
  ];
}
