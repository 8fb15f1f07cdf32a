// The gRPC server of the integration tests: sluice.test.Echo (echo.proto)
// on @grpc/grpc-js, plaintext HTTP/2 on 127.0.0.1.
//
//   NODE_PATH=.npm-deps/node_modules node grpc_server.js PORT
//
// PORT 0 takes a free port. Prints "listening PORT" once it accepts calls,
// then one line per call that ended without the server answering it:
// "cancelled METHOD after MS deadline set|none" (the client side reset the
// stream, or the call's grpc-timeout ran out: "set" when it had one).
//
//   Unary         echoes payload/count/text; with reply_status.code set,
//                 answers that status and message instead (trailers-only,
//                 or after response headers with reply_status.after_headers);
//                 with delay_ms, waits that long first.
//   ServerStream  `count` replies carrying the payload (index in `count`),
//                 then reply_status if one was asked for.
//   ClientStream  one reply: requests seen (`count`) and their payload
//                 bytes (`total_bytes`).
//   Bidi          one reply per request, echoing it; ends when the client does.
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const kMaxMessage = 16 * 1024 * 1024;
const port = Number(process.argv[2] || 0);

const def = protoLoader.loadSync(path.join(__dirname, 'echo.proto'), { keepCase: true, longs: Number, defaults: true });
const echo = grpc.loadPackageDefinition(def).sluice.test.Echo;
const log = (line) => process.stdout.write(line + '\n');

// Logs the call's cancellation (the client went away, or the proxy reset
// the upstream stream) unless the server already answered it.
function watch(call, method) {
  const started = Date.now();
  const state = { answered: false, cancelled: false };
  call.on('cancelled', () => {
    if (state.answered) return;
    state.cancelled = true;
    const deadline = call.getDeadline();
    const has = deadline instanceof Date || Number.isFinite(deadline);
    log(`cancelled ${method} after ${Date.now() - started} deadline ${has ? 'set' : 'none'}`);
  });
  return state;
}

function statusOf(req) {
  const s = req.reply_status;
  return s && s.code ? { code: s.code, details: s.message } : null;
}

function unary(call, callback) {
  const state = watch(call, 'Unary');
  const req = call.request;
  const answer = () => {
    if (state.cancelled) return;
    state.answered = true;
    const status = statusOf(req);
    if (!status) return callback(null, { payload: req.payload, count: req.count, text: req.text });
    if (req.reply_status.after_headers) call.sendMetadata(new grpc.Metadata());
    callback(status);
  };
  if (req.delay_ms > 0) {
    const timer = setTimeout(answer, req.delay_ms);
    call.on('cancelled', () => clearTimeout(timer));
  } else {
    answer();
  }
}

function serverStream(call) {
  const state = watch(call, 'ServerStream');
  const req = call.request;
  let i = 0;
  // Writes until the stream's buffer is full, then waits for 'drain'.
  const pump = () => {
    while (i < req.count && !state.cancelled) {
      if (!call.write({ payload: req.payload, count: i++ })) return call.once('drain', pump);
    }
    if (state.cancelled) return;
    state.answered = true;
    const status = statusOf(req);
    if (status) call.emit('error', status);
    else call.end();
  };
  pump();
}

function clientStream(call, callback) {
  const state = watch(call, 'ClientStream');
  let count = 0, total = 0;
  call.on('data', (req) => { count++; total += req.payload.length; });
  call.on('end', () => {
    state.answered = true;
    callback(null, { count, total_bytes: total });
  });
  call.on('error', () => {});
}

function bidi(call) {
  const state = watch(call, 'Bidi');
  call.on('data', (req) => call.write({ payload: req.payload, count: req.count, text: req.text }));
  call.on('end', () => {
    state.answered = true;
    call.end();
  });
  call.on('error', () => {});
}

const server = new grpc.Server({ 'grpc.max_receive_message_length': kMaxMessage,
                                 'grpc.max_send_message_length': kMaxMessage });
server.addService(echo.service, { Unary: unary, ServerStream: serverStream, ClientStream: clientStream, Bidi: bidi });
server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
  if (err) {
    process.stderr.write(`bind 127.0.0.1:${port}: ${err.message}\n`);
    process.exit(1);
  }
  log(`listening ${bound}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    server.forceShutdown();
    process.exit(0);
  });
}
