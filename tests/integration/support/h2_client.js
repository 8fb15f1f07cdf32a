// An HTTP/2 client for the integration tests, on Node's built-in http2
// module (a client stack other than curl's). Prints one JSON object.
//
//   node h2_client.js load URL CONCURRENCY SECONDS
//     CONCURRENCY loops of GET on one session at a time; a GOAWAY makes the
//     next requests go to a new session, as real clients do. A stream the
//     server refused (REFUSED_STREAM, or beyond a GOAWAY's last stream id)
//     was never processed and is retried, as is one whose session never
//     connected (the proxy is gone: connect_failed); any other failure of a
//     request already sent is "cut".
//     {ok, cut, retried, connect_failed, sessions, goaways, first_cut}
//   node h2_client.js upload URL BYTES
//     POST BYTES of a pattern, with request trailers; prints {status,
//     headers, body_bytes, body_sha256, sent_sha256}.
//   node h2_client.js trailers URL
//     GET; prints {status, headers, trailers, body}.
'use strict';
const http2 = require('http2');
const crypto = require('crypto');

const [mode, url, a1, a2] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

function pattern(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

if (mode === 'load') {
  const concurrency = Number(a1);
  const until = Date.now() + Number(a2) * 1000;
  const r = { ok: 0, cut: 0, retried: 0, connect_failed: 0, sessions: 0, goaways: 0, first_cut: '' };
  let session = null;
  const current = () => {
    if (session && !session.closed && !session.destroyed && !session.goingAway) return session;
    const s = http2.connect(url);
    s.goingAway = false;
    s.up = false;
    s.on('connect', () => { s.up = true; });
    s.on('goaway', () => { s.goingAway = true; r.goaways++; });
    s.on('error', () => {});
    r.sessions++;
    session = s;
    return s;
  };
  const one = () => new Promise((resolve) => {
    const s = current();
    const lost = (fn) => {
      if (!s.up) { r.connect_failed++; setTimeout(resolve, 10); return true; }
      return false;
    };
    let req;
    try {
      req = s.request({ ':path': new URL(url).pathname });
    } catch (e) {
      r.retried++;  // the session went away before the request was sent
      return resolve();
    }
    let done = false;
    const finish = (fn) => {
      if (done) return;
      done = true;
      if (!lost()) { fn(); resolve(); }
    };
    req.on('response', () => {});
    req.on('data', () => {});
    req.on('end', () => finish(() => {
      if (req.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM) r.retried++; else r.ok++;
    }));
    req.on('error', (e) => finish(() => {
      if (req.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM || e.code === 'ERR_HTTP2_GOAWAY_SESSION' ||
          !req.sentHeaders) {
        r.retried++;
      } else {
        r.cut++;
        if (!r.first_cut) r.first_cut = String(e.code || e.message) + ' rst=' + req.rstCode;
      }
    }));
    req.on('close', () => finish(() => {
      if (req.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM) { r.retried++; return; }
      r.cut++;
      if (!r.first_cut) r.first_cut = 'closed without end rst=' + req.rstCode;
    }));
    req.end();
  });
  const loop = async () => { while (Date.now() < until) await one(); };
  Promise.all(Array.from({ length: concurrency }, loop)).then(() => {
    out(r);
    if (session) session.close();
    setTimeout(() => process.exit(0), 100);
  });
} else if (mode === 'upload') {
  const body = pattern(Number(a1));
  const s = http2.connect(url);
  s.on('error', (e) => { out({ error: String(e) }); process.exit(1); });
  const req = s.request({ ':method': 'POST', ':path': new URL(url).pathname, 'content-type': 'application/octet-stream' },
                        { waitForTrailers: true });
  req.on('wantTrailers', () => req.sendTrailers({ 'x-upload-trailer': 'done' }));
  const hash = crypto.createHash('sha256');
  let bytes = 0, status = 0, headers = {};
  req.on('response', (h) => { status = h[':status']; headers = h; });
  req.on('data', (d) => { bytes += d.length; hash.update(d); });
  req.on('end', () => {
    out({ status, headers, body_bytes: bytes, body_sha256: hash.digest('hex'),
          sent_sha256: crypto.createHash('sha256').update(body).digest('hex') });
    s.close();
  });
  req.on('error', (e) => { out({ error: String(e), rst: req.rstCode }); process.exit(1); });
  req.end(body);
} else if (mode === 'trailers') {
  const s = http2.connect(url);
  s.on('error', (e) => { out({ error: String(e) }); process.exit(1); });
  const req = s.request({ ':path': new URL(url).pathname });
  let status = 0, headers = {}, trailers = {}, body = '';
  req.on('response', (h) => { status = h[':status']; headers = h; });
  req.on('trailers', (t) => { trailers = t; });
  req.setEncoding('utf8');
  req.on('data', (d) => { body += d; });
  req.on('end', () => { out({ status, headers, trailers, body }); s.close(); });
  req.on('error', (e) => { out({ error: String(e), rst: req.rstCode }); process.exit(1); });
  req.end();
} else {
  process.stderr.write('usage: node h2_client.js load|upload|trailers URL ...\n');
  process.exit(2);
}
