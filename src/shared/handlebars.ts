// handlebars, loaded on the first template rather than at start: most policy sets have no
// template (the default mail text is plain code), and loading it costs about 9 MB of memory.
// It is loaded by a dynamic import, so in the bundled build it is a chunk of its own: the
// code that may meet a template (loading a policy set, the status page) awaits
// loadHandlebars() first, and the synchronous code that renders or checks a template then
// takes it with handlebars().

import type HandlebarsModule from 'handlebars';

let loaded: typeof HandlebarsModule | undefined;

/** Loads handlebars once; later calls return the module at once. */
export async function loadHandlebars(): Promise<typeof HandlebarsModule> {
  loaded ??= (await import('handlebars')).default;
  return loaded;
}

/** handlebars, once loadHandlebars() has run. */
export function handlebars(): typeof HandlebarsModule {
  if (!loaded) throw new Error('handlebars is used before loadHandlebars() loaded it');
  return loaded;
}
