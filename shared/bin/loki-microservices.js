#!/usr/bin/env node
// Committed shim so that npm links the command on install, before `prepare` has built dist/. It runs the CLI's
// bundle (npm run build: one file, and a chunk per command loaded when that command runs), which starts in a
// fraction of the time Node takes to load dist/'s hundreds of modules and their dependencies'.
import module from 'node:module';

// Node 22.1+ keeps the bundle's compiled code on disk between runs (os.tmpdir()), as Node suggests for CLI tools.
module.enableCompileCache?.();
await import('../dist/bundle/cli.js');
