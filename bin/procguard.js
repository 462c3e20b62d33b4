#!/usr/bin/env node
// procguard's executable: runs the bundled build (npm run build writes bundle/). A CommonJS
// script (bin/package.json says so), as the bundle's entry is: node starts it without setting
// up its ES module loader.
require('../bundle/procguard.js');
