// validate_objects.mjs against fixtures: valid pod specs (native sidecars
// included) pass; each mistake in testdata/invalid_objects.yaml is named
// exactly as testdata/invalid_objects.expected says (a readable golden:
// update it with the validator's output when a message changes on purpose);
// stdin and --allow-kind work.
import {spawnSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const data = path.join(here, 'testdata');
const validator = path.join(here, 'validate_objects.mjs');
const run = (argv, input) => spawnSync('node', [validator, ...argv], {input, encoding: 'utf8'});

let failures = 0;
function check(name, ok, detail = '') {
  if (ok) console.log(`ok: ${name}`);
  else { failures++; console.log(`FAIL: ${name}${detail ? `:\n${detail}` : ''}`); }
}

const valid = run([path.join(data, 'valid_pods.yaml')]);
check('valid pod specs pass', valid.status === 0 && valid.stdout.trim() === '4 object(s) valid',
      valid.stdout + valid.stderr);

const invalidFile = path.join(data, 'invalid_objects.yaml');
const invalid = run([invalidFile]);
const got = invalid.stdout.split(`${invalidFile}: `).join('');
const want = readFileSync(path.join(data, 'invalid_objects.expected'), 'utf8');
check('each mistake is named with its object and field', invalid.status === 1 && got === want,
      `exit ${invalid.status}\n--- got\n${got}--- want\n${want}`);

const stdin = run(['-'], 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {}\n');
check('stdin, named <stdin>', stdin.status === 1 &&
      stdin.stdout.startsWith('<stdin>: document 1: Pod/p: spec: must have required property containers'),
      stdin.stdout);

const review = 'apiVersion: admission.k8s.io/v1\nkind: AdmissionReview\nrequest: {uid: x}\n';
const refused = run(['-'], review);
const allowed = run(['--allow-kind', 'admission.k8s.io/v1/AdmissionReview', '-'], review);
check('an unknown kind fails unless allowed', refused.status === 1 && allowed.status === 0,
      refused.stdout + allowed.stdout);

const broken = run(['-'], 'apiVersion: v1\nkind: Pod\nmetadata: {name: [unclosed\n');
check('a YAML syntax error fails', broken.status === 1 && /document 1: /.test(broken.stdout), broken.stdout);

if (failures > 0) {
  console.log(`${failures} check(s) failed`);
  process.exit(1);
}
console.log('all checks passed');
