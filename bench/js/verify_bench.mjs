// Time Digital Bazaar's verifyCredential and verify (presentations) on the
// documents the Python benchmark signed, in the same run.
//
// Input: a JSON file named by the first argument, holding
// {"credentials": {"eddsa-rdfc-2022": VC, "eddsa-jcs-2022": VC},
//  "presentation": VP, "challenge": str, "domain": str, "seconds": number}.
// Output on stdout: {"name": {"mean_ms": number}, ...}.
// Every document must verify; a failure is printed to stderr and exits 1,
// because timing a failed verification would compare different work.

import {createPublicKey, generateKeyPairSync, sign, verify} from 'node:crypto';
import {readFile} from 'node:fs/promises';

import * as dataIntegrity from '@digitalbazaar/data-integrity';
import * as jcs from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {cryptosuite as rdfc} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as vc from '@digitalbazaar/vc';

import {createDocumentLoader} from './loader.mjs';

const ROUNDS = 7;

// Run each operation for about `seconds` after a warm-up, in ROUNDS rounds
// that take turns, and return the median over rounds of the mean time per
// call, as the Python side measures it.
async function timeInterleaved(operations, seconds) {
  const roundMeans = {};
  for(const [name, operation] of Object.entries(operations)) {
    roundMeans[name] = [];
    for(let i = 0; i < 20; ++i) {
      await operation();
    }
  }
  for(let round = 0; round < ROUNDS; ++round) {
    for(const [name, operation] of Object.entries(operations)) {
      const limit = seconds / ROUNDS * 1e9;
      let runs = 0;
      const start = process.hrtime.bigint();
      let elapsed = 0n;
      while(elapsed < limit || runs < 5) {
        await operation();
        runs += 1;
        elapsed = process.hrtime.bigint() - start;
      }
      roundMeans[name].push(Number(elapsed) / 1e6 / runs);
    }
  }
  const output = {};
  for(const [name, means] of Object.entries(roundMeans)) {
    means.sort((a, b) => a - b);
    output[name] = {mean_ms: means[Math.floor(ROUNDS / 2)]};
  }
  return output;
}

function check(result, name) {
  if(!result.verified) {
    process.stderr.write(
      `${name} did not verify: ${JSON.stringify(result, null, 2)}\n`);
    process.exit(1);
  }
}

const input = JSON.parse(await readFile(process.argv[2], 'utf8'));
// The test loader reads each context once but hands out a fresh copy and
// re-derives did:key documents on every call. Keep what it returns, as a
// production loader with a cache would, so the reference is timed at its best.
const uncachedLoader = await createDocumentLoader();
const loaded = new Map();
async function documentLoader(url) {
  if(!loaded.has(url)) {
    loaded.set(url, await uncachedLoader(url));
  }
  return loaded.get(url);
}
const suite = [
  new dataIntegrity.DataIntegrityProof({cryptosuite: rdfc}),
  new dataIntegrity.DataIntegrityProof({
    cryptosuite: jcs.createVerifyCryptosuite()
  })
];
const operations = {};

for(const [name, credential] of Object.entries(input.credentials)) {
  const operation = () => vc.verifyCredential(
    {credential, suite, documentLoader});
  check(await operation(), name);
  operations[`verify ${name}`] = operation;
}

const presentation = () => vc.verify({
  presentation: input.presentation,
  challenge: input.challenge,
  domain: input.domain,
  suite,
  documentLoader
});
check(await presentation(), 'presentation');
operations['verify presentation'] = presentation;

// Node's own Ed25519 (OpenSSL), the floor under any JavaScript verifier.
const {publicKey, privateKey} = generateKeyPairSync('ed25519');
const data = Buffer.alloc(64, 7);
const signature = sign(null, data, privateKey);
const key = createPublicKey(publicKey.export({format: 'pem', type: 'spki'}));
operations['raw Ed25519 verify'] = async () => verify(null, data, key, signature);

const output = await timeInterleaved(operations, input.seconds);
process.stdout.write(JSON.stringify(output) + '\n');
