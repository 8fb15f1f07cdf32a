// A gRPC server that says who it is: sluice.test.Echo (echo.proto) whose
// Unary replies carry NAME in `text`, so a test can count which of several
// servers a proxyless client's calls reached.
//
//   NODE_PATH=.npm-deps/node_modules node daemon_grpc_echo.js NAME PORT
//
// PORT 0 takes a free port; prints "listening PORT" once it accepts calls.
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const name = process.argv[2];
const port = Number(process.argv[3] || 0);
const def = protoLoader.loadSync(path.join(__dirname, 'echo.proto'), { keepCase: true, longs: Number, defaults: true });
const echo = grpc.loadPackageDefinition(def).sluice.test.Echo;

const server = new grpc.Server();
server.addService(echo.service, {
  Unary: (call, callback) => callback(null, { text: name, count: call.request.count }),
});
server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
  if (err) {
    process.stderr.write(`bind 127.0.0.1:${port}: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`listening ${bound}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => { server.forceShutdown(); process.exit(0); });
