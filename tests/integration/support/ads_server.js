// An ADS server for the integration tests, independent of sluice-control:
// state of the world and incremental (delta) xDS over @grpc/grpc-js,
// resources given by the test.
//
//   NODE_PATH=.npm-deps/node_modules node ads_server.js COMMAND_FIFO PORT
//
// PORT 0 takes a free port. Prints "listening PORT" once it accepts
// streams. Reads commands, one JSON object per line, from COMMAND_FIFO:
//
//   {"op": "set", "type": "Cluster", "version": "2", "resources": [...]}
//       makes `resources` the type's set at `version` and pushes it to every
//       stream subscribed to the type. `type` is a short name (Listener,
//       RouteConfiguration, Cluster, ClusterLoadAssignment, Secret) or a type
//       URL. Each resource is an object in protobufjs form with snake_case
//       field names (durations as {seconds, nanos}); Any fields, and the
//       resource itself, name their type with "@type".
//
// and writes one JSON line per event on stdout:
//   {"event": "request", "stream", "type_url", "version_info", "response_nonce",
//    "resource_names", "error_detail": {code, message} | null, "node": {...} | null}
//   {"event": "response", "stream", "type_url", "version_info", "nonce", "names"}
//   {"event": "stream_end", "stream"}
//
// Serving rules: a new subscription (or changed names) gets the type's
// current set; a request whose nonce is not the last one sent for its type
// on that stream is stale and ignored; a NACK gets nothing back (no NACK
// loop); an ACK of an older version than the current gets the current.
//
// Delta streams (DeltaAggregatedResources) log their requests as the same
// "request" event with "delta": true, "resource_names" = the names
// subscribed, "unsubscribe", "initial_resource_versions", and
// "version_info" = the version of the response the nonce answers (so an
// ACK reads as in state of the world). Each resource's version is a hash
// of its bytes; a push sends the resources whose version the client does
// not hold (initial_resource_versions count as held) and removes the ones
// it holds that are gone.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const fifo = process.argv[2];
const port = Number(process.argv[3] || 0);
const deps = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const includeDirs = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate']
  .map((d) => path.join(deps, d))
  .concat(['/usr/include']);

const resourceProtos = [
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
];
const root = new protobuf.Root();
root.resolvePath = (origin, target) => {
  for (const d of includeDirs) {
    const p = path.join(d, target);
    if (fs.existsSync(p)) return p;
  }
  return target;
};
root.loadSync(resourceProtos, { keepCase: true });
root.resolveAll();

const kPrefix = 'type.googleapis.com/';
const types = {
  Listener: 'envoy.config.listener.v3.Listener',
  RouteConfiguration: 'envoy.config.route.v3.RouteConfiguration',
  Cluster: 'envoy.config.cluster.v3.Cluster',
  ClusterLoadAssignment: 'envoy.config.endpoint.v3.ClusterLoadAssignment',
  Secret: 'envoy.extensions.transport_sockets.tls.v3.Secret',
};
const fullSet = new Set([kPrefix + types.Listener, kPrefix + types.Cluster]);
const typeUrlOf = (t) => (t.startsWith(kPrefix) ? t : kPrefix + (types[t] || t));

const log = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

// type URL -> {version, resources: [{name, any: {type_url, value}}]}
const state = new Map();
const streams = new Set();
let nextNonce = 1;
let nextStream = 1;

function pack(obj, typeUrl) {
  const type = root.lookupType(typeUrl.slice(kPrefix.length));
  const { ['@type']: _, ...fields } = obj;
  const err = type.verify(type.fromObject(fields));
  if (err) throw new Error(`${typeUrl}: ${err}`);
  return { type_url: typeUrl, value: Buffer.from(type.encode(type.fromObject(fields)).finish()) };
}

function push(s, typeUrl) {
  if (s.delta) return pushDelta(s, typeUrl);
  const sub = s.subs.get(typeUrl);
  const cur = state.get(typeUrl);
  if (!sub || !cur) return;
  const wanted = sub.names.length === 0 && fullSet.has(typeUrl) ? null : new Set(sub.names);
  const chosen = cur.resources.filter((r) => wanted === null || wanted.has(r.name));
  const nonce = String(nextNonce++);
  sub.lastNonce = nonce;
  sub.sentVersion = cur.version;
  s.call.write({
    version_info: cur.version,
    type_url: typeUrl,
    nonce,
    resources: chosen.map((r) => r.any),
  });
  log({ event: 'response', stream: s.id, type_url: typeUrl, version_info: cur.version, nonce, names: chosen.map((r) => r.name) });
}

function onRequest(s, req) {
  const typeUrl = req.type_url;
  log({
    event: 'request',
    stream: s.id,
    type_url: typeUrl,
    version_info: req.version_info,
    response_nonce: req.response_nonce,
    resource_names: req.resource_names,
    error_detail: req.error_detail ? { code: req.error_detail.code, message: req.error_detail.message } : null,
    node: req.node ? req.node : null,
  });
  let sub = s.subs.get(typeUrl);
  if (sub && req.response_nonce && req.response_nonce !== sub.lastNonce) return;  // stale
  if (!sub) {
    sub = { names: null, lastNonce: '', sentVersion: null };
    s.subs.set(typeUrl, sub);
  }
  const names = [...req.resource_names].sort();
  const changed = sub.names === null || JSON.stringify(names) !== JSON.stringify(sub.names);
  sub.names = names;
  const cur = state.get(typeUrl);
  if (!cur) return;
  if (changed) return push(s, typeUrl);
  if (req.error_detail) return;  // a NACK: wait for a new version
  if (sub.sentVersion !== cur.version) push(s, typeUrl);
}

