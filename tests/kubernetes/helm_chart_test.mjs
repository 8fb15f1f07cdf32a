// The Helm chart (charts/sluice) checked with no cluster: helm lint, helm
// template with default and non-default values, every rendered object
// validated (validate_objects.mjs), the content that matters asserted
// (RBAC verbs, webhook selectors and policy, the PDB, the certificates, the
// control plane's config), bad values refused with the schema's message,
// and the rendered control.yaml and CA root taken by the real
// sluice-control.
//
//   node helm_chart_test.mjs [--sluice-control BIN]
//
// helm comes from .tools/bin/ (scripts/install-deps). Prints "ok: ..." or
// "FAIL: ..." per check; exits 1 when any failed.
import {spawn, spawnSync} from 'node:child_process';
import {X509Certificate, createPrivateKey} from 'node:crypto';
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {get} from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {isDeepStrictEqual} from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const chart = path.join(repo, 'charts/sluice');
const helm = path.join(repo, '.tools/bin/helm');
const modules = process.env.SLUICE_NPM_MODULES || path.join(repo, '.npm-deps/node_modules');
const YAML = createRequire(path.join(modules, 'noop.js'))('yaml');
const args = process.argv.slice(2);
const controlBin = args.includes('--sluice-control') ? args[args.indexOf('--sluice-control') + 1] ?? '' : '';

let failures = 0;
function check(name, ok, detail = '') {
  if (ok) console.log(`ok: ${name}`);
  else { failures++; console.log(`FAIL: ${name}${detail ? `: ${detail}` : ''}`); }
  return ok;
}
function run(cmd, argv, input) {
  const r = spawnSync(cmd, argv, {input, encoding: 'utf8', maxBuffer: 64 << 20});
  if (r.error) throw r.error;
  return r;
}
if (!existsSync(helm)) {
  console.log(`FAIL: ${helm} is missing; run scripts/install-deps`);
  process.exit(1);
}

// helm template with --set/--set-json pairs; the objects, or the error.
function template(sets = []) {
  const r = run(helm, ['template', 'mesh', chart, '--namespace', 'sluice-system', ...sets]);
  const objects = r.status === 0
    ? YAML.parseAllDocuments(r.stdout).map(d => d.toJS()).filter(o => o) : [];
  return {...r, objects};
}
const find = (objects, kind, suffix = '') =>
  objects.filter(o => o.kind === kind && o.metadata.name.endsWith(suffix));
const one = (objects, kind, suffix = '') => find(objects, kind, suffix)[0];
const b64 = s => Buffer.from(s, 'base64').toString('utf8');

// --- lint ------------------------------------------------------------------
{
  const r = run(helm, ['lint', '--strict', chart]);
  check('helm lint --strict', r.status === 0, r.stdout + r.stderr);
}

// --- every rendered object is a valid Kubernetes object --------------------
function validates(name, r) {
  const v = run('node', [path.join(here, 'validate_objects.mjs'), '-'], r.stdout);
  check(`${name}: every object validates`, v.status === 0, v.stdout + v.stderr);
}

