// Where the Backstage test host lives: its declaration (test/backstage-host, committed) and its installed copy
// (.cache/backstage-host/<hash>), keyed by the declaration so that a change to the lockfile installs afresh.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is test/src/backstage-host/paths.ts or test/dist/backstage-host/paths.js). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const hostSourceDir = join(repoRoot, 'test/backstage-host');
export const hostCacheRoot = join(repoRoot, '.cache/backstage-host');

/** The workspaces an adopter installs from the registry, packed as npm publishes them. */
export const PACKED_WORKSPACES = [
  'shared',
  'plugins/scaffolder-backend-module-loki-stack',
  'plugins/loki-stack-backend',
] as const;

/** Written last by a complete `npm ci` of the host; its absence means the directory is incomplete. */
export const INSTALLED_MARKER = '.installed.json';
/** Written after the packed packages were installed: the hash of the tarballs it installed. */
export const PACKAGES_MARKER = '.packages.json';

export function hostHash(): string {
  const hash = createHash('sha256');
  for (const file of ['package.json', 'package-lock.json']) hash.update(readFileSync(join(hostSourceDir, file)));
  return hash.digest('hex').slice(0, 16);
}

export function hostDir(): string {
  return join(hostCacheRoot, hostHash());
}

/** The prepared host, or an error saying how to prepare it. */
export function preparedHostDir(): string {
  const dir = hostDir();
  const missing = [INSTALLED_MARKER, PACKAGES_MARKER].filter((marker) => !existsSync(join(dir, marker)));
  if (missing.length > 0) {
    throw new Error(
      `the Backstage test host is not prepared (${dir} lacks ${missing.join(', ')}): run "npx tsc -b && node test/dist/backstage-host/prepare.js" from the repository root (npm test does)`,
    );
  }
  return dir;
}
