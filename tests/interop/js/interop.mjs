// Sign and verify W3C Verifiable Credentials and Presentations with Digital
// Bazaar's Data Integrity libraries, driven by JSON on stdin.
//
// Input: one request object, or a JSON array of them (one node start for a
// batch). Output on stdout: one response object, or an array of responses in
// request order. Every request has an "operation":
//
//   generate-key         {seed?: 64 hex chars}
//                        -> {key: Multikey with secretKeyMultibase}
//   sign-credential      {credential, key, suite, created?}
//                        -> {document}
//   verify-credential    {credential, now?} -> {verified, error, errors}
//   sign-presentation    {presentation, key, suite, challenge, domain?,
//                         created?} -> {document}
//   verify-presentation  {presentation, challenge, domain?, now?}
//                        -> {verified, error, errors, credentialResults}
//   check-status         {credential, documents}
//                        -> {verified, error, statuses: [{statusPurpose,
//                            statusListIndex, status}]}
//   encode-status-list   {length, set: [index...]} -> {encodedList}
//   decode-status-list   {encodedList, indexes: [index...]}
//                        -> {length, statuses: [bool...]}
//
// check-status runs @digitalbazaar/vc-bitstring-status-list's checkStatus,
// which loads each status list credential through the document loader,
// verifies it and reads the credential's bit. "documents" maps URLs to the
// status list credentials and did:web documents it may load.
//
// "suite" is "eddsa-rdfc-2022" or "eddsa-jcs-2022". "key" is a Multikey
// document with publicKeyMultibase and secretKeyMultibase; a missing
// controller and id default to the did:key of that public key. A failed
// request returns {error} in place of its response, and the process exits
// with status 1 when any request failed. Verification failures are normal
// results (verified: false), not failed requests.

const SUITES = ['eddsa-rdfc-2022', 'eddsa-jcs-2022'];

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', chunk => chunks.push(chunk));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

function writeJson(value, exitCode) {
  process.stdout.write(JSON.stringify(value) + '\n', () => {
    process.exit(exitCode);
  });
}

function describe(error) {
  if(error instanceof Error) {
    return error.message || error.name;
  }
  return String(error);
}

// Collect the messages of an error and of the errors nested in it
// (jsonld-signatures wraps proof failures in a VerificationError whose
// `errors` contains the causes).
function errorMessages(error, into = []) {
  if(!error) {
    return into;
  }
  if(Array.isArray(error)) {
    for(const item of error) {
      errorMessages(item, into);
    }
    return into;
  }
  // jsonld.js puts a document loader's own error in `details.cause`.
  const cause = error.cause ?? error.details?.cause;
  const nested = error.errors ?? (cause ? [cause] : []);
  const message = describe(error);
  if(!(error.name === 'VerificationError' && nested.length > 0)) {
    into.push(message);
  }
  errorMessages(nested, into);
  return into;
}

function resultMessages(result, into = []) {
  if(!result) {
    return into;
  }
  errorMessages(result.error, into);
  for(const entry of result.results ?? []) {
    errorMessages(entry.error, into);
    errorMessages(entry.purposeResult?.error, into);
  }
  resultMessages(result.presentationResult, into);
  for(const credentialResult of result.credentialResults ?? []) {
    resultMessages(credentialResult, into);
  }
  return [...new Set(into)];
}

function verificationResponse(result) {
  const errors = resultMessages(result);
  const response = {
    verified: result.verified === true,
    error: errors.length > 0 ? errors.join('; ') : null,
    errors
  };
  if(result.credentialResults) {
    response.credentialResults = result.credentialResults.map(entry => ({
      id: entry.credentialId ?? null,
      verified: entry.verified === true,
      errors: resultMessages(entry)
    }));
  }
  return response;
}

function requireObject(request, field) {
  const value = request[field];
  if(!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(
      `Request field "${field}" is ${JSON.stringify(value)}; expected a ` +
      'JSON object.');
  }
  return structuredClone(value);
}

function requireString(request, field) {
  const value = request[field];
  if(typeof value !== 'string' || value === '') {
    throw new TypeError(
      `Request field "${field}" is ${JSON.stringify(value)}; expected a ` +
      'non-empty string.');
  }
  return value;
}

