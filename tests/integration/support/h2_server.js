// An HTTP/2 (h2c) upstream for the integration tests, on Node's http2
// module. Prints "listening PORT" when ready (PORT 0 takes a free one).
//
//   node h2_server.js PORT
//   /refuse-once...  the first request on each path is reset with REFUSED_STREAM, later ones get 200
//   /goaway...       answers 200, then sends GOAWAY on that connection
//   /slow...         answers after 300 ms
//   /big?N           streams N zero bytes (in 1 MiB writes that wait for the window)
//   /sink            reads the whole request body, answers x-received: its length
//   anything else    200 with x-session (which connection) and x-path
// Every answered request logs "served PATH session=N" on stdout.
'use strict';
const http2 = require('http2');
const refused = new Set();
let sessions = 0;
const srv = http2.createServer({ settings: { maxConcurrentStreams: 100 } });
srv.on('session', (s) => { s.sluiceId = ++sessions; });
srv.on('stream', (stream, headers) => {
  const path = headers[':path'];
  const session = stream.session;  // gone from the stream once it ends
  const id = session.sluiceId;
  stream.on('error', () => {});
  const answer = () => {
    if (stream.destroyed) return;
    stream.respond({ ':status': 200, 'x-session': String(id), 'x-path': path });
    stream.end('ok ' + path + '\n');
    process.stdout.write('served ' + path + ' session=' + id + '\n');
  };
  if (path.startsWith('/sink')) {
    let n = 0;
    stream.on('data', (d) => { n += d.length; });
    stream.on('end', () => {
      if (stream.destroyed) return;
      stream.respond({ ':status': 200, 'x-received': String(n) });
      stream.end();
    });
    return;
  }
  stream.resume();
  if (path.startsWith('/big')) {
    let left = Number(path.split('?')[1] || 0);
    const chunk = Buffer.alloc(1 << 20);
    stream.respond({ ':status': 200, 'content-length': String(left) });
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!stream.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return stream.once('drain', pump);
      }
      stream.end();
    };
    pump();
    return;
  }
  if (path.startsWith('/refuse-once') && !refused.has(path)) {
    refused.add(path);
    stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    return;
  }
  if (path.startsWith('/goaway')) {
    answer();
    setTimeout(() => { if (!session.destroyed) session.goaway(http2.constants.NGHTTP2_NO_ERROR); }, 10);
    return;
  }
  if (path.startsWith('/slow')) {
    setTimeout(answer, 300);
    return;
  }
  answer();
});
srv.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  process.stdout.write('listening ' + srv.address().port + '\n');
});
