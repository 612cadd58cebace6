// Nomad Variables (`/v1/var/:path`, `/v1/vars`), as the Variables HTTP API documents them
// (website/content/api-docs/variables/variables.mdx): per namespace and path, items of strings, ModifyIndex
// from the state store's index, check-and-set with `cas` (0: create only) answering 409 with the current
// variable. No encryption, locks or ACL policies; templates are not rendered, so nothing reads them here.
import { NomadError } from './errors.js';
import { isObject, type Json } from './json.js';
import type { Store } from './store.js';
import { nowNs } from './time.js';

export interface Variable {
  Namespace: string;
  Path: string;
  CreateIndex: number;
  ModifyIndex: number;
  CreateTime: number;
  ModifyTime: number;
  Items: Record<string, string>;
}

/** Variable paths Nomad accepts (RFC 3986 unreserved characters but `.`, at most 128 bytes). */
const PATH = /^[a-zA-Z0-9-_~/]{1,128}$/;
/** The sum of the items' keys and values, in bytes. */
const MAX_ITEMS_BYTES = 64 * 1024;

export type VariableWrite = { conflict: Json } | { variable: Variable };

export class Variables {
  private readonly byKey = new Map<string, Variable>();

  constructor(private readonly store: Store) {}

  get(namespace: string, path: string): Variable | undefined {
    return this.byKey.get(key(namespace, path));
  }

  list(namespace: string, prefix: string): Variable[] {
    return [...this.byKey.values()]
      .filter((v) => (namespace === '*' || v.Namespace === namespace) && v.Path.startsWith(prefix))
      .sort((a, b) => (key(a.Namespace, a.Path) < key(b.Namespace, b.Path) ? -1 : 1));
  }

  /** Create or replace the items; with `cas`, only over that ModifyIndex (0: only if absent). */
  put(namespace: string, path: string, items: unknown, cas: number | undefined): VariableWrite {
    if (!PATH.test(path)) throw new NomadError(400, `invalid path ${JSON.stringify(path)}`);
    if (!isObject(items) || Object.keys(items).length === 0)
      throw new NomadError(400, 'variable missing required Items object');
    let size = 0;
    for (const [name, value] of Object.entries(items)) {
      if (typeof value !== 'string')
        throw new NomadError(400, 'json: cannot unmarshal into Go struct field VariableDecrypted.Items of type string');
      size += Buffer.byteLength(name) + Buffer.byteLength(value);
    }
    if (size > MAX_ITEMS_BYTES) throw new NomadError(400, 'variables are limited to 64KiB in total size');
    const existing = this.get(namespace, path);
    if (cas !== undefined && (existing?.ModifyIndex ?? 0) !== cas)
      return { conflict: conflictOf(namespace, path, existing) };
    return this.store.write((index) => {
      const now = nowNs();
      const variable: Variable = {
        Namespace: namespace,
        Path: path,
        CreateIndex: existing?.CreateIndex ?? index,
        ModifyIndex: index,
        CreateTime: existing?.CreateTime ?? now,
        ModifyTime: now,
        Items: { ...(items as Record<string, string>) },
      };
      this.byKey.set(key(namespace, path), variable);
      this.store.touch('variables');
      return { variable };
    });
  }

  /** Delete; with `cas`, only that ModifyIndex. Deleting a missing variable without `cas` succeeds. */
  delete(namespace: string, path: string, cas: number | undefined): { conflict: Json } | { index: number } {
    const existing = this.get(namespace, path);
    if (cas !== undefined && (existing?.ModifyIndex ?? 0) !== cas)
      return { conflict: conflictOf(namespace, path, existing) };
    return this.store.write((index) => {
      this.byKey.delete(key(namespace, path));
      this.store.touch('variables');
      return { index };
    });
  }
}

const key = (namespace: string, path: string) => `${namespace}\u0000${path}`;

/** The current variable (the management token may read it), or an empty one where there is none. */
function conflictOf(namespace: string, path: string, existing: Variable | undefined): Json {
  return existing
    ? { ...existing, Items: { ...existing.Items } }
    : { Namespace: namespace, Path: path, CreateIndex: 0, ModifyIndex: 0, CreateTime: 0, ModifyTime: 0 };
}

/** What GET /v1/vars lists: metadata only, never the items. */
export const variableMetadata = ({ Items: _items, ...metadata }: Variable): Json => metadata;
