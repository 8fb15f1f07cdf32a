// A gRPC server with grpc.health.v1.Health (health.proto) and
// sluice.test.Echo/Unary (echo.proto) on @grpc/grpc-js, plaintext HTTP/2 on
// 127.0.0.1, for the tests of `grpc` health checks.
//
//   NODE_PATH=.npm-deps/node_modules node grpc_health_server.js PORT
//
// Prints "listening PORT" once it accepts calls. Check answers SERVING for
// "" and "sluice.test.Echo" until SIGUSR1 turns both NOT_SERVING (SIGUSR2
// turns them back); any other service is NOT_FOUND, as the protocol says.
// Every Check logs "check SERVICE STATUS" on stdout.
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const load = (file) => grpc.loadPackageDefinition(
  protoLoader.loadSync(path.join(__dirname, file), { keepCase: true, longs: Number, enums: String, defaults: true }));
const health = load('health.proto').grpc.health.v1.Health;
const echo = load('echo.proto').sluice.test.Echo;

let status = 'SERVING';
process.on('SIGUSR1', () => { status = 'NOT_SERVING'; });
process.on('SIGUSR2', () => { status = 'SERVING'; });
const known = new Set(['', 'sluice.test.Echo']);

const server = new grpc.Server();
server.addService(health.service, {
  Check: (call, callback) => {
    const service = call.request.service;
    if (!known.has(service)) {
      process.stdout.write(`check ${service} NOT_FOUND\n`);
      return callback({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
    }
    process.stdout.write(`check ${service} ${status}\n`);
    callback(null, { status });
  },
});
server.addService(echo.service, {
  Unary: (call, callback) => callback(null, { payload: call.request.payload, count: call.request.count, text: 'ok' }),
});
server.bindAsync(`127.0.0.1:${process.argv[2] || 0}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
  if (err) {
    process.stderr.write(String(err) + '\n');
    process.exit(1);
  }
  process.stdout.write('listening ' + bound + '\n');
});
