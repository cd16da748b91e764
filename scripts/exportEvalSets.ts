/**
 * Writes the secondary evaluation sets used in the closing notes to .cache/eval/ (derived from public data,
 * so they are generated rather than committed):
 *   banking77-holdout.jsonl  intent cases from the 20 % of banking77 never trained on (second source)
 *   clinc-oos.jsonl          CLINC150 validation out-of-scope queries as unanswerable cases (faqId null)
 *   mixed.jsonl              paraphrase-standard 'test' half + clinc-oos + the unanswerable 'test' cases of data/eval
 *   npm run eval -- --cases .cache/eval/mixed.jsonl
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBanking77, loadClinc, loadRetrievalEval, loadStandardParaphrases, ROOT } from './datasets';

const out = join(ROOT, '.cache', 'eval');
mkdirSync(out, { recursive: true });
const jsonl = (rows: readonly object[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

const banking = loadBanking77('holdout').map(({ text, intent }) => ({ text, intent }));
const oos = loadClinc('val')
  .filter((c) => !c.inScope)
  .map((c) => ({ text: c.text, faqId: null }));
const standard = loadStandardParaphrases('test');
const inDomainNulls = loadRetrievalEval('test').filter((c) => c.faqId === null);

writeFileSync(join(out, 'banking77-holdout.jsonl'), jsonl(banking));
writeFileSync(join(out, 'clinc-oos.jsonl'), jsonl(oos));
writeFileSync(join(out, 'mixed.jsonl'), jsonl([...standard, ...oos, ...inDomainNulls]));
console.log(
  `wrote ${out}: banking77-holdout ${banking.length}, clinc-oos ${oos.length}, mixed ${standard.length + oos.length + inDomainNulls.length}`,
);
