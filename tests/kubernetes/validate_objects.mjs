// Validates Kubernetes objects as data, with no cluster: every object of
// the given multi-document YAML or JSON files (or stdin) against the API's
// schemas by apiVersion and kind (npm kubernetes-models), plus what those
// schemas cannot say about pod specs: the native-sidecar rule.
//
//   node validate_objects.mjs [--allow-kind GROUP/VERSION/KIND]... [FILE|-]...
//
// Prints one line per error, "FILE: document N: Kind/name: field.path:
// message", and exits 1 when there is any; else "N objects valid" and 0.
// An apiVersion/kind the models do not know is an error unless allowed
// (e.g. --allow-kind admission.k8s.io/v1/AdmissionReview), since a typo in
// either would otherwise pass unchecked. kubernetes-models is found in
// $SLUICE_NPM_MODULES, else in .npm-deps/node_modules at the repo root
// (scripts/install-deps puts it there). Note: its schemas do not refuse
// unknown fields.
import {existsSync, readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const modules = process.env.SLUICE_NPM_MODULES || path.join(repo, '.npm-deps/node_modules');
const modelsDir = path.join(modules, 'kubernetes-models');
if (!existsSync(modelsDir)) {
  console.error(`validate_objects: ${modelsDir} is missing; run scripts/install-deps`);
  process.exit(2);
}
const YAML = createRequire(path.join(modules, 'noop.js'))('yaml');

const allowed = new Set();
const inputs = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--allow-kind') allowed.add(argv[++i]);
  else if (argv[i] === '-h' || argv[i] === '--help') {
    console.log('usage: node validate_objects.mjs [--allow-kind GROUP/VERSION/KIND]... [FILE|-]...');
    process.exit(0);
  } else inputs.push(argv[i]);
}
if (inputs.length === 0) inputs.push('-');

// "/spec/containers/0/image" -> "spec.containers[0].image"
function fieldPath(pointer) {
  return pointer.split('/').slice(1).map(s => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => /^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg, '');
}

const modelCache = new Map();
async function modelFor(apiVersion, kind) {
  const key = `${apiVersion}/${kind}`;
  if (!modelCache.has(key)) {
    // The package lays its models out as <group>/<version>/<Kind>.js
    // (core: v1/Pod.js); names are checked so that a path cannot escape.
    const ok = /^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion) && /^[A-Z][A-Za-z0-9]*$/.test(kind);
    const file = path.join(modelsDir, apiVersion, `${kind}.js`);
    modelCache.set(key, ok && existsSync(file) ? (await import(pathToFileURL(file).href))[kind] : null);
  }
  return modelCache.get(key);
}

// The pod spec inside an object of a workload kind, and its field path.
function podSpecOf(obj) {
  switch (obj.kind) {
    case 'Pod': return [obj.spec, 'spec'];
    case 'PodTemplate': return [obj.template?.spec, 'template.spec'];
    case 'Deployment': case 'StatefulSet': case 'DaemonSet': case 'ReplicaSet':
    case 'ReplicationController': case 'Job':
      return [obj.spec?.template?.spec, 'spec.template.spec'];
    case 'CronJob': return [obj.spec?.jobTemplate?.spec?.template?.spec, 'spec.jobTemplate.spec.template.spec'];
    default: return [undefined, ''];
  }
}

// What the API server's validation (not the OpenAPI schema) refuses about
// native sidecars: restartPolicy on a container is for init containers
// only, and there only "Always" (an init container that keeps running
// beside the app); a plain init container runs to completion, so it may
// have no probes nor lifecycle hooks. Container names are unique across
// all the lists.
function podSpecErrors(spec, at) {
  const errors = [];
  if (!spec || typeof spec !== 'object') return errors;
  const names = new Map();
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
    (spec[list] ?? []).forEach((c, i) => {
      const here = `${at}.${list}[${i}]`;
      if (c?.name !== undefined) {
        if (names.has(c.name)) errors.push(`${here}.name: "${c.name}" is also ${names.get(c.name)}`);
        else names.set(c.name, here);
      }
      if (list !== 'initContainers') {
        if (c?.restartPolicy !== undefined)
          errors.push(`${here}.restartPolicy: only an init container may set it (a native sidecar)`);
        return;
      }
      if (c?.restartPolicy !== undefined && c.restartPolicy !== 'Always')
        errors.push(`${here}.restartPolicy: must be "Always" (a native sidecar) or absent, not ${JSON.stringify(c.restartPolicy)}`);
      if (c?.restartPolicy !== 'Always') {
        for (const field of ['readinessProbe', 'livenessProbe', 'startupProbe', 'lifecycle'])
          if (c?.[field] !== undefined)
            errors.push(`${here}.${field}: an init container without restartPolicy: Always may not have one`);
      }
    });
  }
  return errors;
}

async function check(obj, where, report) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj))
    return report(`${where}: not an object`);
  const {apiVersion, kind} = obj;
  const label = `${kind ?? '?'}/${obj.metadata?.name ?? '?'}`;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string')
    return report(`${where}: ${label}: apiVersion and kind are required strings`);
  if (kind.endsWith('List') && Array.isArray(obj.items)) {
    for (const [i, item] of obj.items.entries()) await check(item, `${where}: items[${i}]`, report);
    return;
  }
  const Model = await modelFor(apiVersion, kind);
  if (!Model) {
    if (!allowed.has(`${apiVersion}/${kind}`))
      report(`${where}: ${label}: unknown apiVersion/kind ${apiVersion}/${kind} (--allow-kind to accept it unchecked)`);
    return;
  }
  try {
    new Model(obj).validate();
  } catch (e) {
    if (!Array.isArray(e.errors)) throw e;
    for (const err of e.errors) {
      const field = fieldPath(err.instancePath) || '(object)';
      const extra = err.params?.allowedValues ? ` (${err.params.allowedValues.join(', ')})` : '';
      report(`${where}: ${label}: ${field}: ${err.message}${extra}`);
    }
  }
  const [spec, at] = podSpecOf(obj);
  for (const msg of podSpecErrors(spec, at)) report(`${where}: ${label}: ${msg}`);
}

let errors = 0;
let objects = 0;
const report = msg => { errors++; console.log(msg); };
for (const input of inputs) {
  const name = input === '-' ? '<stdin>' : input;
  let text;
  try {
    text = readFileSync(input === '-' ? 0 : input, 'utf8');
  } catch (e) {
    report(`${name}: ${e.message}`);
    continue;
  }
  // JSON is YAML; one parser reads both, documents split on "---".
  const docs = YAML.parseAllDocuments(text);
  for (const [i, doc] of docs.entries()) {
    const where = `${name}: document ${i + 1}`;
    if (doc.errors?.length) {
      for (const err of doc.errors) report(`${where}: ${err.message.split('\n')[0]}`);
      continue;
    }
    const obj = doc.toJS({maxAliasCount: 100});
    if (obj === null || obj === undefined) continue;  // an empty document (helm prints some)
    objects++;
    await check(obj, where, report);
  }
}
if (errors > 0) {
  console.log(`${errors} error(s) in ${objects} object(s)`);
  process.exit(1);
}
console.log(`${objects} object(s) valid`);
