// An xDS client for sluice-control's integration tests: one state-of-the-
// world ADS stream (envoy.service.discovery.v3) on @grpc/grpc-js, with the
// Envoy protos that @grpc/grpc-js-xds ships in deps/.
//
//   NODE_PATH=.npm-deps/node_modules node daemon_xds_probe.js ADS NODE_ID NODE_CLUSTER TYPE[=NAME,...]...
//
// TYPE is cds, eds, lds or rds; without names the subscription is a
// wildcard. `--nack=TYPE` among them refuses every response of TYPE (a
// NACK: the last accepted version, none, and error_detail "probe refuses
// VERSION"). Every type is asked for at once; every other response is
// ACKed; each is printed as one JSON line:
//   {"type":"EDS","version":"…","nonce":"…","resources":{"backend":["127.0.0.1:18091",…]}}
// where a resource is summed up as: EDS, its endpoint addresses; RDS, its
// routes as "domain prefix -> cluster"; CDS and LDS, its name (true).
// A stream that ends prints {"error": …, "code": …} and exits 1. Runs until
// killed (the tests kill it).
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { loadProtosWithOptionsSync } = require('@grpc/proto-loader/build/src/util');

const [ads, nodeId, nodeCluster, ...rest] = process.argv.slice(2);
const nacked = rest.filter((a) => a.startsWith('--nack=')).map((a) => a.substring(7));
const subs = rest.filter((a) => !a.startsWith('--nack='));
if (!ads || !nodeId || subs.length === 0) {
  process.stderr.write('usage: daemon_xds_probe.js ADS NODE_ID NODE_CLUSTER TYPE[=NAME,...]...\n');
  process.exit(2);
}

const deps = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const includeDirs = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(deps, d));
const options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs };
const def = protoLoader.loadSync(['envoy/service/discovery/v3/ads.proto'], options);
const Ads = grpc.loadPackageDefinition(def).envoy.service.discovery.v3.AggregatedDiscoveryService;
const root = loadProtosWithOptionsSync([
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
], options);

const kTypes = {
  cds: ['CDS', 'type.googleapis.com/envoy.config.cluster.v3.Cluster'],
  eds: ['EDS', 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment'],
  lds: ['LDS', 'type.googleapis.com/envoy.config.listener.v3.Listener'],
  rds: ['RDS', 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration'],
};
const shortName = {};
for (const [, [name, url]] of Object.entries(kTypes)) shortName[url] = name;

function decode(any) {
  const type = root.lookupType(any.type_url.substring(any.type_url.lastIndexOf('/') + 1));
  const m = type.decode(any.value);
  return type.toObject(m, { longs: String, enums: String, defaults: true, oneofs: true });
}

// What a test wants to see of a resource.
function summary(typeUrl, r) {
  if (typeUrl === kTypes.eds[1]) {
    const out = [];
    for (const l of r.endpoints || [])
      for (const e of l.lb_endpoints || []) {
        const a = e.endpoint && e.endpoint.address && e.endpoint.address.socket_address;
        if (a) out.push(`${a.address}:${a.port_value}`);
      }
    return [r.cluster_name, out.sort()];
  }
  if (typeUrl === kTypes.rds[1]) {
    const out = [];
    for (const vh of r.virtual_hosts || [])
      for (const rt of vh.routes || []) {
        const m = rt.match || {};
        const to = rt.route ? rt.route.cluster || 'weighted' : 'other';
        out.push(`${(vh.domains || []).join('|')} ${m.prefix !== undefined && m.prefix !== '' ? m.prefix : m.path || '?'} -> ${to}`);
      }
    return [r.name, out];
  }
  return [r.name, true];
}

const client = new Ads(ads, grpc.credentials.createInsecure());
const call = client.StreamAggregatedResources();
const node = { id: nodeId, cluster: nodeCluster, user_agent_name: 'sluice-daemon-probe' };
const print = (o) => process.stdout.write(JSON.stringify(o) + '\n');

call.on('data', (resp) => {
  const resources = {};
  for (const any of resp.resources) {
    const [name, s] = summary(resp.type_url, decode(any));
    resources[name] = s;
  }
  print({ type: shortName[resp.type_url] || resp.type_url, version: resp.version_info, nonce: resp.nonce, resources });
  const sub = subs.map((s) => s.split('=')).find(([t]) => kTypes[t][1] === resp.type_url);
  const nack = nacked.some((t) => kTypes[t] && kTypes[t][1] === resp.type_url);
  call.write({
    node,
    type_url: resp.type_url,
    version_info: nack ? '' : resp.version_info,
    response_nonce: resp.nonce,
    resource_names: sub && sub[1] ? sub[1].split(',') : [],
    error_detail: nack ? { code: 3, message: `probe refuses ${resp.version_info}` } : null,
  });
});
call.on('error', (e) => {
  print({ error: e.details || e.message, code: e.code });
  process.exit(1);
});
call.on('end', () => {
  print({ error: 'stream ended', code: 0 });
  process.exit(1);
});

for (const s of subs) {
  const [t, names] = s.split('=');
  if (!kTypes[t]) {
    process.stderr.write(`unknown type '${t}' (cds, eds, lds, rds)\n`);
    process.exit(2);
  }
  call.write({ node, type_url: kTypes[t][1], resource_names: names ? names.split(',') : [] });
}
