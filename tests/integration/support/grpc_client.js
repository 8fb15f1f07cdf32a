// The gRPC client of the integration tests: calls sluice.test.Echo
// (echo.proto) with @grpc/grpc-js over plaintext HTTP/2 (h2c prior
// knowledge) and prints one JSON line:
//   {code, code_name, details, messages, bytes, elapsed_ms, ...}
// `code` is the call's grpc-status (for `concurrent`, that of the first
// failure, 0 when none); `messages` and `bytes` count what was received.
//
//   NODE_PATH=.npm-deps/node_modules node grpc_client.js MODE TARGET ARGS...
//
//   unary TARGET                       one echo
//   unary-status TARGET CODE MSG [after-headers]
//                                      the server answers CODE and MSG,
//                                      trailers-only or after response headers
//   deadline TARGET DELAY_MS DEADLINE_MS
//                                      the server waits DELAY_MS; the call's
//                                      deadline is DEADLINE_MS
//   server-stream TARGET N [CODE MSG]  N replies (then CODE and MSG)
//   client-stream TARGET N SIZE        N requests of SIZE bytes; adds
//                                      {server_count, server_bytes}
//   bidi TARGET ROUNDS                 ROUNDS round trips on one stream, each
//                                      sent after the previous echo; adds
//                                      {mismatches}
//   big TARGET SIZE                    one unary call with SIZE bytes each
//                                      way; adds {echo_matches}
//   concurrent TARGET TOTAL CONCURRENCY
//                                      TOTAL unary calls on one channel, at
//                                      most CONCURRENCY at once; adds {ok,
//                                      failed, codes: {code: count}}
//   raw TARGET CODE MSG [after-headers]
//                                      the unary-status call by hand on Node's
//                                      http2, to show the response's shape:
//                                      {status, headers, trailers, messages,
//                                      trailers_only}
//
// Every call has a deadline (10 s unless the mode sets one); the process
// exits by itself.
'use strict';
const http2 = require('http2');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');  // @grpc/proto-loader's own dependency

const kMaxMessage = 16 * 1024 * 1024;
const kProto = path.join(__dirname, 'echo.proto');
const [mode, target, ...args] = process.argv.slice(2);

const def = protoLoader.loadSync(kProto, { keepCase: true, longs: Number, defaults: true });
const Echo = grpc.loadPackageDefinition(def).sluice.test.Echo;
const codeName = (code) => Object.keys(grpc.status).find((k) => grpc.status[k] === code) || String(code);
const started = Date.now();

function finish(result) {
  const out = { code: 0, details: '', messages: 0, bytes: 0, ...result, elapsed_ms: Date.now() - started };
  out.code_name = codeName(out.code);
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
}

function client() {
  return new Echo(target, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': kMaxMessage,
    'grpc.max_send_message_length': kMaxMessage,
  });
}
const deadline = (ms = 10000) => ({ deadline: new Date(Date.now() + ms) });
const failed = (err, extra = {}) => ({ code: err.code, details: err.details, ...extra });

function pattern(n, seed = 0) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

// One unary call; resolves {err, reply}.
function unaryCall(c, req, opts = deadline()) {
  return new Promise((resolve) => c.Unary(req, opts, (err, reply) => resolve({ err, reply })));
}

async function unary(req, opts) {
  const { err, reply } = await unaryCall(client(), req, opts);
  if (err) return finish(failed(err));
  finish({ messages: 1, bytes: reply.payload.length, text: reply.text, count: reply.count });
}

function serverStream(n, status) {
  const call = client().ServerStream({ payload: pattern(64), count: n, reply_status: status }, deadline());
  let messages = 0, bytes = 0, inOrder = true;
  call.on('data', (r) => {
    if (r.count !== messages) inOrder = false;
    messages++;
    bytes += r.payload.length;
  });
  call.on('error', (err) => finish(failed(err, { messages, bytes, in_order: inOrder })));
  call.on('end', () => finish({ messages, bytes, in_order: inOrder }));
}

function clientStream(n, size) {
  const call = client().ClientStream(deadline(), (err, reply) => {
    if (err) return finish(failed(err));
    finish({ messages: 1, server_count: reply.count, server_bytes: reply.total_bytes });
  });
  let i = 0;
  const pump = () => {
    while (i < n) {
      if (!call.write({ payload: pattern(size, i), count: i++ })) return call.once('drain', pump);
    }
    call.end();
  };
  pump();
}