const versionOf = (any) => crypto.createHash('sha256').update(any.value).digest('hex').slice(0, 12);

function pushDelta(s, typeUrl) {
  const sub = s.subs.get(typeUrl);
  const cur = state.get(typeUrl);
  if (!sub || !cur) return;
  const chosen = cur.resources.filter((r) => sub.wildcard || sub.names.has(r.name));
  const updated = chosen.filter((r) => sub.held.get(r.name) !== versionOf(r.any));
  const present = new Set(chosen.map((r) => r.name));
  const removed = [...sub.held.keys()].filter((n) => !present.has(n));
  if (updated.length === 0 && removed.length === 0) return;
  const nonce = String(nextNonce++);
  sub.lastNonce = nonce;
  sub.sentVersion = cur.version;
  sub.versionOfNonce.set(nonce, cur.version);
  for (const r of updated) sub.held.set(r.name, versionOf(r.any));
  for (const n of removed) sub.held.delete(n);
  s.call.write({
    system_version_info: cur.version,
    type_url: typeUrl,
    nonce,
    resources: updated.map((r) => ({ name: r.name, version: versionOf(r.any), resource: r.any })),
    removed_resources: removed,
  });
  log({ event: 'response', stream: s.id, type_url: typeUrl, version_info: cur.version, nonce,
        names: updated.map((r) => r.name), removed });
}

function onDeltaRequest(s, req) {
  const typeUrl = req.type_url;
  let sub = s.subs.get(typeUrl);
  log({
    event: 'request',
    delta: true,
    stream: s.id,
    type_url: typeUrl,
    version_info: (sub && sub.versionOfNonce.get(req.response_nonce)) || '',
    response_nonce: req.response_nonce,
    resource_names: req.resource_names_subscribe,
    unsubscribe: req.resource_names_unsubscribe,
    initial_resource_versions: req.initial_resource_versions,
    error_detail: req.error_detail ? { code: req.error_detail.code, message: req.error_detail.message } : null,
    node: req.node ? req.node : null,
  });
  if (sub && req.response_nonce && req.response_nonce !== sub.lastNonce) return;  // stale
  const first = !sub;
  if (first) {
    sub = { wildcard: false, names: new Set(), held: new Map(), lastNonce: '', versionOfNonce: new Map() };
    s.subs.set(typeUrl, sub);
    for (const [n, v] of Object.entries(req.initial_resource_versions || {})) sub.held.set(n, v);
    if (fullSet.has(typeUrl) && req.resource_names_subscribe.length === 0) sub.wildcard = true;
  }
  let changed = first;
  for (const n of req.resource_names_subscribe) {
    if (n === '*') {
      changed = changed || !sub.wildcard;
      sub.wildcard = true;
    } else if (!sub.names.has(n)) {
      sub.names.add(n);
      changed = true;
    }
  }
  for (const n of req.resource_names_unsubscribe) {
    if (n === '*') sub.wildcard = false;
    sub.names.delete(n);
    sub.held.delete(n);  // forgotten by the client: no removal is sent for it
  }
  if (changed) pushDelta(s, typeUrl);
}

function onCommand(line) {
  if (!line.trim()) return;
  let cmd;
  try {
    cmd = JSON.parse(line);
    if (cmd.op !== 'set') throw new Error('unknown op ' + cmd.op);
    const typeUrl = typeUrlOf(cmd.type);
    const resources = cmd.resources.map((obj) => ({
      name: obj.name || obj.cluster_name,
      any: pack(obj, typeUrl),
    }));
    state.set(typeUrl, { version: String(cmd.version), resources });
    log({ event: 'set', type_url: typeUrl, version_info: String(cmd.version) });
    for (const s of streams) push(s, typeUrl);
  } catch (e) {
    log({ event: 'command_error', error: String(e && e.message ? e.message : e), line });
  }
}

const def = protoLoader.loadSync('envoy/service/discovery/v3/ads.proto', {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  includeDirs,
});
const ads = grpc.loadPackageDefinition(def).envoy.service.discovery.v3.AggregatedDiscoveryService;

const server = new grpc.Server();
server.addService(ads.service, {
  StreamAggregatedResources(call) {
    const s = { id: nextStream++, call, subs: new Map() };
    streams.add(s);
    const end = () => {
      if (!streams.delete(s)) return;
      log({ event: 'stream_end', stream: s.id });
    };
    call.on('data', (req) => onRequest(s, req));
    call.on('end', () => {
      end();
      call.end();
    });
    call.on('error', end);
    call.on('cancelled', end);
  },
  DeltaAggregatedResources(call) {
    const s = { id: nextStream++, call, subs: new Map(), delta: true };
    streams.add(s);
    const end = () => {
      if (!streams.delete(s)) return;
      log({ event: 'stream_end', stream: s.id });
    };
    call.on('data', (req) => onDeltaRequest(s, req));
    call.on('end', () => {
      end();
      call.end();
    });
    call.on('error', end);
    call.on('cancelled', end);
  },
});

server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
  if (err) {
    process.stderr.write(String(err) + '\n');
    process.exit(1);
  }
  server.start && server.start();
  // O_RDWR keeps the FIFO open when the test's writer closes and reopens it.
  const fd = fs.openSync(fifo, fs.constants.O_RDWR);
  readline.createInterface({ input: fs.createReadStream(null, { fd }) }).on('line', onCommand);
  process.stdout.write('listening ' + bound + '\n');
});