// --- default values --------------------------------------------------------
const def = template();
if (check('helm template with default values', def.status === 0, def.stderr)) {
  validates('defaults', def);
  const o = def.objects;
  const kinds = o.map(x => x.kind).sort();
  check('defaults: the expected objects', isDeepStrictEqual(kinds, [
    'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'MutatingWebhookConfiguration',
    'PodDisruptionBudget', 'Secret', 'Secret', 'Service', 'ServiceAccount']), kinds.join(' '));

  // RBAC: exactly the reads the mesh is computed from (collections only:
  // list and watch, never a get by name), and token reviews.
  const role = one(o, 'ClusterRole');
  const granted = role.rules.flatMap(r => r.apiGroups.flatMap(g => r.resources.flatMap(res =>
    r.verbs.map(v => `${g || 'core'}/${res}:${v}`)))).sort();
  const want = [];
  for (const res of ['core/services', 'core/pods', 'core/namespaces', 'core/serviceaccounts',
                     'discovery.k8s.io/endpointslices'])
    for (const v of ['list', 'watch']) want.push(`${res}:${v}`);
  want.push('authentication.k8s.io/tokenreviews:create');
  check('RBAC grants exactly the verbs used', isDeepStrictEqual(granted, want.sort()), granted.join(' '));
  check('RBAC: no nonResourceURLs, no resourceNames, no wildcards',
        role.rules.every(r => !r.nonResourceURLs && !r.resourceNames &&
          ![...r.verbs, ...r.resources, ...r.apiGroups].includes('*')));
  const binding = one(o, 'ClusterRoleBinding');
  const sa = one(o, 'ServiceAccount');
  check('the binding gives the role to the control plane\'s service account',
        binding.roleRef.name === role.metadata.name && binding.subjects.length === 1 &&
        binding.subjects[0].name === sa.metadata.name && binding.subjects[0].namespace === 'sluice-system');

  // The webhook: two entries, one per way a pod asks for the sidecar
  // (its namespace's label, or its own label in an unlabelled namespace),
  // the same in everything but their selectors.
  const mwc = one(o, 'MutatingWebhookConfiguration');
  const names = mwc.webhooks.map(w => w.name);
  check('two webhooks, namespace.sluice.io and object.sluice.io',
        isDeepStrictEqual(names, ['namespace.sluice.io', 'object.sluice.io']), names.join(' '));
  const byNs = mwc.webhooks.find(w => w.name === 'namespace.sluice.io') ?? {};
  const byPod = mwc.webhooks.find(w => w.name === 'object.sluice.io') ?? {};
  const svc = one(o, 'Service');
  for (const wh of [byNs, byPod]) {
    check(`${wh.name}: failurePolicy Fail by default`, wh.failurePolicy === 'Fail');
    check(`${wh.name}: sideEffects None, admissionReviewVersions [v1], reinvocationPolicy IfNeeded`,
          wh.sideEffects === 'None' && isDeepStrictEqual(wh.admissionReviewVersions, ['v1']) &&
          wh.reinvocationPolicy === 'IfNeeded' && wh.timeoutSeconds === 10);
    check(`${wh.name}: pod CREATE only`,
          isDeepStrictEqual(wh.rules, [{operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'],
                                        resources: ['pods'], scope: 'Namespaced'}]), JSON.stringify(wh.rules));
    check(`${wh.name}: calls the Service on 15017 at /inject`,
          isDeepStrictEqual(wh.clientConfig?.service,
                            {name: svc.metadata.name, namespace: 'sluice-system', path: '/inject', port: 15017}) &&
          svc.spec.ports.some(p => p.port === 15017 && p.targetPort === 'https-webhook'));
    check(`${wh.name}: never the control plane's namespace nor kube-system`,
          (wh.namespaceSelector?.matchExpressions ?? []).some(e =>
            e.key === 'kubernetes.io/metadata.name' && e.operator === 'NotIn' &&
            isDeepStrictEqual([...e.values].sort(), ['kube-system', 'sluice-system'])));
    check(`${wh.name}: selectors by expressions only`,
          !wh.namespaceSelector?.matchLabels && !wh.objectSelector?.matchLabels);
  }
  check('namespace.sluice.io: namespaces labelled sluice-injection=enabled',
        isDeepStrictEqual(byNs.namespaceSelector?.matchExpressions?.[0],
                          {key: 'sluice-injection', operator: 'In', values: ['enabled']}),
        JSON.stringify(byNs.namespaceSelector));
  check('namespace.sluice.io: pods labelled sluice.io/inject=false are not sent',
        isDeepStrictEqual(byNs.objectSelector, {matchExpressions: [
          {key: 'sluice.io/inject', operator: 'NotIn', values: ['false']}]}), JSON.stringify(byNs.objectSelector));
  check('object.sluice.io: namespaces with no sluice-injection label',
        isDeepStrictEqual(byPod.namespaceSelector?.matchExpressions?.[0],
                          {key: 'sluice-injection', operator: 'DoesNotExist'}),
        JSON.stringify(byPod.namespaceSelector));
  check('object.sluice.io: pods labelled sluice.io/inject=true only',
        isDeepStrictEqual(byPod.objectSelector, {matchExpressions: [
          {key: 'sluice.io/inject', operator: 'In', values: ['true']}]}), JSON.stringify(byPod.objectSelector));
  // The selectors as the API server applies them: which entries send a
  // pod, for each namespace label and pod label. At most one ever does.
  const matches = (sel, labels) => (sel?.matchExpressions ?? []).every(e => {
    const has = Object.hasOwn(labels, e.key);
    switch (e.operator) {
      case 'In': return has && e.values.includes(labels[e.key]);
      case 'NotIn': return !has || !e.values.includes(labels[e.key]);
      case 'Exists': return has;
      case 'DoesNotExist': return !has;
      default: return false;
    }
  });
  const sentBy = (nsLabels, podLabels) => mwc.webhooks
    .filter(w => matches(w.namespaceSelector, nsLabels) && matches(w.objectSelector, podLabels)).map(w => w.name);
  const prod = {'kubernetes.io/metadata.name': 'prod'};
  for (const [ns, pod, want] of [
    [{...prod, 'sluice-injection': 'enabled'}, {}, ['namespace.sluice.io']],
    [{...prod, 'sluice-injection': 'enabled'}, {'sluice.io/inject': 'true'}, ['namespace.sluice.io']],
    [{...prod, 'sluice-injection': 'enabled'}, {'sluice.io/inject': 'false'}, []],
    [prod, {}, []],
    [prod, {'sluice.io/inject': 'true'}, ['object.sluice.io']],
    [prod, {'sluice.io/inject': 'false'}, []],
    [{...prod, 'sluice-injection': 'disabled'}, {'sluice.io/inject': 'true'}, []],
    [{'kubernetes.io/metadata.name': 'kube-system'}, {'sluice.io/inject': 'true'}, []],
    [{'kubernetes.io/metadata.name': 'sluice-system', 'sluice-injection': 'enabled'}, {}, []],
  ]) {
    const got = sentBy(ns, pod);
    check(`selectors: namespace ${JSON.stringify(ns)}, pod ${JSON.stringify(pod)}: sent by [${want}]`,
          isDeepStrictEqual(got, want), `sent by [${got}]`);
  }

  // The generated serving certificate: for the Service's name, signed by
  // the caBundle's CA, with its key.
  const tls = one(o, 'Secret', '-webhook-tls');
  check('both webhooks carry the same caBundle', byNs.clientConfig?.caBundle === byPod.clientConfig?.caBundle);
  const ca = new X509Certificate(b64(byNs.clientConfig.caBundle));
  const leaf = new X509Certificate(b64(tls.data['tls.crt']));
  const dns = `${svc.metadata.name}.sluice-system.svc`;
  check('webhook certificate: signed by the caBundle\'s CA', ca.ca && leaf.verify(ca.publicKey) &&
        b64(tls.data['ca.crt']) === b64(byNs.clientConfig.caBundle));
  check(`webhook certificate: names ${dns}`, leaf.checkHost(dns) === dns, leaf.subjectAltName);
  check('webhook certificate: its key is the Secret\'s',
        leaf.checkPrivateKey(createPrivateKey(b64(tls.data['tls.key']))));
  check('webhook Secret is kubernetes.io/tls', tls.type === 'kubernetes.io/tls');

  // The mesh CA root: one for every replica, P-256 like the one
  // sluice-control makes itself.
  const root = one(o, 'Secret', '-ca-root');
  const rootCert = new X509Certificate(b64(root.data['tls.crt']));
  check('CA root: a P-256 CA certificate with its key',
        rootCert.ca && rootCert.publicKey.asymmetricKeyDetails.namedCurve === 'prime256v1' &&
        rootCert.checkPrivateKey(createPrivateKey(b64(root.data['tls.key']))));
  check('CA root: a token key of 16 bytes or more', b64(root.data['token.key']).length >= 16);

  // The Deployment.
  const dep = one(o, 'Deployment');
  const pod = dep.spec.template.spec;
  const c = pod.containers[0];
  check('deployment: 2 replicas', dep.spec.replicas === 2);
  const anti = pod.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0];
  check('deployment: preferred anti-affinity by hostname on its own pods',
        anti?.podAffinityTerm.topologyKey === 'kubernetes.io/hostname' &&
        isDeepStrictEqual(anti.podAffinityTerm.labelSelector.matchLabels, dep.spec.selector.matchLabels));
  const ports = Object.fromEntries(c.ports.map(p => [p.name, p.containerPort]));
  check('deployment: ports 15010 ADS, 15012 CA (TLS), 15017 webhook, 15000 admin',
        isDeepStrictEqual(ports, {'grpc-xds': 15010, 'grpc-ca': 15012, 'https-webhook': 15017, 'http-admin': 15000}));
  check('deployment: readiness /ready and liveness on the admin port',
        c.readinessProbe.httpGet.path === '/ready' && c.readinessProbe.httpGet.port === 'http-admin' &&
        c.livenessProbe.httpGet.port === 'http-admin');
  check('deployment: non-root, read-only root filesystem, no capabilities, no escalation',
        pod.securityContext.runAsNonRoot === true && pod.securityContext.runAsUser > 0 &&
        pod.securityContext.runAsUser !== 1337 && c.securityContext.readOnlyRootFilesystem === true &&
        c.securityContext.allowPrivilegeEscalation === false &&
        isDeepStrictEqual(c.securityContext.capabilities, {drop: ['ALL']}));
  check('deployment: resources from values',
        isDeepStrictEqual(c.resources, {requests: {cpu: '100m', memory: '128Mi'}, limits: {memory: '512Mi'}}));
  check('deployment: image from values (tag defaults to the appVersion)', c.image === 'sluice:0.1.0');
  check('deployment: runs as the service account bound to the role',
        pod.serviceAccountName === sa.metadata.name);
  const secretVolumes = pod.volumes.filter(v => v.secret).map(v => v.secret.secretName).sort();
  check('deployment: mounts the CA root and the webhook certificate',
        isDeepStrictEqual(secretVolumes, [root.metadata.name, tls.metadata.name].sort()));

  const pdb = one(o, 'PodDisruptionBudget');
  check('PDB: minAvailable 1 over the control plane\'s pods',
        pdb.spec.minAvailable === 1 && isDeepStrictEqual(pdb.spec.selector.matchLabels, dep.spec.selector.matchLabels));

  // The control plane's config: the keys the chart emits.
  const control = YAML.parse(one(o, 'ConfigMap').data['control.yaml']);
  check('control.yaml: the expected blocks',
        isDeepStrictEqual(Object.keys(control).sort(), ['admin', 'ads', 'ca', 'injection', 'kubernetes', 'mesh']),
        Object.keys(control).join(' '));
  check('control.yaml: servers on every address of the pod',
        control.ads.address === '0.0.0.0:15010' && control.admin.address === '0.0.0.0:15000' &&
        control.injection.webhook.address === '0.0.0.0:15017' && control.ca.address === '0.0.0.0:15012');
  check('control.yaml: kubernetes in cluster', isDeepStrictEqual(control.kubernetes, {in_cluster: true}));
  check('control.yaml: injection', isDeepStrictEqual(control.injection, {
    webhook: {address: '0.0.0.0:15017', path: '/inject',
              cert_file: '/etc/sluice/webhook/tls.crt', key_file: '/etc/sluice/webhook/tls.key'},
    failure_policy: 'Fail', native_sidecar: true,
    ads_address: `${one(o, 'Service').metadata.name}.${one(o, 'Service').metadata.namespace}.svc:15010`,
    ca_address: `${one(o, 'Service').metadata.name}.${one(o, 'Service').metadata.namespace}.svc:15012`,
    image: 'sluice:0.1.0', image_pull_policy: 'IfNotPresent',
    resources: {requests: {cpu: '100m', memory: '64Mi'}, limits: {memory: '256Mi'}},
  }), JSON.stringify(control.injection));
  check('control.yaml: the CA\'s serving certificate is for the name sidecars dial, on a port of the Service',
        isDeepStrictEqual(control.ca.tls, {dns_names: [`${svc.metadata.name}.${svc.metadata.namespace}.svc`]}) &&
        svc.spec.ports.some(p => p.port === 15012 && p.targetPort === 'grpc-ca'), JSON.stringify(control.ca.tls));
  check('control.yaml: one trust domain for the CA and the mesh',
        control.ca.trust_domain === 'cluster.local' && control.mesh.trust_domain === 'cluster.local');
  const mounted = pod.containers[0].volumeMounts.map(m => m.mountPath);
  const files = [control.ca.root.cert, control.ca.root.key, ...control.ca.token_keys,
                 control.injection.webhook.cert_file, control.injection.webhook.key_file];
  check('control.yaml: every file it names is in a mounted volume',
        files.every(f => mounted.includes(path.dirname(f))), files.join(' '));
  const stateMount = c.volumeMounts.find(m => control.ca.dir.startsWith(`${m.mountPath}/`));
  check('control.yaml: the CA keeps its state on a writable volume (the root filesystem is read-only)',
        stateMount && !stateMount.readOnly && pod.volumes.find(v => v.name === stateMount.name)?.emptyDir,
        control.ca.dir);
}

