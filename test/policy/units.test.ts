import assert from 'node:assert/strict';
import { formatBytes, formatDuration, parseDuration, parseMemmonSize, parseMemmonUptime, parseSize } from '../../src/shared/units.js';

const MiB = 1024 * 1024;

describe('units', () => {
  describe('parseSize (policy files)', () => {
    const cases: Array<[unknown, number | undefined]> = [
      [0, 0],
      [1048576, 1048576],
      ['1048576', 1048576],
      ['200MB', 200 * MiB],
      ['200mb', 200 * MiB],
      ['200Mb', 200 * MiB],
      ['10kB', 10240],
      ['1GB', 1073741824],
      ['1gb', 1073741824],
      ['512KiB', 512 * 1024],
      ['2MiB', 2 * MiB],
      ['1GiB', 1073741824],
      ['1gib', 1073741824],
      ['1.5GB', 1610612736],
      ['0.5MiB', 524288],
      ['200 MB', 200 * MiB],
      [' 200MB ', 200 * MiB],
      ['1.5', undefined],
      [1.5, undefined],
      [-1, undefined],
      ['-1MB', undefined],
      ['1K', undefined],
      ['1TB', undefined],
      ['100B', undefined],
      ['MB', undefined],
      ['', undefined],
      ['1e3', undefined],
      ['0x10', undefined],
      [true, undefined],
      [null, undefined],
      ['99999999999999999999GB', undefined],
    ];
    for (const [input, expected] of cases) {
      it(`${JSON.stringify(input)} → ${String(expected)}`, () => assert.equal(parseSize(input), expected));
    }
  });

  describe('parseDuration (policy files)', () => {
    const cases: Array<[unknown, number | undefined]> = [
      [0, 0],
      [90, 90],
      ['90', 90],
      ['90s', 90],
      ['30m', 1800],
      ['6h', 21600],
      ['2d', 172800],
      ['2D', 172800],
      ['1H', 3600],
      ['10 m', 600],
      ['1.5h', undefined],
      [1.5, undefined],
      ['1w', undefined],
      ['1ms', undefined],
      ['1h30m', undefined],
      ['-5s', undefined],
      ['s', undefined],
      ['', undefined],
      [[], undefined],
    ];
    for (const [input, expected] of cases) {
      it(`${JSON.stringify(input)} → ${String(expected)}`, () => assert.equal(parseDuration(input), expected));
    }
  });

  describe("parseMemmonSize (memmon's -p/-g/-a)", () => {
    const cases: Array<[string, number | undefined]> = [
      ['10kB', 10240],
      ['1GB', 1073741824],
      ['200MB', 200 * MiB],
      ['200mb', 200 * MiB],
      ['1000', 1000],
      ['1.5GB', undefined],
      ['1K', undefined],
      ['1TB', undefined],
      ['100B', undefined],
      ['1MiB', undefined],
      ['', undefined],
      ['mb', undefined],
    ];
    for (const [input, expected] of cases) {
      it(`${JSON.stringify(input)} → ${String(expected)}`, () => assert.equal(parseMemmonSize(input), expected));
    }
  });

  describe("parseMemmonUptime (memmon's -u)", () => {
    const cases: Array<[string, number | undefined]> = [
      ['2m', 120],
      ['2M', 120],
      ['3600', 3600],
      ['1d', 86400],
      ['2H', 7200],
      ['1w', undefined],
      ['1.5h', undefined],
      ['', undefined],
    ];
    for (const [input, expected] of cases) {
      it(`${JSON.stringify(input)} → ${String(expected)}`, () => assert.equal(parseMemmonUptime(input), expected));
    }
  });

  describe('formatBytes and formatDuration', () => {
    const bytes: Array<[number, string]> = [
      [0, '0 B'],
      [1023, '1023 B'],
      [1024, '1.0 KiB'],
      [2264064, '2.2 MiB'],
      [200 * MiB, '200.0 MiB'],
      [1073741824, '1.0 GiB'],
    ];
    for (const [input, expected] of bytes) {
      it(`${input} bytes → ${expected}`, () => assert.equal(formatBytes(input), expected));
    }
    const durations: Array<[number, string]> = [
      [0, '0s'],
      [45, '45s'],
      [90, '1m30s'],
      [5400, '1h30m'],
      [172800, '2d'],
    ];
    for (const [input, expected] of durations) {
      it(`${input}s → ${expected}`, () => assert.equal(formatDuration(input), expected));
    }
  });
});
