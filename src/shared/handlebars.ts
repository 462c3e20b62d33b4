// handlebars, loaded on the first template rather than at start: most policy sets have no
// template (the default mail text is plain code), and loading it costs about 9 MB of memory.

import { createRequire } from 'node:module';
import type HandlebarsModule from 'handlebars';

const require = createRequire(import.meta.url);
let loaded: typeof HandlebarsModule | undefined;

export function handlebars(): typeof HandlebarsModule {
  loaded ??= require('handlebars') as typeof HandlebarsModule;
  return loaded;
}
