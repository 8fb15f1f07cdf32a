// A mesh workload asking sluice-control's CA for its certificate, as an
// independent client: @grpc/grpc-js loading proto/sluice/ca/v1/
// certificate_service.proto itself. Prints one JSON line:
//   {code, code_name, details, cert_chain: [PEM...], trust_bundle: [PEM...]}
//
//   NODE_PATH=.npm-deps/node_modules node ca_client.js TARGET ROOT_FILE CSR_FILE TOKEN [VALIDITY_SECONDS]
//
// Over TLS, verifying the CA's serving certificate against ROOT_FILE (the
// mesh root) and TARGET's host (grpc.credentials.createSsl); ROOT_FILE "-"
// is plaintext (the CA's `plaintext: true`). TOKEN "-" sends no
// authorization metadata. The call has a 10 s deadline;
// the process exits by itself.
'use strict';
const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [target, rootFile, csrFile, token, validity = '0'] = process.argv.slice(2);
const def = protoLoader.loadSync('sluice/ca/v1/certificate_service.proto', {
  keepCase: true,
  longs: String,
  defaults: true,
  includeDirs: [path.join(__dirname, '..', '..', '..', 'proto')],
});
const Service = grpc.loadPackageDefinition(def).sluice.ca.v1.CertificateService;
const codeName = (code) => Object.keys(grpc.status).find((k) => grpc.status[k] === code) || String(code);

const credentials =
  rootFile === '-' ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(fs.readFileSync(rootFile));
const client = new Service(target, credentials);
const metadata = new grpc.Metadata();
if (token !== '-') metadata.set('authorization', 'Bearer ' + token);
const request = { csr: fs.readFileSync(csrFile, 'utf8'), validity_seconds: validity };
client.CreateCertificate(request, metadata, { deadline: new Date(Date.now() + 10000) }, (err, reply) => {
  const out = err
    ? { code: err.code, details: err.details, cert_chain: [], trust_bundle: [] }
    : { code: 0, details: '', cert_chain: reply.cert_chain, trust_bundle: reply.trust_bundle };
  out.code_name = codeName(out.code);
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
});
