// An independent xDS client for the control plane's tests: one ADS stream
// (state of the world or delta) on @grpc/grpc-js and @grpc/proto-loader,
// driven line by line. Each stdin line is one JSON command; each command
// that asks for output gets one JSON line on stdout.
//
//   NODE_PATH=.npm-deps/node_modules node xds_client.js TARGET sotw|delta
//
//   {"op":"send","request":{...}}   writes a DiscoveryRequest (sotw) or a
//                                   DeltaDiscoveryRequest (delta), fields
//                                   in snake_case as in the .proto
//   {"op":"next","timeout_ms":N}    the next response, summarised:
//       sotw:  {type_url, version_info, nonce, names: [...]}
//       delta: {type_url, system_version_info, nonce,
//               resources: {name: version}, removed: [...]}
//     plus {typed: true} when every resource's Any has the response's type
//     URL and its body's name (field 1) matches its name where one is
//     given; or {timeout: true}; or {closed: true, code, details}
//   {"op":"end"}                    half-closes the stream and exits
//
// Resources are decoded only as far as their name (field 1 of Listener,
// RouteConfiguration, Cluster, ClusterLoadAssignment and Secret), read from
// the wire bytes here: nothing is shared with the server's code. The
// process exits by itself after 120 s.
'use strict';
const path = require('path');
const readline = require('readline');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [target, mode] = process.argv.slice(2);
if (!target || (mode !== 'sotw' && mode !== 'delta')) {
  console.error('usage: xds_client.js TARGET sotw|delta');
  process.exit(2);
}
setTimeout(() => process.exit(3), 120000).unref();

const deps = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const def = protoLoader.loadSync('envoy/service/discovery/v3/ads.proto', {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(deps, d)).concat(['/usr/include']),
});
const proto = grpc.loadPackageDefinition(def);
const Ads = proto.envoy.service.discovery.v3.AggregatedDiscoveryService;
const client = new Ads(target, grpc.credentials.createInsecure());
const call = mode === 'sotw' ? client.StreamAggregatedResources() : client.DeltaAggregatedResources();

// Field 1 (length-delimited) of a serialized message, as a string.
function nameOf(buf) {
  let i = 0;
  const varint = () => {
    let v = 0, shift = 0, b;
    do {
      b = buf[i++];
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80 && i < buf.length);
    return v;
  };
  while (i < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8), wire = key & 7;
    if (wire === 0) varint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      const len = varint();
      if (field === 1) return buf.subarray(i, i + len).toString('utf8');
      i += len;
    } else return null;
  }
  return null;
}

function summarise(r) {
  if (mode === 'sotw') {
    const names = r.resources.map((a) => nameOf(a.value));
    const typed = r.resources.every((a) => a.type_url === r.type_url);
    return { type_url: r.type_url, version_info: r.version_info, nonce: r.nonce, names: names.sort(), typed };
  }
  const resources = {};
  let typed = true;
  for (const res of r.resources) {
    resources[res.name] = res.version;
    if (!res.resource || res.resource.type_url !== r.type_url || nameOf(res.resource.value) !== res.name) typed = false;
  }
  return {
    type_url: r.type_url, system_version_info: r.system_version_info, nonce: r.nonce,
    resources, removed: [...r.removed_resources].sort(), typed,
  };
}

const responses = [];
let closed = null;
let waiter = null;
function wake() {
  if (waiter) {
    const w = waiter;
    waiter = null;
    w();
  }
}
call.on('data', (r) => { responses.push(summarise(r)); wake(); });
call.on('error', (e) => { closed = closed || { closed: true, code: e.code, details: e.details }; wake(); });
call.on('status', (s) => { closed = closed || { closed: true, code: s.code, details: s.details }; wake(); });
call.on('end', () => { closed = closed || { closed: true, code: 0, details: '' }; wake(); });

function print(o) { process.stdout.write(JSON.stringify(o) + '\n'); }

// Commands run one after another: a "next" waits before the line after it.
const queue = [];
let busy = false;
async function pump() {
  if (busy) return;
  busy = true;
  while (queue.length) {
    const cmd = queue.shift();
    if (cmd.op === 'send') {
      call.write(cmd.request);
    } else if (cmd.op === 'next') {
      if (!responses.length && !closed) {
        await new Promise((resolve) => {
          const t = setTimeout(() => { waiter = null; resolve(); }, cmd.timeout_ms || 5000);
          waiter = () => { clearTimeout(t); resolve(); };
        });
      }
      if (responses.length) print(responses.shift());
      else if (closed) print(closed);
      else print({ timeout: true });
    } else if (cmd.op === 'end') {
      call.end();
      client.close();
      process.exit(0);
    } else {
      print({ error: 'unknown op ' + cmd.op });
    }
  }
  busy = false;
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  try {
    queue.push(JSON.parse(line));
  } catch (e) {
    print({ error: 'bad command: ' + e.message });
    return;
  }
  pump();
}).on('close', () => {
  queue.push({ op: 'end' });
  pump();
});
