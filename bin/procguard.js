#!/usr/bin/env node
// procguard's executable: runs the bundled build (npm run build writes bundle/).
import '../bundle/procguard.js';