// --- non-default values ----------------------------------------------------
// The operator's CA: any valid base64 PEM will do (the default render's).
const customCa = def.objects.length
  ? one(def.objects, 'MutatingWebhookConfiguration').webhooks[0].clientConfig.caBundle : 'Y2E=';
const custom = template([
  '--set', 'replicas=1', '--set', 'injection.nativeSidecar=false', '--set', 'injection.failurePolicy=Ignore',
  '--set', 'injection.reinvocationPolicy=Never', '--set', 'injection.timeoutSeconds=5',
  '--set', 'image.repository=registry.example/mesh/sluice', '--set', 'image.tag=1.2.3',
  '--set', 'image.pullPolicy=Always',
  '--set', 'sidecar.image.repository=registry.example/mesh/sluice-debug',
  '--set', 'sidecar.resources.limits.memory=1Gi', '--set', 'trustDomain=prod.example',
  '--set', 'injection.certSecret=webhook-from-cert-manager', '--set', `injection.caBundle=${customCa}`,
  '--set', 'ca.rootSecret=corp-root', '--set-json', 'mesh={"routes":[]}',
]);
if (check('helm template with non-default values', custom.status === 0, custom.stderr)) {
  validates('non-default values', custom);
  const o = custom.objects;
  const dep = one(o, 'Deployment');
  const c = dep.spec.template.spec.containers[0];
  const whs = one(o, 'MutatingWebhookConfiguration').webhooks;
  const control = YAML.parse(one(o, 'ConfigMap').data['control.yaml']);
  check('replicas 1: one replica and no PodDisruptionBudget',
        dep.spec.replicas === 1 && find(o, 'PodDisruptionBudget').length === 0);
  check('custom image', c.image === 'registry.example/mesh/sluice:1.2.3' && c.imagePullPolicy === 'Always');
  check('custom sidecar image (tag from image.tag) and resources',
        control.injection.image === 'registry.example/mesh/sluice-debug:1.2.3' &&
        control.injection.resources.limits.memory === '1Gi');
  check('classic sidecar', control.injection.native_sidecar === false);
  check('failure policy Ignore, in both webhooks and the config',
        whs.length === 2 && control.injection.failure_policy === 'Ignore' &&
        whs.every(wh => wh.failurePolicy === 'Ignore' && wh.reinvocationPolicy === 'Never' && wh.timeoutSeconds === 5));
  check('operator\'s certificates: no generated Secret, their caBundle in both webhooks, their Secrets mounted',
        find(o, 'Secret').length === 0 && whs.every(wh => wh.clientConfig.caBundle === customCa) &&
        isDeepStrictEqual(dep.spec.template.spec.volumes.filter(v => v.secret).map(v => v.secret.secretName).sort(),
                          ['corp-root', 'webhook-from-cert-manager']));
  check('trust domain everywhere', control.ca.trust_domain === 'prod.example' &&
        control.mesh.trust_domain === 'prod.example' && isDeepStrictEqual(control.mesh.routes, []));
}
{
  const three = template(['--set', 'replicas=3', '--set', 'podDisruptionBudget.minAvailable=2']);
  check('replicas 3: a PDB with minAvailable 2',
        three.status === 0 && one(three.objects, 'PodDisruptionBudget')?.spec.minAvailable === 2, three.stderr);
  const older = template(['--kube-version', '1.28.9', '--set', 'injection.nativeSidecar=false']);
  check('Kubernetes 1.28 with classic sidecars', older.status === 0, older.stderr);
  const off = template(['--set', 'podDisruptionBudget.enabled=false']);
  check('PDB disabled', off.status === 0 && find(off.objects, 'PodDisruptionBudget').length === 0, off.stderr);
}

