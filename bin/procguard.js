#!/usr/bin/env node
// procguard's executable: runs the compiled CLI (npm run build writes dist/).
import '../dist/cli/main.js';
