// Decodes Envoy v3 resources with the xDS client of @grpc/grpc-js-xds (its
// own decoder and validation, what a proxyless gRPC client runs on a CDS or
// EDS response) and prints one line per resource: "ok <name>" or
// "error <name>: <why>".
//   [GRPC_CHECK_CERT_PROVIDERS=a,b] node cluster_grpc_check.js <type_url> <file> [<file>...]
//   (each file: one serialized message)
'use strict';
const fs = require('fs');
const base = '@grpc/grpc-js-xds/build/src/xds-resource-type/';
const types = {
  'type.googleapis.com/envoy.config.cluster.v3.Cluster': require(base + 'cluster-resource-type').ClusterResourceType,
  'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment':
    require(base + 'endpoint-resource-type').EndpointResourceType,
};
const [typeUrl, ...files] = process.argv.slice(2);
const type = types[typeUrl];
if (!type) {
  console.log(`error -: unknown type ${typeUrl}`);
  process.exit(2);
}
// What decode reads of the client's context: the bootstrap's certificate
// providers, by instance name (GRPC_CHECK_CERT_PROVIDERS, comma-separated).
const certificateProviders = {};
for (const name of (process.env.GRPC_CHECK_CERT_PROVIDERS || '').split(',').filter(Boolean)) {
  certificateProviders[name] = { pluginName: 'file_watcher', config: {} };
}
const context = { bootstrap: { certificateProviders }, server: {} };
for (const file of files) {
  const r = type.get().decode(context, { type_url: typeUrl, value: fs.readFileSync(file) });
  console.log(r.error ? `error ${r.name}: ${r.error}` : `ok ${r.name}`);
}
