// An upstream that says which protocol each request came in on, for the
// tests of `protocol: auto` and of HTTP/2 health checks. Prints
// "listening PORT" when ready (PORT 0 takes a free one).
//
//   node protocol_server.js MODE PORT [CERT KEY]
//     h2c   HTTP/2 with prior knowledge (http2.createServer)
//     h2    TLS, h2 or http/1.1 by ALPN (http2.createSecureServer, allowHTTP1)
//     h1    TLS, HTTP/1.1 only (https; ALPN answers http/1.1)
//
//   /health/set?N    later /healthz answers N (starts at 200)
//   /healthz         the status set, counted per protocol
//   /counts          JSON: {"healthz": {"2.0": n, "1.1": m}, "requests": {...}}
//   anything else    200 with x-protocol (the request's HTTP version) and
//                    x-connection (which connection, numbered from 1)
'use strict';
const fs = require('fs');
const http2 = require('http2');
const https = require('https');

const [mode, portArg, certFile, keyFile] = process.argv.slice(2);
let health = 200;
let connections = 0;
const counts = { healthz: {}, requests: {} };
const bump = (table, key) => { table[key] = (table[key] || 0) + 1; };

function onRequest(req, res) {
  const url = req.url;
  const proto = req.httpVersion;
  const socket = req.stream ? req.stream.session.socket : req.socket;
  if (socket.sluiceId === undefined) socket.sluiceId = ++connections;
  if (url.startsWith('/health/set?')) {
    health = Number(url.split('?')[1]);
    res.writeHead(200);
    res.end('ok\n');
    return;
  }
  if (url === '/healthz') {
    bump(counts.healthz, proto);
    res.writeHead(health);
    res.end();
    return;
  }
  if (url === '/counts') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(counts));
    return;
  }
  bump(counts.requests, proto);
  res.writeHead(200, { 'x-protocol': proto, 'x-connection': String(socket.sluiceId) });
  res.end('ok ' + url + '\n');
}

let srv;
if (mode === 'h2c') {
  srv = http2.createServer(onRequest);
} else {
  const tls = { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) };
  srv = mode === 'h2' ? http2.createSecureServer({ ...tls, allowHTTP1: true }, onRequest)
                      : https.createServer({ ...tls, ALPNProtocols: ['http/1.1'] }, onRequest);
}
srv.on('sessionError', () => {});
srv.on('clientError', () => {});
srv.listen(Number(portArg || 0), '127.0.0.1', () => {
  process.stdout.write('listening ' + srv.address().port + '\n');
});
