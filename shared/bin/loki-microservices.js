#!/usr/bin/env node
// Committed shim so that npm links the command on install, before `prepare` has built dist/.
import '../dist/cli/index.js';
