// The hub benchmark's simulated agents, in a process of their own so the hub's figures are the
// hub's: COUNT stand-in agents on 127.0.0.1 (test/helpers/hub-agents.ts) with PROGRAMS programs
// each; every SLOW_EVERY-th answers after SLOW_MS, every DOWN_EVERY-th is a port nothing listens
// on. Prints one JSON line: [{ url, kind }]; runs until killed.
import { createServer } from 'node:net';
import { startStandInAgent } from '../test/helpers/hub-agents.js';

const [count = 500, programs = 100, slowEvery = 20, downEvery = 50, slowMs = 1000] = process.argv.slice(2).map(Number);

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const agents: { url: string; kind: 'ok' | 'slow' | 'down' }[] = [];
const down: number[] = [];
for (let i = 0; i < count; i += 1) {
  if (i % downEvery === downEvery - 1) {
    // Its port is found once every server listens, so no server can take it after.
    agents.push({ url: '', kind: 'down' });
    down.push(i);
    continue;
  }
  const slow = i % slowEvery === slowEvery - 1;
  const agent = await startStandInAgent({ host: `sim-${i}`, programs, delayMs: slow ? slowMs : 0 });
  agents.push({ url: agent.url, kind: slow ? 'slow' : 'ok' });
}
for (const i of down) agents[i]!.url = `http://127.0.0.1:${await closedPort()}`;
process.stdout.write(`${JSON.stringify(agents)}\n`);
