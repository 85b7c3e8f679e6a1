// Canonicalize JSON-LD documents with jsonld.js and rdf-canonize (RDFC-1.0)
// in safe mode, for the differential canonicalization tests.
//
// Input: a JSON file named by the first argument holding a list of
// documents. Output on stdout: a list with, for each document in order,
// {"nquads": string} or {"error": message}. Contexts come from the offline
// loader, so nothing is fetched.

import {readFile} from 'node:fs/promises';

import jsonld from 'jsonld';

import {createDocumentLoader} from './loader.mjs';

const documents = JSON.parse(await readFile(process.argv[2], 'utf8'));
const documentLoader = await createDocumentLoader();
const results = [];
for(const document of documents) {
  try {
    const nquads = await jsonld.canonize(document, {
      algorithm: 'RDFC-1.0',
      format: 'application/n-quads',
      documentLoader,
      safe: true
    });
    results.push({nquads});
  } catch(error) {
    results.push({error: error.message || String(error)});
  }
}
process.stdout.write(JSON.stringify(results) + '\n');