function parseSeed(seed) {
  if(typeof seed !== 'string' || !/^[0-9a-fA-F]{64}$/.test(seed)) {
    throw new TypeError(
      `Seed ${JSON.stringify(seed)} is invalid; expected 64 hexadecimal ` +
      'characters (32 bytes).');
  }
  return Uint8Array.from(Buffer.from(seed, 'hex'));
}

class Interop {
  constructor({vc, DataIntegrityProof, Ed25519Multikey, rdfc, jcs,
    documentLoader, statusList, loader}) {
    Object.assign(this, {
      vc, DataIntegrityProof, Ed25519Multikey, rdfc, jcs, documentLoader,
      statusList, loader
    });
  }

  static async create() {
    // Imported here so a missing npm install still yields a JSON error.
    const [
      vc, dataIntegrity, Ed25519Multikey, rdfcModule, jcsModule, loader,
      statusList
    ] = await Promise.all([
      import('@digitalbazaar/vc'),
      import('@digitalbazaar/data-integrity'),
      import('@digitalbazaar/ed25519-multikey'),
      import('@digitalbazaar/eddsa-rdfc-2022-cryptosuite'),
      import('@digitalbazaar/eddsa-jcs-2022-cryptosuite'),
      import('./loader.mjs'),
      import('@digitalbazaar/vc-bitstring-status-list')
    ]);
    return new Interop({
      vc,
      DataIntegrityProof: dataIntegrity.DataIntegrityProof,
      Ed25519Multikey,
      rdfc: rdfcModule.cryptosuite,
      jcs: {
        sign: jcsModule.createSignCryptosuite(),
        verify: jcsModule.createVerifyCryptosuite()
      },
      documentLoader: await loader.createDocumentLoader(),
      statusList,
      loader
    });
  }

  async importKey(document) {
    const key = {...document, type: document.type ?? 'Multikey'};
    key['@context'] ??= 'https://w3id.org/security/multikey/v1';
    if(typeof key.publicKeyMultibase !== 'string') {
      throw new TypeError(
        `Key ${JSON.stringify(key.id ?? null)} has no publicKeyMultibase; ` +
        'pass a Multikey document.');
    }
    if(typeof key.secretKeyMultibase !== 'string') {
      throw new TypeError(
        `Key ${JSON.stringify(key.id ?? key.publicKeyMultibase)} has no ` +
        'secretKeyMultibase; signing needs the secret key.');
    }
    key.controller ??= `did:key:${key.publicKeyMultibase}`;
    key.id ??= `${key.controller}#${key.publicKeyMultibase}`;
    return this.Ed25519Multikey.from(key);
  }

  signingSuite({suite, keyPair, created}) {
    let cryptosuite;
    if(suite === 'eddsa-rdfc-2022') {
      cryptosuite = this.rdfc;
    } else if(suite === 'eddsa-jcs-2022') {
      cryptosuite = this.jcs.sign;
    } else {
      throw new TypeError(
        `Suite ${JSON.stringify(suite)} is not supported; expected one of ` +
        `${SUITES.join(', ')}.`);
    }
    return new this.DataIntegrityProof({
      signer: keyPair.signer(), cryptosuite, date: created
    });
  }

  // Verification accepts either suite, as a verifier facing both would.
  verificationSuites() {
    return [
      new this.DataIntegrityProof({cryptosuite: this.rdfc}),
      new this.DataIntegrityProof({cryptosuite: this.jcs.verify})
    ];
  }

  async generateKey(request) {
    const options = {};
    if(request.seed !== undefined) {
      options.seed = parseSeed(request.seed);
    }
    const generated = await this.Ed25519Multikey.generate(options);
    const exported = await generated.export({
      publicKey: true, secretKey: true, canonicalize: true
    });
    const controller = `did:key:${exported.publicKeyMultibase}`;
    const key = {
      '@context': exported['@context'],
      id: `${controller}#${exported.publicKeyMultibase}`,
      type: 'Multikey',
      controller,
      publicKeyMultibase: exported.publicKeyMultibase,
      secretKeyMultibase: exported.secretKeyMultibase
    };
    return {key};
  }

  async signCredential(request) {
    const credential = requireObject(request, 'credential');
    const keyPair = await this.importKey(requireObject(request, 'key'));
    credential.issuer ??= keyPair.controller;
    const suite = this.signingSuite({
      suite: requireString(request, 'suite'), keyPair, created: request.created
    });
    const document = await this.vc.issue({
      credential, suite, documentLoader: this.documentLoader
    });
    return {document};
  }

