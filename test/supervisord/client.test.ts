// The XML-RPC client against misbehaving servers: silence, 401, an HTML page, a fault, a huge reply.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import serializer from 'xmlrpc/lib/serializer.js';
import { SupervisorClient } from '../../src/supervisord/client.js';

type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

async function withServer(handler: Handler, run: (client: SupervisorClient) => Promise<void>): Promise<void> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  try {
    await run(new SupervisorClient({ name: 'main', url, endpoint: { transport: 'http', url: `${url}/RPC2` }, username: 'u', password: 'p', timeout: 0.5 }));
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('supervisord XML-RPC client', () => {
  it('posts to /RPC2 with basic auth and returns the decoded reply', () =>
    withServer(
      (request, response) => {
        assert.equal(request.url, '/RPC2');
        assert.equal(request.headers.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
        response.end(serializer.serializeMethodResponse([{ name: 'w1', pid: 7 }]));
      },
      async (client) => assert.deepEqual(await client.call('supervisor.getAllProcessInfo'), [{ name: 'w1', pid: 7 }]),
    ));

  it('a server that never answers: a timeout naming the method', () =>
    withServer(
      () => {},
      async (client) => {
        await assert.rejects(client.call('supervisor.getState'), { kind: 'timeout', message: /supervisor "main" at http:\/\/127\.0\.0\.1:\d+ did not answer supervisor\.getState within 0\.5s/ });
      },
    ));

  it('401: authentication failed, whatever the body', () =>
    withServer(
      (_request, response) => {
        response.writeHead(401, { 'Content-Type': 'text/html' });
        response.end('<html><title>Unauthorized</title></html>');
      },
      async (client) => await assert.rejects(client.call('supervisor.getState'), { kind: 'auth', message: 'authentication failed for supervisor "main" (user "u")' }),
    ));

  it('an HTML page with 200: not XML-RPC, is the URL right?', () =>
    withServer(
      (_request, response) => response.end('<html><TITLE>Supervisor Status</TITLE></html>'),
      async (client) => await assert.rejects(client.call('supervisor.getState'), { kind: 'protocol', message: /sent a reply that is not XML-RPC \(.+\); is the URL right\?$/ }),
    ));

  it('a fault is reported by name', () =>
    withServer(
      (_request, response) => response.end(serializer.serializeFault({ faultCode: 50, faultString: 'SPAWN_ERROR: web:w1' })),
      async (client) =>
        await assert.rejects(client.call('supervisor.startProcess', ['web:w1']), {
          kind: 'fault',
          faultName: 'SPAWN_ERROR',
          message: 'supervisor "main": supervisor.startProcess failed: SPAWN_ERROR: web:w1',
        }),
    ));

  it('a reply over 32 MiB is refused', () =>
    withServer(
      (_request, response) => {
        const chunk = Buffer.alloc(1024 * 1024, 0x20);
        let sent = 0;
        const write = (): void => {
          while (sent < 40 && response.write(chunk)) sent += 1;
          if (sent < 40) response.once('drain', write);
          else response.end();
        };
        write();
      },
      async (client) => await assert.rejects(client.call('supervisor.getAllProcessInfo'), { kind: 'protocol', message: /sent a reply larger than 32 MiB/ }),
    ));
});
