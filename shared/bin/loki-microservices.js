#!/usr/bin/env node
// Committed shim so that npm links the command on install, before `prepare` has built dist/. It runs the CLI's
// bundle (npm run build: one file, and a chunk per command loaded when that command runs), which starts in a
// fraction of the time Node takes to load dist/'s hundreds of modules and their dependencies'.
import '../dist/bundle/cli.js';