{
  // Release "sluice", as the README installs it: the names the issue's
  // example and the webhook certificate use.
  const r = run(helm, ['template', 'sluice', chart, '--namespace', 'sluice-system']);
  const objects = YAML.parseAllDocuments(r.stdout).map(d => d.toJS()).filter(o => o);
  const leaf = r.status === 0 && new X509Certificate(b64(one(objects, 'Secret', '-webhook-tls').data['tls.crt']));
  check('release "sluice": Service sluice-control, certificate for sluice-control.sluice-system.svc',
        r.status === 0 && one(objects, 'Service').metadata.name === 'sluice-control' &&
        leaf.checkHost('sluice-control.sluice-system.svc') === 'sluice-control.sluice-system.svc', r.stderr);
}

// --- bad values are refused, with the reason -------------------------------
for (const [sets, message] of [
  [['--set', 'replicas=0'], "at '/replicas': minimum: got 0, want 1"],
  [['--set', 'replicas=two'], "at '/replicas'"],
  [['--set', 'injection.failurePolicy=Maybe'], "at '/injection/failurePolicy': value must be one of 'Fail', 'Ignore'"],
  [['--set', 'injection.nativeSidecar=yes'], "at '/injection/nativeSidecar'"],
  [['--set', 'injection.reinvocationPolicy=Always'], "at '/injection/reinvocationPolicy'"],
  [['--set', 'image.pullPolicy=Sometimes'], "at '/image/pullPolicy'"],
  [['--set', 'image.repository=Bad Name'], "at '/image/repository'"],
  [['--set', 'trustDomain=Not/A/Domain'], "at '/trustDomain'"],
  [['--set', 'sidecar.resources.limits.memory=lots'], "at '/sidecar/resources/limits/memory'"],
  [['--set', 'sidecar.resources.limits.gpu=1'], "additional properties 'gpu' not allowed"],
  [['--set', 'ca.defaultTtl=1day'], "at '/ca/defaultTtl'"],
  [['--set', 'injection.caBundle=not base64!'], "at '/injection/caBundle'"],
  [['--set', 'replica=3'], "additional properties 'replica' not allowed"],
  [['--set', 'podDisruptionBudget.minAvailable=0'], "at '/podDisruptionBudget/minAvailable'"],
  [['--set', 'replicas=2', '--set', 'podDisruptionBudget.minAvailable=2'],
   'podDisruptionBudget.minAvailable (2) must be less than replicas (2)'],
  [['--set', 'injection.certSecret=mine'], 'injection.caBundle is required with injection.certSecret'],
  [['--set-json', 'mesh={"trust_domain":"x"}'], 'mesh.trust_domain: set trustDomain instead'],
  [['--kube-version', '1.28.9'], 'injection.nativeSidecar needs Kubernetes 1.29 or later (this cluster: v1.28.9)'],
  [['--kube-version', '1.22.0', '--set', 'injection.nativeSidecar=false'], 'chart requires kubeVersion: >=1.23.0-0'],
]) {
  const r = template(sets);
  check(`refused: ${sets.filter(s => !s.startsWith('--set')).join(' ')}`,
        r.status !== 0 && r.stderr.includes(message), r.status === 0 ? 'rendered' : r.stderr.trim());
}

