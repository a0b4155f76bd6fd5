import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens (port 0 = any free one; 127.0.0.1 unless told) and returns the server's URL. */
export async function listen(server: Server, port = 0, host = '127.0.0.1'): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { address, port: bound, family } = server.address() as AddressInfo;
  return `http://${family === 'IPv6' ? `[${address}]` : address}:${bound}`;
}
