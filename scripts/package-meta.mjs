#!/usr/bin/env node
// The generated parts of the packages, written from package.json and package-lock.json so that
// they cannot disagree with what is built:
//   node scripts/package-meta.mjs bundle LIST         npm run bundle, and the npm packages esbuild put
//                                                     into it (one name a line) written to LIST
//   node scripts/package-meta.mjs copyright MAINTAINER LIST   the Debian copyright file (DEP-5):
//                                                     procguard, then each package named in LIST
//   node scripts/package-meta.mjs npm-manifest        the package.json of the npm tarball: the
//                                                     bundle, no dependencies left to fetch
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const LICENSES = {
  MIT: `Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:
.
The above copyright notice and this permission notice shall be included in
all copies or substantial portions of the Software.
.
THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
THE SOFTWARE.`,
  'MIT-0': `Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so.
.
THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
THE SOFTWARE.`,
  ISC: `Permission to use, copy, modify, and/or distribute this software for any
purpose with or without fee is hereby granted, provided that the above
copyright notice and this permission notice appear in all copies.
.
THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.`,
  'BSD-2-Clause': `Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:
.
1. Redistributions of source code must retain the above copyright notice,
   this list of conditions and the following disclaimer.
2. Redistributions in binary form must reproduce the above copyright notice,
   this list of conditions and the following disclaimer in the documentation
   and/or other materials provided with the distribution.
.
THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"
AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE
ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE
LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR
CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF
SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS
INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN
CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE)
ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE
POSSIBILITY OF SUCH DAMAGE.`,
  'BSD-3-Clause': `Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:
.
1. Redistributions of source code must retain the above copyright notice,
   this list of conditions and the following disclaimer.
2. Redistributions in binary form must reproduce the above copyright notice,
   this list of conditions and the following disclaimer in the documentation
   and/or other materials provided with the distribution.
3. Neither the name of the copyright holder nor the names of its
   contributors may be used to endorse or promote products derived from
   this software without specific prior written permission.
.
THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"
AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE
ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE
LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR
CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF
SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS
INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN
CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE)
ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE
POSSIBILITY OF SUCH DAMAGE.`,
  'Apache-2.0': `On Debian systems, the complete text of the Apache License, Version 2.0,
can be found in /usr/share/common-licenses/Apache-2.0.`,
};

function fail(message) {
  process.stderr.write(`package-meta: ${message}\n`);
  process.exit(1);
}

/** The packages named in LIST (written by `bundle`), with their path, licence and version from the lock file. */
function bundledPackages(list) {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  return readFileSync(list, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((name) => {
      const path = `node_modules/${name}`;
      const entry = lock.packages[path] ?? fail(`${name} is in the bundle but not at ${path} in package-lock.json`);
      return { name, path, license: entry.license, version: entry.version };
    });
}

/** Builds the bundle and lists the npm packages whose files esbuild put into it, sorted. */
async function bundleAndList(list) {
  const { bundle } = await import('./bundle.mjs');
  const result = await bundle();
  const names = new Set();
  for (const input of Object.keys(result.metafile.inputs)) {
    const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) names.add(match[1]);
  }
  writeFileSync(
    list,
    [...names]
      .sort()
      .map((name) => `${name}\n`)
      .join(''),
  );
}

/** The copyright lines of a package's licence file, or its author when the file names none. */
function holders(pkg) {
  const dir = join(root, pkg.path);
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => /^(licen[sc]e|copying)/i.test(name))
        .sort()
    : [];
  const lines = new Set();
  for (const file of files) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      const match = /^\s*(?:Copyright\s*)?(?:\(c\)|©|Copyright)\s*(.+?)\s*$/i.exec(line);
      if (match && /\d{4}|[A-Za-z]{3}/.test(match[1]) && !/notice|holder|\[yyyy\]|derivative|license to|you must/i.test(line)) lines.add(match[1].replace(/^(?:\(c\)|©)\s*/i, ''));
    }
  }
  if (lines.size === 0) {
    const own = existsSync(join(dir, 'package.json')) ? JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) : {};
    const author = typeof own.author === 'string' ? own.author : own.author?.name;
    lines.add(author ?? `the ${pkg.name} authors`);
  }
  return [...lines];
}

function copyright(maintainer, list) {
  const packages = bundledPackages(list);
  const used = new Set([manifest.license]);
  const out = [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    'Upstream-Name: procguard',
    `Upstream-Contact: ${maintainer}`,
    'Source: https://github.com/procguard/procguard',
    'Comment: /usr/lib/procguard/ holds procguard bundled with the npm packages below',
    ' (their versions as locked in package-lock.json); their notices are kept in the bundle.',
    '',
    'Files: *',
    'Copyright: procguard contributors',
    `License: ${manifest.license}`,
  ];
  for (const pkg of packages) {
    if (!LICENSES[pkg.license]) fail(`no licence text for ${pkg.name}'s licence "${pkg.license}": add it to LICENSES in scripts/package-meta.mjs`);
    used.add(pkg.license);
    out.push('', `Files: node_modules/${pkg.name}/*`, `Copyright: ${holders(pkg).join('\n ')}`, `License: ${pkg.license}`, `Comment: ${pkg.name} ${pkg.version}, bundled into /usr/lib/procguard`);
  }
  for (const license of [...used].sort()) {
    out.push('', `License: ${license}`, ...LICENSES[license].split('\n').map((line) => ` ${line}`));
  }
  return `${out.join('\n')}\n`;
}

/** package.json of the npm tarball: what npm needs to install and link it, nothing to fetch. */
function npmManifest() {
  const keep = ['name', 'version', 'description', 'license', 'type', 'engines', 'homepage', 'repository', 'author', 'keywords'];
  const out = {};
  for (const key of keep) if (manifest[key] !== undefined) out[key] = manifest[key];
  out.bin = { procguard: 'bin/procguard.js' };
  out.man = ['./man/procguard.1', './man/procguard.yaml.5'];
  out.files = ['bin', 'bundle', 'man', 'policies'];
  return `${JSON.stringify(out, null, 2)}\n`;
}

const [what, ...rest] = process.argv.slice(2);
if (what === 'bundle') await bundleAndList(rest[0] ?? fail('bundle needs the file to list the packages in'));
else if (what === 'copyright') process.stdout.write(copyright(rest[0] ?? fail('copyright needs the maintainer'), rest[1] ?? fail('copyright needs the list of bundled packages')));
else if (what === 'npm-manifest') process.stdout.write(npmManifest());
else fail('usage: package-meta.mjs bundle LIST | copyright MAINTAINER LIST | npm-manifest');
