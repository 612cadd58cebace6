// Prepares the Backstage test host as an adopter's backend gets our packages: `npm ci` of
// test/backstage-host into .cache/backstage-host/<hash> (once per lockfile; better-sqlite3 builds from source,
// minutes), then `npm pack` of our three packages and `npm install --no-save` of the tarballs there (again only
// when the tarballs changed). Run by `npm test` after the build and before jest. Exits non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  hostCacheRoot,
  hostDir,
  hostHash,
  hostSourceDir,
  INSTALLED_MARKER,
  PACKAGES_MARKER,
  PACKED_WORKSPACES,
  repoRoot,
} from './paths.js';

const say = (message: string) => console.log(`[backstage-host] ${message}`);
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

function run(command: string, args: string[], cwd: string, capture = false): string {
  say(`$ ${command} ${args.join(' ')}   (in ${cwd})`);
  const result = spawnSync(command, args, {
    cwd,
    stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw new Error(`${command} could not be started: ${result.error.message}`);
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal}) in ${cwd}`);
  return capture ? result.stdout : '';
}

/** One prepare at a time per host directory: two `npm test` runs of one checkout may overlap. */
function withLock<T>(name: string, fn: () => T): T {
  const lock = join(hostCacheRoot, `${name}.lock`);
  mkdirSync(hostCacheRoot, { recursive: true });
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(join(lock, 'pid'), { encoding: 'utf8', flag: 'a+' }) || 0);
      if (holder && !alive(holder)) {
        say(`removing the stale lock of process ${holder}`);
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${lock} is held by process ${holder} for 30 minutes`);
      say(`waiting for process ${holder}, which prepares the host too`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function installHost(dir: string): void {
  if (existsSync(join(dir, INSTALLED_MARKER))) {
    say(`host installed already: ${dir}`);
    return;
  }
  const started = Date.now();
  // Installed beside its final place and renamed when complete, so that an interrupted install is never taken
  // for a complete one.
  const staging = `${dir}.staging`;
  rmSync(staging, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  for (const file of ['package.json', 'package-lock.json']) cpSync(join(hostSourceDir, file), join(staging, file));
  say(
    `installing the host (npm ci) into ${staging}: better-sqlite3 builds from source when no prebuilt binary can be had (minutes, once per lockfile)`,
  );
  run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=warn'], staging);
  // npm 12 skips the install scripts allowScripts does not allow; without its build better-sqlite3 cannot load.
  run(
    process.execPath,
    [
      '-e',
      "const D = require('better-sqlite3'); new D(':memory:').prepare('select 1').get(); require.resolve('@backstage/backend-defaults'); console.log('better-sqlite3 and @backstage/backend-defaults load')",
    ],
    staging,
  );
  writeFileSync(
    join(staging, INSTALLED_MARKER),
    JSON.stringify(
      { hash: hostHash(), installedAt: new Date().toISOString(), seconds: (Date.now() - started) / 1000 },
      null,
      2,
    ),
  );
  renameSync(staging, dir);
  say(`host installed in ${seconds(started)}`);
  // Older installs (another lockfile) are dead weight.
  for (const entry of readdirSync(hostCacheRoot)) {
    const path = join(hostCacheRoot, entry);
    if (path !== dir && /^[0-9a-f]{16}(\.staging)?$/.test(entry)) {
      say(`removing the install of an older lockfile: ${path}`);
      rmSync(path, { recursive: true, force: true });
    }
  }
}

function installPackages(dir: string): void {
  const started = Date.now();
  const packDir = join(dir, '.packs', `incoming-${process.pid}`);
  rmSync(packDir, { recursive: true, force: true });
  mkdirSync(packDir, { recursive: true });
  const workspaceArgs = PACKED_WORKSPACES.flatMap((workspace) => ['-w', workspace]);
  const packed = JSON.parse(
    run('npm', ['pack', '--json', '--pack-destination', packDir, ...workspaceArgs], repoRoot, true),
  ) as { name: string; filename: string }[];
  if (packed.length !== PACKED_WORKSPACES.length)
    throw new Error(`npm pack made ${packed.length} tarballs, expected ${PACKED_WORKSPACES.length}`);
  const hash = createHash('sha256');
  for (const { filename } of [...packed].sort((a, b) => a.filename.localeCompare(b.filename)))
    hash.update(filename).update(readFileSync(join(packDir, filename)));
  const tarballsHash = hash.digest('hex').slice(0, 16);
  const marker = join(dir, PACKAGES_MARKER);
  const installed = existsSync(marker)
    ? (JSON.parse(readFileSync(marker, 'utf8')) as { tarballsHash?: string }).tarballsHash
    : undefined;
  if (installed === tarballsHash) {
    say(`packages unchanged (tarballs ${tarballsHash}): nothing to install (${seconds(started)})`);
    rmSync(packDir, { recursive: true, force: true });
    return;
  }
  // A path of their own per content: npm takes a tarball at a known path for the one it installed before.
  const finalDir = join(dir, '.packs', tarballsHash);
  rmSync(finalDir, { recursive: true, force: true });
  renameSync(packDir, finalDir);
  rmSync(marker, { force: true });
  const tarballs = packed.map(({ filename }) => join(finalDir, filename));
  say(`installing ${packed.map((p) => p.name).join(', ')} from their tarballs`);
  run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=warn', ...tarballs], dir);
  for (const entry of readdirSync(join(dir, '.packs')))
    if (entry !== tarballsHash) rmSync(join(dir, '.packs', entry), { recursive: true, force: true });
  writeFileSync(
    marker,
    JSON.stringify(
      { tarballsHash, packages: packed.map((p) => p.name), installedAt: new Date().toISOString() },
      null,
      2,
    ),
  );
  say(`packages installed in ${seconds(started)}`);
}

/** Run directories (test/src/backstage-host/host.ts) that a killed test run left behind, a day old or more. */
function removeOldRuns(dir: string): void {
  const runs = join(dir, 'runs');
  if (!existsSync(runs)) return;
  for (const entry of readdirSync(runs)) {
    const path = join(runs, entry);
    if (Date.now() - statSync(path).mtimeMs > 24 * 3600_000) {
      say(`removing an old run directory: ${path}`);
      rmSync(path, { recursive: true, force: true });
    }
  }
}

const started = Date.now();
try {
  const dir = hostDir();
  withLock(hostHash(), () => {
    installHost(dir);
    installPackages(dir);
    removeOldRuns(dir);
  });
  say(`ready: ${dir} (${seconds(started)})`);
} catch (error) {
  console.error(`[backstage-host] FAILED: ${(error as Error).message}`);
  process.exit(1);
}
