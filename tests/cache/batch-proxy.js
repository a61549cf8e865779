#!/usr/bin/env node
// batch-proxy.js --upstream URL --port-file FILE --log FILE
// A loopback proxy in front of the real turborepo-remote-cache (whose
// 2.12 line has no batch query) that adds Vercel's POST /v8/artifacts:
// it answers {hash: {size, taskDurationMs} | null} by asking the real
// server HEAD for each hash. Everything else is passed through as it
// is. Each request it receives is one line of the log: "METHOD PATH".
// Listens on 127.0.0.1 only.
'use strict';
const http = require('http');
const fs = require('fs');

const opts = {};
for (let i = 2; i < process.argv.length; i += 2)
  opts[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
if (!opts.upstream || !opts['port-file'] || !opts.log) {
  process.stderr.write('usage: batch-proxy.js --upstream URL --port-file FILE --log FILE\n');
  process.exit(2);
}
const up = new URL(opts.upstream);
const agent = new http.Agent({ keepAlive: true });

function forward(req, res, body) {
  const p = http.request({ host: up.hostname, port: up.port, method: req.method, path: req.url,
                           headers: req.headers, agent }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  p.on('error', () => { res.writeHead(502); res.end(); });
  p.end(body);
}

function head(req, hash) {
  const q = new URL(req.url, 'http://x').search;
  return new Promise((resolve) => {
    const p = http.request({ host: up.hostname, port: up.port, method: 'HEAD',
                             path: `/v8/artifacts/${hash}${q}`, agent,
                             headers: { authorization: req.headers.authorization || '' } }, (r) => {
      r.resume();
      resolve(r.statusCode === 200
        ? { size: Number(r.headers['content-length'] || 0), taskDurationMs: 0 } : null);
    });
    p.on('error', () => resolve(undefined));
    p.end();
  });
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const body = Buffer.concat(chunks);
    fs.appendFileSync(opts.log, `${req.method} ${req.url.split('?')[0]}\n`);
    if (req.method === 'POST' && new URL(req.url, 'http://x').pathname === '/v8/artifacts') {
      let hashes;
      try { hashes = JSON.parse(body.toString()).hashes; } catch (e) { hashes = null; }
      if (!Array.isArray(hashes)) { res.writeHead(400); res.end('{}'); return; }
      const out = {};
      for (const h of hashes) {
        const got = await head(req, h);
        if (got === undefined) { res.writeHead(502); res.end(); return; }
        out[h] = got;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(out));
      return;
    }
    forward(req, res, body);
  });
});
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(opts['port-file'] + '.tmp', String(server.address().port));
  fs.renameSync(opts['port-file'] + '.tmp', opts['port-file']);
});
