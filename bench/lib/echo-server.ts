import { createServer } from 'node:http';

/** Baseline: the most trivial Node HTTP server — answers every POST with its own body. */
const server = createServer((req, res) => {
  if (req.method === 'GET') {
    const body = JSON.stringify({ cpu: process.cpuUsage() });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    return res.end(body);
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.0', 'Content-Length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const a = server.address() as { port: number };
  process.stdout.write(`echo listening on http://127.0.0.1:${a.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
