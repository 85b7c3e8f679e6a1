// Time Digital Bazaar's verifyCredential and verify (presentations) on the
// documents the Python benchmark signed, in the same run.
//
// Input: a JSON file named by the first argument, {"credentials": {"eddsa-rdfc-2022": VC, "eddsa-jcs-2022": VC},
// "presentation": VP, "challenge": str, "domain": str, "seconds": number}.
// Output on stdout: {"name": {"mean_ms": number, "runs": number}, ...}.
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

// Run `operation` for about `seconds` after a warm-up. Return the median over
// ROUNDS rounds of the mean time per call, as the Python side measures it.
async function time(operation, seconds) {
  for(let i = 0; i < 20; ++i) {
    await operation();
  }
  const roundMeans = [];
  let calls = 0;
  for(let round = 0; round < ROUNDS; ++round) {
    const limit = seconds / ROUNDS * 1e9;
    let runs = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0n;
    while(elapsed < limit || runs < 5) {
      await operation();
      runs += 1;
      elapsed = process.hrtime.bigint() - start;
    }
    roundMeans.push(Number(elapsed) / 1e6 / runs);
    calls += runs;
  }
  roundMeans.sort((a, b) => a - b);
  return {mean_ms: roundMeans[Math.floor(ROUNDS / 2)], runs: calls};
}

function check(result, name) {
  if(!result.verified) {
    process.stderr.write(
      `${name} did not verify: ${JSON.stringify(result, null, 2)}\n`);
    process.exit(1);
  }
}

const input = JSON.parse(await readFile(process.argv[2], 'utf8'));
const documentLoader = await createDocumentLoader();
const suite = [
  new dataIntegrity.DataIntegrityProof({cryptosuite: rdfc}),
  new dataIntegrity.DataIntegrityProof({
    cryptosuite: jcs.createVerifyCryptosuite()
  })
];
const output = {};

for(const [name, credential] of Object.entries(input.credentials)) {
  const operation = () => vc.verifyCredential(
    {credential, suite, documentLoader});
  check(await operation(), name);
  output[`verify ${name}`] = await time(operation, input.seconds);
}

const presentation = () => vc.verify({
  presentation: input.presentation,
  challenge: input.challenge,
  domain: input.domain,
  suite,
  documentLoader
});
check(await presentation(), 'presentation');
output['verify presentation'] = await time(presentation, input.seconds);

// Node's own Ed25519 (OpenSSL), the floor under any JavaScript verifier.
const {publicKey, privateKey} = generateKeyPairSync('ed25519');
const data = Buffer.alloc(64, 7);
const signature = sign(null, data, privateKey);
const key = createPublicKey(publicKey.export({format: 'pem', type: 'spki'}));
output['raw Ed25519 verify'] = await time(
  async () => verify(null, data, key, signature), input.seconds);

process.stdout.write(JSON.stringify(output) + '\n');
