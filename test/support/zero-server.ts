/**
 * Child process for bench/engine-rate.ts and test/loadgen-http.test.ts: a zero-latency server answering a small images
 * response, so the load generators never share its event loop.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const body = JSON.stringify({ created: 1, data: [{ b64_json: 'AA==' }], usage: { input_tokens: 8, output_tokens: 272 } });
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'x-ratelab-queue-ms': '0', 'x-ratelab-attempts': '1' }).end(body));
});
server.keepAliveTimeout = 30_000;
// A forked child tells its parent the URL; run by hand (PORT=…), it prints it.
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  if (process.send) process.send({ url });
  else console.log(url);
});