function bidi(rounds) {
  const call = client().Bidi(deadline(20000));
  let messages = 0, bytes = 0, mismatches = 0;
  const send = () => call.write({ payload: pattern(100, messages), count: messages, text: `round ${messages}` });
  call.on('data', (r) => {
    if (r.count !== messages || r.text !== `round ${messages}` || !r.payload.equals(pattern(100, messages))) mismatches++;
    messages++;
    bytes += r.payload.length;
    if (messages < rounds) send();
    else call.end();
  });
  call.on('error', (err) => finish(failed(err, { messages, bytes, mismatches })));
  call.on('end', () => finish({ messages, bytes, mismatches }));
  send();
}

async function big(size) {
  const payload = pattern(size, 7);
  const { err, reply } = await unaryCall(client(), { payload }, deadline(20000));
  if (err) return finish(failed(err));
  finish({ messages: 1, bytes: reply.payload.length, echo_matches: reply.payload.equals(payload) });
}

async function concurrent(total, concurrency) {
  const c = client();
  const codes = {};
  let next = 0, ok = 0, first = null;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const { err, reply } = await unaryCall(c, { payload: pattern(32, i), count: i });
      const code = err ? err.code : reply.count === i ? 0 : -1;
      codes[code] = (codes[code] || 0) + 1;
      if (code === 0) ok++;
      else if (!first) first = err || { code: -1, details: `reply ${reply.count} to request ${i}` };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  finish({ code: first ? first.code : 0, details: first ? first.details : '', messages: ok, ok,
           failed: total - ok, codes });
}

// The unary-status call framed by hand (5-byte gRPC prefix + protobuf), so
// the JSON shows whether grpc-status came in the response headers
// (trailers-only) or in trailers.
function raw(code, message, afterHeaders) {
  const EchoRequest = protobuf.loadSync(kProto).lookupType('sluice.test.EchoRequest');
  const body = Buffer.from(EchoRequest.encode({ replyStatus: { code, message, afterHeaders } }).finish());
  const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), body]);
  frame.writeUInt32BE(body.length, 1);
  const session = http2.connect(`http://${target}`);
  session.on('error', (e) => finish({ code: -1, details: `session: ${e.message}` }));
  const req = session.request({ ':method': 'POST', ':path': '/sluice.test.Echo/Unary',
                                'content-type': 'application/grpc', te: 'trailers' });
  req.setTimeout(10000, () => finish({ code: -1, details: 'timed out' }));
  let headers = {}, trailers = null, bytes = 0;
  req.on('response', (h) => { headers = h; });
  req.on('trailers', (t) => { trailers = t; });
  req.on('data', (d) => { bytes += d.length; });
  req.on('end', () => {
    const from = trailers || headers;
    finish({ code: Number(from['grpc-status']), details: decodeURIComponent(from['grpc-message'] || ''),
             status: headers[':status'], headers, trailers, bytes, trailers_only: trailers === null });
  });
  req.on('error', (e) => finish({ code: -1, details: `stream: ${e.message}`, rst: req.rstCode }));
  req.end(frame);
}

const n = (i) => Number(args[i]);
const replyStatus = () => ({ code: n(0), message: args[1], after_headers: args[2] === 'after-headers' });
switch (mode) {
  case 'unary': unary({ payload: pattern(16), count: 1, text: 'hello' }); break;
  case 'unary-status': unary({ reply_status: replyStatus() }); break;
  case 'deadline': unary({ delay_ms: n(0) }, deadline(n(1))); break;
  case 'server-stream': serverStream(n(0), args.length > 1 ? { code: n(1), message: args[2] } : null); break;
  case 'client-stream': clientStream(n(0), n(1)); break;
  case 'bidi': bidi(n(0)); break;
  case 'big': big(n(0)); break;
  case 'concurrent': concurrent(n(0), n(1)); break;
  case 'raw': raw(n(0), args[1], args[2] === 'after-headers'); break;
  default:
    process.stderr.write('usage: node grpc_client.js unary|unary-status|deadline|server-stream|client-stream|' +
                         'bidi|big|concurrent|raw TARGET ARGS...\n');
    process.exit(2);
}
// Nothing here may outlive the slowest mode.
setTimeout(() => finish({ code: -1, details: 'client gave up after 30 s' }), 30000).unref();
