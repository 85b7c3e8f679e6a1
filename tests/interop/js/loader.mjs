// Offline JSON-LD document loader for the interoperability CLI.
//
// Contexts come from the folder named by PASSPORT_CONTEXTS_DIR (the project's
// bundled credentials/contexts). did:key identifiers resolve locally, and a
// request may supply more documents by URL (did:web documents, status list
// credentials). Any other URL is rejected, so no test can reach the network
// through jsonld.js.

import {readFile} from 'node:fs/promises';
import {join} from 'node:path';

import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';

const DID_CONTEXT_URL = 'https://www.w3.org/ns/did/v1';
const MULTIKEY_CONTEXT_URL = 'https://w3id.org/security/multikey/v1';

// Used when the contexts folder has no index.json.
export const DEFAULT_CONTEXT_FILES = Object.freeze({
  'credentials-v2.jsonld': 'https://www.w3.org/ns/credentials/v2',
  'credentials-undefined-terms-v2.jsonld':
    'https://www.w3.org/ns/credentials/undefined-terms/v2',
  'data-integrity-v2.jsonld': 'https://w3id.org/security/data-integrity/v2',
  'multikey-v1.jsonld': MULTIKEY_CONTEXT_URL,
  'did-v1.jsonld': DID_CONTEXT_URL,
  'ob-v3p0-context-3.0.3.json':
    'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
  'staff-passport-training-v1.jsonld':
    'https://staff-passport.example/contexts/training/v1'
});

/**
 * Read the context URL to file name map from `index.json`, or return null
 * when the folder has none.
 *
 * Accepted shapes: an object from file name to URL or from URL to file name
 * (distinguished by which side contains "://"), optionally nested under a
 * "contexts" key, or a list of objects with a "url" and a "file" (or
 * "filename" or "path") field.
 */
async function readIndex(directory) {
  let text;
  try {
    text = await readFile(join(directory, 'index.json'), 'utf8');
  } catch(error) {
    if(error.code === 'ENOENT') {
      return null;
    }
    throw error;
  }
  let index = JSON.parse(text);
  if(index && !Array.isArray(index) && typeof index.contexts === 'object') {
    index = index.contexts;
  }
  const urlToFile = new Map();
  if(Array.isArray(index)) {
    for(const entry of index) {
      const file = entry?.file ?? entry?.filename ?? entry?.path;
      if(typeof entry?.url !== 'string' || typeof file !== 'string') {
        throw new Error(
          `Invalid entry ${JSON.stringify(entry)} in ${directory}/index.json: ` +
          'expected an object with "url" and "file" strings; fix the index.');
      }
      urlToFile.set(entry.url, file);
    }
    return urlToFile;
  }
  if(!index || typeof index !== 'object') {
    throw new Error(
      `Invalid ${directory}/index.json: expected an object or a list ` +
      'mapping context URLs to file names; fix the index.');
  }
  for(const [key, value] of Object.entries(index)) {
    if(typeof value !== 'string') {
      // Metadata fields (a version, a comment object) are not mappings.
      continue;
    }
    if(key.includes('://')) {
      urlToFile.set(key, value);
    } else if(value.includes('://')) {
      urlToFile.set(value, key);
    }
  }
  return urlToFile;
}

/**
 * Return the URL to file name map of the contexts in `directory`: the
 * folder's index.json, or the default mapping when it has none.
 */
export async function contextFiles(directory) {
  if(!directory) {
    throw new Error(
      'PASSPORT_CONTEXTS_DIR is not set; set it to the project\'s ' +
      'credentials/contexts folder.');
  }
  const index = await readIndex(directory);
  return index ?? new Map(
    Object.entries(DEFAULT_CONTEXT_FILES).map(([file, url]) => [url, file]));
}

// Files are read on first use, so a mapped file that is not written yet only
// fails the documents that use its URL.
async function readContext({directory, url, file}) {
  let text;
  try {
    text = await readFile(join(directory, file), 'utf8');
  } catch(error) {
    throw new Error(
      `Cannot load context ${url}: reading ${JSON.stringify(file)} in ` +
      `${directory} failed (${error.message}); bundle that file.`);
  }
  return JSON.parse(text);
}

/**
 * Return the Ed25519 public key fingerprint (z6Mk...) of a did:key, or
 * throw when it is not a well-formed Ed25519 did:key.
 */
