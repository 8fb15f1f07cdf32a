// A proxyless gRPC client: @grpc/grpc-js with @grpc/grpc-js-xds resolving
// `xds:///NAME` through the xDS server named by the bootstrap file in
// GRPC_XDS_BOOTSTRAP (sluice-control in the tests), calling
// sluice.test.Echo/Unary of daemon_grpc_echo.js servers, whose replies name
// the server. Every call has a 5 s deadline.
//
//   NODE_PATH=.npm-deps/node_modules GRPC_XDS_BOOTSTRAP=bootstrap.json \
//     node daemon_grpc_proxyless.js count TARGET N
//       N calls one after another on one channel; one JSON line:
//       {"ok", "failed", "by_server": {NAME: calls}, "errors": [first few]}
//   ... node daemon_grpc_proxyless.js until TARGET NAME TIMEOUT_MS
//       calls every 20 ms on one channel; prints {"first": NAME} after the
//       first answer, then {"reached": true|false, "after_ms", "calls",
//       "failed", "by_server", "errors"} once NAME answers (after_ms
//       counted from the first answer's line) or TIMEOUT_MS passes.
//   ... node daemon_grpc_proxyless.js --xds-creds MODE ...
//       the channel takes XdsChannelCredentials (gRFC A29): TLS with the
//       bootstrap's certificate provider instances to clusters whose CDS
//       names them, plaintext to the others.
// grpc_xds_client/grpc_xds_client.cc is the same client on gRPC C++.
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const xds = require('@grpc/grpc-js-xds');
xds.register();

const argv = process.argv.slice(2);
const xdsCreds = argv[0] === '--xds-creds';
const [mode, target, ...args] = xdsCreds ? argv.slice(1) : argv;
const def = protoLoader.loadSync(path.join(__dirname, 'echo.proto'), { keepCase: true, longs: Number, defaults: true });
const Echo = grpc.loadPackageDefinition(def).sluice.test.Echo;
const insecure = grpc.credentials.createInsecure();
const client = new Echo(target, xdsCreds ? new xds.XdsChannelCredentials(insecure) : insecure);
const print = (o) => process.stdout.write(JSON.stringify(o) + '\n');

function call(i) {
  return new Promise((resolve) => {
    client.Unary({ count: i }, { deadline: Date.now() + 5000 }, (err, reply) => {
      resolve(err ? { error: `${err.code} ${err.details}` } : { server: reply.text });
    });
  });
}

async function count(n) {
  const out = { ok: 0, failed: 0, by_server: {}, errors: [] };
  for (let i = 0; i < n; i++) {
    const r = await call(i);
    if (r.error) {
      out.failed++;
      if (out.errors.length < 5) out.errors.push(r.error);
    } else {
      out.ok++;
      out.by_server[r.server] = (out.by_server[r.server] || 0) + 1;
    }
  }
  print(out);
}

async function until(name, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  const by_server = {}, errors = [];
  let calls = 0, failed = 0, firstAt = 0;
  while (Date.now() < deadline) {
    const r = await call(calls++);
    if (r.error) {
      failed++;
      if (errors.length < 5) errors.push(r.error);
    } else {
      by_server[r.server] = (by_server[r.server] || 0) + 1;
      if (!firstAt) {
        firstAt = Date.now();
        print({ first: r.server });
      }
      if (r.server === name && firstAt) {
        print({ reached: true, after_ms: Date.now() - firstAt, calls, failed, by_server, errors });
        return;
      }
    }
    await new Promise((res) => setTimeout(res, 20));
  }
  print({ reached: false, calls, failed, by_server, errors });
}

(mode === 'count' ? count(Number(args[0])) : mode === 'until' ? until(args[0], Number(args[1])) : Promise.reject(new Error(`unknown mode '${mode}'`)))
  .then(() => { client.close(); process.exit(0); })
  .catch((e) => { print({ error: e.message }); process.exit(1); });
