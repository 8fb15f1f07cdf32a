// Decodes Listener and RouteConfiguration resources with the xDS client of
// @grpc/grpc-js-xds (its own decoder and validation: what a proxyless Node
// gRPC client runs on an LDS or RDS response) and prints one line per
// resource: "ok <name>" or "error <name>: <why>".
//   node listener_grpc_check.js <type_url> <file> [<file>...]   (each file: one serialized message)
'use strict';
const fs = require('fs');
// As a client does on start: registers the HTTP filters (router, fault, RBAC)
// its validation looks up.
require('@grpc/grpc-js-xds').register();
const base = '@grpc/grpc-js-xds/build/src/xds-resource-type/';
const types = {
  'type.googleapis.com/envoy.config.listener.v3.Listener': require(base + 'listener-resource-type').ListenerResourceType,
  'type.googleapis.com/envoy.config.route.v3.RouteConfiguration':
    require(base + 'route-config-resource-type').RouteConfigurationResourceType,
};
const [typeUrl, ...files] = process.argv.slice(2);
const type = types[typeUrl];
if (!type) {
  console.log(`error -: unknown type ${typeUrl}`);
  process.exit(2);
}
const context = { bootstrap: { certificateProviders: {} }, server: {} };
for (const file of files) {
  let r;
  try {
    r = type.get().decode(context, { type_url: typeUrl, value: fs.readFileSync(file) });
  } catch (e) {
    r = { name: '-', error: `threw ${e.message}` };
  }
  console.log(r.error ? `error ${r.name}: ${r.error}` : `ok ${r.name}`);
}