// --- sluice-control takes the rendered config and root --------------------
// The control.yaml of the default render, its paths moved into a temp dir
// and its servers onto loopback port 0, with the rendered CA root: the
// daemon must start, build its CA from that root and report ready (without
// the kubernetes: block, as no API server runs here).
async function daemonCheck() {
  if (!controlBin) return check('sluice-control given (--sluice-control BIN)', false);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-chart-'));
  let child;
  try {
    const o = def.objects;
    const root = one(o, 'Secret', '-ca-root');
    const webhook = one(o, 'Secret', '-webhook-tls');
    const control = YAML.parse(one(o, 'ConfigMap').data['control.yaml']);
    // /etc/sluice/ca/tls.crt -> DIR/ca/tls.crt, with the Secret's bytes.
    const place = (file, secret) => {
      const local = path.join(dir, path.basename(path.dirname(file)) + '-' + path.basename(file));
      writeFileSync(local, Buffer.from(secret.data[path.basename(file)], 'base64'), {mode: 0o600});
      return local;
    };
    control.ca.root = {cert: place(control.ca.root.cert, root), key: place(control.ca.root.key, root)};
    control.ca.token_keys = control.ca.token_keys.map(f => place(f, root));
    control.ca.dir = path.join(dir, 'ca-state');
    control.injection.webhook.cert_file = place(control.injection.webhook.cert_file, webhook);
    control.injection.webhook.key_file = place(control.injection.webhook.key_file, webhook);
    control.injection.webhook.address = '127.0.0.1:0';
    control.ads.address = '127.0.0.1:0';
    control.admin.address = '127.0.0.1:0';
    const file = path.join(dir, 'control.yaml');
    writeFileSync(file, YAML.stringify(control));
    const v = run(controlBin, ['validate', '-c', file]);
    if (!check('sluice-control validate takes the rendered control.yaml', v.status === 0, v.stdout + v.stderr)) return;
    // No API server here: the daemon runs on the file alone.
    if (control.kubernetes) {
      delete control.kubernetes;
      writeFileSync(file, YAML.stringify(control));
    }

    const addrFile = path.join(dir, 'addresses');
    let log = '';
    child = spawn(controlBin, ['-c', file, '--address-path', addrFile], {stdio: ['ignore', 'pipe', 'pipe']});
    child.stdout.on('data', d => { log += d; });
    child.stderr.on('data', d => { log += d; });
    let admin = '';
    for (let i = 0; i < 100 && !admin; i++) {  // up to 10 s
      await new Promise(r => setTimeout(r, 100));
      if (existsSync(addrFile)) admin = (readFileSync(addrFile, 'utf8').match(/^admin (\S+)$/m) || [])[1] || '';
      if (child.exitCode !== null) break;
    }
    if (!check('sluice-control starts on the rendered config', admin !== '', log)) return;
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {  // up to 5 s
      status = await new Promise(resolve => {
        get(`http://${admin}/ready`, res => { res.resume(); resolve(res.statusCode); }).on('error', () => resolve(0));
      });
      if (status !== 200) await new Promise(r => setTimeout(r, 100));
    }
    check('sluice-control is ready, its CA built from the chart\'s root',
          status === 200 && log.includes(`root from ${control.ca.root.cert}`), `/ready ${status}; ${log}`);
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise(r => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, {recursive: true, force: true});
  }
}
await daemonCheck();

if (failures > 0) {
  console.log(`${failures} check(s) failed`);
  process.exit(1);
}
console.log('all checks passed');
