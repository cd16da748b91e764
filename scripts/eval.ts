/**
 * The project's quality gate.
 *   npm run eval -- [--kb FILE.jsonl] [--cases FILE.jsonl ...] [--train FILE.jsonl] [--threshold X] [--json]
 * Without --kb/--cases it evaluates the built-in test split (data/intents/test.jsonl + data/eval/).
 * Bad input (missing file, malformed line, unknown intent or FAQ id) → a message naming the line, exit 2.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createEmbeddedEngine } from '#adapters/engineFactory';
import { normalizeIntent } from '#core/knowledgeBase';
import { INTENTS } from '#core/types';
import {
  DatasetError,
  loadBuiltInKnowledgeBase,
  loadIntentSplit,
  loadKnowledgeBaseFile,
  loadRetrievalEval,
  loadStandardParaphrases,
  ROOT,
  readJsonl,
  readJsonlLines,
} from './datasets';
import { type EvaluationCase, type EvaluationReport, evaluate, formatReport } from './evaluation';

const intentLabel = z.string().transform((value, ctx) => {
  const intent = normalizeIntent(value);
  if (!intent)
    ctx.addIssue({
      code: 'custom',
      message: `unknown intent label "${value}" (expected one of ${INTENTS.join(', ')})`,
    });
  return intent ?? z.NEVER;
});

const caseSchema = z
  .object({
    text: z.string().min(1, 'text must not be empty'),
    intent: intentLabel.optional(),
    faqId: z
      .union([z.string().min(1), z.number()])
      .transform(String)
      .nullable()
      .optional(),
    productArea: z.string().optional(),
  })
  .passthrough()
  .refine((c) => c.intent !== undefined || c.faqId !== undefined, 'a case needs "intent" or "faqId"');
const trainSchema = z.object({ text: z.string().min(1), intent: intentLabel }).passthrough();

async function main(): Promise<EvaluationReport> {
  const { values } = parseArgs({
    options: {
      kb: { type: 'string' },
      cases: { type: 'string', multiple: true },
      train: { type: 'string', multiple: true },
      threshold: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const faqs = values.kb ? loadKnowledgeBaseFile(values.kb) : loadBuiltInKnowledgeBase();
  const cases: (EvaluationCase & { readonly file: string })[] = values.cases?.length
    ? values.cases.flatMap((file) =>
        readJsonlLines(file, caseSchema).map(({ line, value }) => ({ ...value, file: `${file}:${line}` })),
      )
    : [
        ...loadIntentSplit('test').map((c) => ({
          text: c.text,
          intent: c.intent,
          file: 'data/intents/test.jsonl',
        })),
        ...loadRetrievalEval('test').map((c) => ({ ...c, file: 'data/eval (test split)' })),
        ...loadStandardParaphrases('test').map((c) => ({
          ...c,
          file: 'data/eval/paraphrase-standard (test half)',
        })),
      ];
  const known = new Set(faqs.map((f) => f.id));
  for (const c of cases) {
    if (c.faqId && !known.has(c.faqId)) {
      throw new DatasetError(
        `${c.file}: case "${c.text.slice(0, 60)}" names FAQ ${c.faqId}, which is not in the KB`,
      );
    }
  }
  const extra = (values.train ?? []).flatMap((file) => readJsonl(file, trainSchema));
  const threshold = values.threshold === undefined ? undefined : Number(values.threshold);
  if (threshold !== undefined && !(threshold >= 0 && threshold <= 1)) {
    throw new DatasetError(`--threshold must be a number within [0, 1], got ${values.threshold}`);
  }
  if (!values.json) console.error(`evaluating ${cases.length} cases against ${faqs.length} FAQs…`);
  const engine = await createEmbeddedEngine({
    faqs,
    confidenceThreshold: threshold,
    embeddingCachePath: join(ROOT, '.cache', 'eval-embeddings.jsonl'),
  });
  if (extra.length) await engine.learnExamples(extra.map((e) => ({ text: e.text, intent: e.intent })));
  const report = await evaluate(engine, cases);
  if (values.json) console.log(JSON.stringify(report));
  else console.log(formatReport(report));
  return report;
}

main().catch((error) => {
  if (
    error instanceof DatasetError ||
    (error instanceof Error && error.name === 'TypeError' && 'code' in error)
  ) {
    console.error(`eval: ${error.message}`);
    process.exit(2);
  }
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
