/**
 * A TCP proxy on 127.0.0.1 between node-postgres and a PostgreSQL server that can cut a connection
 * around one COMMIT, to put an append's outcome in doubt. It reads the client's side of the wire
 * protocol (startup message, then typed messages) only to find a simple-protocol `COMMIT`; all bytes
 * are forwarded unchanged otherwise. A fault fires once, then the proxy is a plain pipe again.
 *
 * - 'commit-then-cut': forwards the COMMIT to the server, half-closes the server side (the server
 *   reads the COMMIT and commits) and destroys the client side: the client never hears the answer.
 * - 'cut-before-commit': drops the COMMIT and closes both sides: the server rolls back.
 */
import { createServer, type Server, Socket } from 'node:net';

export type Fault = 'commit-then-cut' | 'cut-before-commit';

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

export class FaultProxy {
  private armed: { fault: Fault; fired: () => void } | null = null;
  private readonly sockets = new Set<Socket>();
  /** Faults that fired. */
  fired = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<FaultProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    const proxy = new FaultProxy(server, address.port);
    server.on('connection', (client: Socket) => proxy.pipe(client, target));
    return proxy;
  }

  /** Arms a fault for the next COMMIT sent through the proxy; resolves when it has fired. */
  arm(fault: Fault): Promise<void> {
    return new Promise((resolve) => {
      this.armed = { fault, fired: resolve };
    });
  }

  private pipe(client: Socket, target: { host: string; port: number }): void {
    const upstream = new Socket();
    // As node-postgres does on its own socket: no Nagle delay on small protocol messages.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const forget = () => {
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', forget);
    upstream.on('close', forget);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.end());
    upstream.on('close', () => client.destroy());
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    upstream.connect(target.port, target.host);

    let pending = Buffer.alloc(0);
    let startup = true;
    let cut = false;
    client.on('data', (chunk: Buffer) => {
      if (cut) return;
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const headerLength = startup ? 0 : 1;
        if (pending.length < headerLength + 4) return;
        const length = pending.readUInt32BE(headerLength);
        const total = headerLength + length;
        if (pending.length < total) return;
        const message = pending.subarray(0, total);
        pending = pending.subarray(total);
        if (startup) {
          const code = message.readUInt32BE(4);
          if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) startup = false;
          upstream.write(message);
          continue;
        }
        const fault = this.armed && isCommit(message) ? this.armed : null;
        if (!fault) {
          upstream.write(message);
          continue;
        }
        this.armed = null;
        this.fired += 1;
        cut = true;
        if (fault.fault === 'commit-then-cut') {
          // Keep the server side open for reading until the server closes it, so nothing resets the
          // connection before the server has read (and run) the COMMIT; discard its answer.
          for (const event of ['data', 'close', 'error'] as const) {
            upstream.removeAllListeners(event);
            client.removeAllListeners(event);
          }
          upstream.on('data', () => undefined);
          upstream.on('error', () => undefined);
          upstream.on('close', forget);
          client.on('error', () => undefined);
          client.on('close', forget);
          upstream.end(message); // the COMMIT, then end-of-file
          client.destroy();
        } else {
          upstream.destroy();
          client.destroy();
        }
        fault.fired();
        return;
      }
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A simple-protocol Query message whose text is, or ends with, COMMIT (the store sends `SELECT pg_notify(...); COMMIT`). */
function isCommit(message: Buffer): boolean {
  if (message[0] !== 0x51 /* 'Q' */) return false;
  const text = message.subarray(5).toString('utf8').replace(/\0$/, '').trim().replace(/;$/, '').trim();
  return /(^|;\s*)(COMMIT|END)( (WORK|TRANSACTION))?$/i.test(text);
}