async function ed25519Fingerprint(did) {
  const fingerprint = did.slice('did:key:'.length);
  let keyPair;
  try {
    keyPair = await Ed25519Multikey.from({
      '@context': MULTIKEY_CONTEXT_URL,
      type: 'Multikey',
      publicKeyMultibase: fingerprint
    });
  } catch(error) {
    throw new Error(
      `Invalid did:key ${JSON.stringify(did)}: ${error.message}`);
  }
  // The library strips a two-byte header without checking it, so re-encode
  // and compare to reject keys that are not Ed25519 (multicodec 0xed01).
  const {publicKey} = await keyPair.export({publicKey: true, raw: true});
  const {publicKeyMultibase} = await keyPair.export({publicKey: true});
  if(publicKey.length !== 32 || publicKeyMultibase !== fingerprint) {
    throw new Error(
      `Invalid did:key ${JSON.stringify(did)}: expected an Ed25519 public ` +
      'key (multicodec 0xed01, 32 bytes) encoded as base58btc.');
  }
  return fingerprint;
}

/** Build the DID document of an Ed25519 did:key with one Multikey. */
export async function resolveDidKey(did) {
  const fingerprint = await ed25519Fingerprint(did);
  const verificationMethodId = `${did}#${fingerprint}`;
  return {
    '@context': [DID_CONTEXT_URL, MULTIKEY_CONTEXT_URL],
    id: did,
    verificationMethod: [{
      id: verificationMethodId,
      type: 'Multikey',
      controller: did,
      publicKeyMultibase: fingerprint
    }],
    assertionMethod: [verificationMethodId],
    authentication: [verificationMethodId],
    capabilityInvocation: [verificationMethodId],
    capabilityDelegation: [verificationMethodId]
  };
}

async function loadDidKey(url) {
  const [did, fragment] = url.split('#', 2);
  const didDocument = await resolveDidKey(did);
  if(fragment === undefined) {
    return didDocument;
  }
  const method = didDocument.verificationMethod.find(vm => vm.id === url);
  if(!method) {
    throw new Error(
      `Verification method ${JSON.stringify(url)} not found: a did:key ` +
      `only has ${JSON.stringify(didDocument.verificationMethod[0].id)}.`);
  }
  return {'@context': MULTIKEY_CONTEXT_URL, ...method};
}

// Return a document the caller supplied: a status list credential, a DID
// document, or one verification method of a supplied DID document when the
// URL names it with a fragment.
function suppliedDocument(documents, url) {
  if(typeof url !== 'string') {
    return undefined;
  }
  if(Object.hasOwn(documents, url)) {
    return structuredClone(documents[url]);
  }
  const [base, fragment] = url.split('#', 2);
  if(fragment === undefined || !Object.hasOwn(documents, base)) {
    return undefined;
  }
  const methods = documents[base].verificationMethod ?? [];
  const method = methods.find(vm => vm.id === url);
  if(!method) {
    throw new Error(
      `Verification method ${JSON.stringify(url)} is not in the supplied ` +
      `DID document of ${JSON.stringify(base)}.`);
  }
  return {'@context': MULTIKEY_CONTEXT_URL, ...structuredClone(method)};
}

/**
 * Create a jsonld.js document loader over the contexts in `directory`
 * (default: env PASSPORT_CONTEXTS_DIR) and the `documents` supplied by URL,
 * such as did:web documents and status list credentials.
 */
export async function createDocumentLoader(
  directory = process.env.PASSPORT_CONTEXTS_DIR, documents = {}) {
  const files = await contextFiles(directory);
  const contexts = new Map();
  return async function documentLoader(url) {
    const supplied = suppliedDocument(documents, url);
    if(supplied !== undefined) {
      return {contextUrl: null, documentUrl: url, document: supplied};
    }
    if(files.has(url)) {
      if(!contexts.has(url)) {
        contexts.set(
          url, await readContext({directory, url, file: files.get(url)}));
      }
      // Hand out a copy, so a caller that changes it cannot alter the cache.
      return {
        contextUrl: null,
        documentUrl: url,
        document: structuredClone(contexts.get(url))
      };
    }
    if(typeof url === 'string' && url.startsWith('did:key:')) {
      return {
        contextUrl: null,
        documentUrl: url,
        document: await loadDidKey(url)
      };
    }
    throw new Error(
      `Document loader rejected ${JSON.stringify(url)}: only the contexts in ` +
      `${directory}, did:key and the supplied documents are resolved ` +
      'offline.');
  };
}
