import { createRequire } from 'node:module';

/** This package's version, as published. */
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