  async verifyCredential(request) {
    const result = await this.vc.verifyCredential({
      credential: requireObject(request, 'credential'),
      suite: this.verificationSuites(),
      documentLoader: this.documentLoader,
      now: request.now
    });
    return verificationResponse(result);
  }

  async signPresentation(request) {
    const presentation = requireObject(request, 'presentation');
    const keyPair = await this.importKey(requireObject(request, 'key'));
    const suite = this.signingSuite({
      suite: requireString(request, 'suite'), keyPair, created: request.created
    });
    const document = await this.vc.signPresentation({
      presentation,
      suite,
      challenge: requireString(request, 'challenge'),
      domain: request.domain,
      documentLoader: this.documentLoader
    });
    return {document};
  }

  async verifyPresentation(request) {
    const result = await this.vc.verify({
      presentation: requireObject(request, 'presentation'),
      suite: this.verificationSuites(),
      challenge: requireString(request, 'challenge'),
      domain: request.domain,
      documentLoader: this.documentLoader,
      now: request.now
    });
    return verificationResponse(result);
  }

  async checkStatus(request) {
    const documents = requireObject(request, 'documents');
    const documentLoader = await this.loader.createDocumentLoader(
      undefined, documents);
    const result = await this.statusList.checkStatus({
      credential: requireObject(request, 'credential'),
      documentLoader,
      suite: this.verificationSuites(),
      verifyBitstringStatusListCredential: true,
      verifyMatchingIssuers: true
    });
    return {
      verified: result.verified === true,
      error: result.error ? errorMessages(result.error).join('; ') : null,
      statuses: (result.results ?? []).map(entry => ({
        statusPurpose: entry.credentialStatus.statusPurpose,
        statusListIndex: entry.credentialStatus.statusListIndex,
        status: entry.status
      }))
    };
  }

  async encodeStatusList(request) {
    const list = await this.statusList.createList({length: request.length});
    for(const index of request.set ?? []) {
      list.setStatus(index, true);
    }
    return {encodedList: await list.encode()};
  }

  async decodeStatusList(request) {
    const list = await this.statusList.decodeList({
      encodedList: requireString(request, 'encodedList')
    });
    return {
      length: list.length,
      statuses: (request.indexes ?? []).map(index => list.getStatus(index))
    };
  }

  async handle(request) {
    if(!request || typeof request !== 'object' || Array.isArray(request)) {
      throw new TypeError(
        `Request ${JSON.stringify(request)} is invalid; expected a JSON ` +
        'object with an "operation".');
    }
    switch(request.operation) {
      case 'generate-key':
        return this.generateKey(request);
      case 'sign-credential':
        return this.signCredential(request);
      case 'verify-credential':
        return this.verifyCredential(request);
      case 'sign-presentation':
        return this.signPresentation(request);
      case 'verify-presentation':
        return this.verifyPresentation(request);
      case 'check-status':
        return this.checkStatus(request);
      case 'encode-status-list':
        return this.encodeStatusList(request);
      case 'decode-status-list':
        return this.decodeStatusList(request);
      default:
        throw new TypeError(
          `Operation ${JSON.stringify(request.operation)} is not supported; ` +
          'expected generate-key, sign-credential, verify-credential, ' +
          'sign-presentation, verify-presentation, check-status, ' +
          'encode-status-list or decode-status-list.');
    }
  }
}

async function main() {
  let input;
  try {
    input = JSON.parse(await readStdin());
  } catch(error) {
    writeJson({error: `Invalid JSON on stdin: ${describe(error)}`}, 1);
    return;
  }
  let interop;
  try {
    interop = await Interop.create();
  } catch(error) {
    const failure = {error: `Setup failed: ${describe(error)}`};
    writeJson(Array.isArray(input) ? input.map(() => failure) : failure, 1);
    return;
  }
  const requests = Array.isArray(input) ? input : [input];
  const responses = [];
  let failed = false;
  // One at a time, so a failure's messages stay attached to its request.
  for(const request of requests) {
    try {
      responses.push(await interop.handle(request));
    } catch(error) {
      failed = true;
      responses.push({error: describe(error)});
    }
  }
  writeJson(Array.isArray(input) ? responses : responses[0], failed ? 1 : 0);
}

for(const event of ['uncaughtException', 'unhandledRejection']) {
  process.on(event, error => {
    writeJson({error: `Unexpected ${event}: ${describe(error)}`}, 2);
  });
}

main();
