/**
 * Trains the engine's artefacts from data/ and ../shared/data:
 *   models/classifier.json   intent + product-area logistic models (embedding + lexical n-grams)
 *   models/retrieval.json    FAQ ranker (learned blend of BM25F and vector features) + confidence model
 *   models/kb-embeddings.jsonl  cached vectors of the built-in KB texts
 * Evaluation data (data/eval, data/intents/test.jsonl, the banking77 hold-out) is never read here.
 *
 *   npm run train [-- --quick]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmbeddingStore } from '#adapters/embeddingStore';
import { USE_LITE_MODEL, UseLiteEmbedder } from '#adapters/useLiteEmbedder';
import {
  CONFIDENCE_FEATURES,
  ConfidenceModel,
  confidenceFeatures,
  expectedCalibrationError,
  fitIsotonic,
} from '#core/confidence';
import { DEFAULT_CONFIDENCE_THRESHOLD } from '#core/escalationPolicy';
import { FaqRanker, fitScaler, listwiseAsLogistic, scale, trainListwiseRanker } from '#core/faqRanker';
import {
  type FaqVectors,
  faqEmbeddingTexts,
  faqVectorsFrom,
  KnowledgeIndex,
  RANKER_FEATURES,
} from '#core/knowledgeIndex';
import { type Example, fitTemperature, seededRandom, trainLogisticModel } from '#core/logisticRegression';
import {
  LEXICAL_DIM,
  lexicalFeatures,
  type SerializedClassifier,
  SupportClassifier,
} from '#core/supportClassifier';
import { hashString } from '#core/textAnalysis';
import { type Faq, INTENTS, type Intent, PRODUCT_AREAS, type ProductArea } from '#core/types';
import {
  inHoldout,
  loadBanking77,
  loadBuiltInKnowledgeBase,
  loadClinc,
  loadIntentSplit,
  loadRetrievalEval,
  loadStandardParaphrases,
  MODELS_DIR,
  ROOT,
} from './datasets';

const quick = process.argv.includes('--quick');
const log = (message: string) => console.log(`[train ${new Date().toISOString().slice(11, 19)}] ${message}`);

interface TextExample<K extends string> {
  readonly text: string;
  readonly label: K;
  readonly weight: number;
  readonly group: string;
}

async function main() {
  mkdirSync(MODELS_DIR, { recursive: true });
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  const useLite = await UseLiteEmbedder.load({ cacheSize: 100 });
  const kbStore = new EmbeddingStore(useLite, join(MODELS_DIR, 'kb-embeddings.jsonl'));
  const trainStore = new EmbeddingStore(useLite, join(ROOT, '.cache', 'train-embeddings.jsonl'));

  const faqs = loadBuiltInKnowledgeBase();
  const messages = loadIntentSplit('train');
  const banking = loadBanking77('train');
  const clinc = loadClinc('train');
  log(
    `KB ${faqs.length} FAQs, ${messages.length} labelled messages, banking77 ${banking.length}, CLINC ${clinc.length}`,
  );

  // ---- embeddings -------------------------------------------------------------------------------
  const kbTexts = faqs.flatMap(faqEmbeddingTexts);
  const kbVectors = await embedAll(kbStore, kbTexts, 'KB texts');
  kbStore.save(kbTexts);
  const random = seededRandom(11);
  const oosQueries = [
    ...clinc.filter((c) => !c.inScope).map((c) => c.text),
    ...clinc.filter((c) => c.inScope && random() < (quick ? 0.02 : 0.04)).map((c) => c.text),
  ];
  const otherTexts = [...messages.map((m) => m.text), ...banking.map((b) => b.text), ...oosQueries];
  await embedAll(trainStore, otherTexts, 'training texts');
  trainStore.save();
  const vectorOf = new Map<string, Float32Array>();
  kbTexts.forEach((t, i) => vectorOf.set(t, kbVectors[i]!));
  const otherVectors = await trainStore.embed(otherTexts);
  otherTexts.forEach((t, i) => vectorOf.set(t, otherVectors[i]!));
  let cursor = 0;
  const faqVectors = faqs.map((faq) => {
    const n = faq.alternates.length + 2;
    const v = faqVectorsFrom(faq, kbVectors.slice(cursor, cursor + n));
    cursor += n;
    return v;
  });

  // ---- classifier ---------------------------------------------------------------------------------
  const intentExamples: TextExample<Intent>[] = [
    ...messages.map((m) => ({ text: m.text, label: m.intent, weight: 1, group: 'messages' })),
    ...faqs.flatMap((f) =>
      f.intent
        ? [f.question, ...f.alternates].map((text) => ({ text, label: f.intent!, weight: 0.6, group: f.id }))
        : [],
    ),
    ...banking.map((b) => ({ text: b.text, label: b.intent, weight: 0.35, group: 'banking77' })),
  ];
  const areaExamples: TextExample<ProductArea>[] = [
    ...messages.map((m) => ({ text: m.text, label: m.productArea, weight: 1, group: 'messages' })),
    ...faqs.flatMap((f) =>
      f.productArea && (PRODUCT_AREAS as readonly string[]).includes(f.productArea)
        ? [f.question, ...f.alternates].map((text) => ({
            text,
            label: f.productArea as ProductArea,
            weight: 0.6,
            group: f.id,
          }))
        : [],
    ),
  ];
  const trainClassifier = (exclude: (group: string) => boolean): SerializedClassifier => {
    const fitLabels = <K extends string>(labels: readonly K[], examples: readonly TextExample<K>[]) => {
      const usable = examples.filter((e) => !exclude(e.group));
      const classWeight = balance(labels, usable);
      const toExample = (e: TextExample<K>): Example => ({
        dense: vectorOf.get(e.text)!,
        sparse: lexicalFeatures(e.text),
        label: labels.indexOf(e.label),
        weight: e.weight * classWeight[e.label],
      });
      const train = usable.filter((e) => !inHoldout(e.text, 0.1)).map(toExample);
      const held = usable.filter((e) => inHoldout(e.text, 0.1)).map(toExample);
      const model = trainLogisticModel(train, {
        classes: labels.length,
        denseDim: 512,
        sparseDim: LEXICAL_DIM,
        epochs: quick ? 6 : 14,
        learningRate: 0.005,
        l2: 1e-4,
        seed: 3,
      });
      model.temperature = fitTemperature(model, held);
      return { model: model.serialize(), heldAccuracy: accuracy(model, held) };
    };
    const intent = fitLabels(INTENTS, intentExamples);
    const area = fitLabels(PRODUCT_AREAS, areaExamples);
    return {
      version: new Date().toISOString().slice(0, 10),
      trainedAt: new Date().toISOString(),
      embeddingModel: USE_LITE_MODEL,
      lexicalDim: LEXICAL_DIM,
      intent: { labels: [...INTENTS], model: intent.model },
      productArea: { labels: [...PRODUCT_AREAS], model: area.model },
      metrics: { intentHeldOutAccuracy: intent.heldAccuracy, areaHeldOutAccuracy: area.heldAccuracy },
    };
  };
  const halfOf = (faqId: string) => hashString(faqId) % 2;
  log('training classifier');
  const classifierArtefact = trainClassifier(() => false);
  log(`classifier held-in accuracy ${JSON.stringify(classifierArtefact.metrics)}`);
  // Cross-fitted classifiers give the ranker priors on FAQs whose phrasings they never saw.
  const crossFit = [0, 1].map((half) => new SupportClassifier(trainClassifier((g) => halfOf(g) === half)));

  // ---- ranker -------------------------------------------------------------------------------------
  log('building leave-one-out folds');
  const folds = buildFolds(faqs, faqVectors);
  const classifyQuery = (text: string, faqId: string | null) =>
    crossFit[faqId ? halfOf(faqId) : 0]!.classify(text, vectorOf.get(text)!);
  // Dev paraphrases (data/eval 'dev' split) are real customer wording; the 'test' split is never read.
  const dev = [...loadRetrievalEval('dev'), ...loadStandardParaphrases('dev')];
  await embedAll(
    trainStore,
    dev.map((d) => d.text),
    'dev paraphrases',
  );
  for (const d of dev) vectorOf.set(d.text, (await trainStore.embed([d.text]))[0]!);
  trainStore.save();
  const fullIndex = new KnowledgeIndex(faqs, faqVectors, 512);
  const fullClassifier = new SupportClassifier(classifierArtefact);
  const sources: {
    index: KnowledgeIndex;
    queries: readonly FoldQuery[];
    classify: typeof classifyQuery;
    weight: number;
  }[] = [
    ...folds.map((fold) => ({
      index: fold.index,
      queries: fold.queries,
      classify: classifyQuery,
      weight: 1,
    })),
    {
      index: fullIndex,
      queries: dev,
      classify: (text: string) => fullClassifier.classify(text, vectorOf.get(text)!),
      weight: 2,
    },
  ];
  const rankingQueries: { rows: Float64Array[]; gold: number; weight: number }[] = [];
  for (const source of sources) {
    for (const q of source.queries) {
      if (!q.faqId) continue;
      const c = source.classify(q.text, q.faqId);
      const candidates = source.index.candidates(source.index.analyzeQuery(q.text, vectorOf.get(q.text)!), {
        intent: c.intent.distribution,
        productArea: c.productArea.distribution,
      });
      const gold = candidates.findIndex((x) => x.faq.id === q.faqId);
      if (gold < 0) continue;
      rankingQueries.push({ rows: candidates.map((x) => x.features), gold, weight: source.weight });
    }
  }
  const rankerScaler = fitScaler(rankingQueries.flatMap((q) => q.rows));
  const rankerWeights = trainListwiseRanker(
    rankingQueries.map((q) => ({
      candidates: q.rows.map((r) => scale(r, rankerScaler)),
      gold: q.gold,
      weight: q.weight,
    })),
    RANKER_FEATURES.length,
    { epochs: quick ? 10 : 40 },
  );
  const rankerModel = listwiseAsLogistic(rankerWeights);
  const ranker = new FaqRanker({
    features: [...RANKER_FEATURES],
    scaler: rankerScaler,
    model: rankerModel.serialize(),
  });
  const queryNumber = rankingQueries.length;
  log(
    `ranker trained on ${queryNumber} queries (${dev.length} dev paraphrases), weights ${RANKER_FEATURES.map((f, i) => `${f}=${rankerWeights[i]!.toFixed(2)}`).join(' ')}`,
  );

  // ---- confidence ---------------------------------------------------------------------------------
  const confidenceRows: { features: number[]; correct: boolean; text: string }[] = [];
  const addConfidenceRow = (
    index: KnowledgeIndex,
    text: string,
    faqId: string | null,
    classify: (text: string, faqId: string | null) => ReturnType<SupportClassifier['classify']>,
  ) => {
    const c = classify(text, faqId);
    const query = index.analyzeQuery(text, vectorOf.get(text)!);
    const ranked = ranker.rank(
      index.candidates(query, { intent: c.intent.distribution, productArea: c.productArea.distribution }),
    );
    confidenceRows.push({
      features: confidenceFeatures(ranked, c.intent.probability, query.terms.length),
      correct: faqId !== null && ranked[0]?.faq.id === faqId,
      text,
    });
  };
  for (const fold of folds)
    for (const q of fold.queries) addConfidenceRow(fold.index, q.text, q.faqId, classifyQuery);
  const classifyFull = (text: string) => fullClassifier.classify(text, vectorOf.get(text)!);
  for (const q of dev) addConfidenceRow(fullIndex, q.text, q.faqId, classifyFull);
  for (const text of oosQueries) addConfidenceRow(fullIndex, text, null, classifyFull);
  const isCalibrationRow = (text: string) => inHoldout(`calibration:${text}`, 0.3);
  const fitRows = confidenceRows.filter((r) => !isCalibrationRow(r.text));
  const calibrationRows = confidenceRows.filter((r) => isCalibrationRow(r.text));
  const confidenceScaler = fitScaler(fitRows.map((r) => r.features));
  const confidenceLogistic = trainLogisticModel(
    fitRows.map((r) => ({ dense: scale(r.features, confidenceScaler), label: r.correct ? 1 : 0 })),
    {
      classes: 2,
      denseDim: CONFIDENCE_FEATURES.length,
      epochs: quick ? 10 : 30,
      learningRate: 0.01,
      l2: 1e-3,
      seed: 9,
    },
  );
  const uncalibrated = new ConfidenceModel({
    features: [...CONFIDENCE_FEATURES],
    scaler: confidenceScaler,
    model: confidenceLogistic.serialize(),
    isotonic: { x: [], y: [] },
  });
  const rawScores = calibrationRows.map((r) => uncalibrated.raw(r.features));
  const isotonic = fitIsotonic(
    rawScores,
    calibrationRows.map((r) => (r.correct ? 1 : 0)),
  );
  const confidence = new ConfidenceModel({
    features: [...CONFIDENCE_FEATURES],
    scaler: confidenceScaler,
    model: confidenceLogistic.serialize(),
    isotonic,
  });
  const calibrated = calibrationRows.map((r) => confidence.confidence(r.features));
  const atThreshold = outcomeAt(
    calibrated,
    calibrationRows.map((r) => r.correct),
    DEFAULT_CONFIDENCE_THRESHOLD,
  );
  const retrievalArtefact = {
    version: new Date().toISOString().slice(0, 10),
    trainedAt: new Date().toISOString(),
    ranker: { features: [...RANKER_FEATURES], scaler: rankerScaler, model: rankerModel.serialize() },
    confidence: {
      features: [...CONFIDENCE_FEATURES],
      scaler: confidenceScaler,
      model: confidenceLogistic.serialize(),
      isotonic,
    },
    metrics: {
      rankerQueries: queryNumber,
      confidenceRows: confidenceRows.length,
      calibrationEce: expectedCalibrationError(
        calibrated,
        calibrationRows.map((r) => r.correct),
      ),
      thresholdAutomation: atThreshold.automation,
      thresholdWrongAnswerRate: atThreshold.wrong,
    },
  };
  log(`confidence: ${JSON.stringify(retrievalArtefact.metrics)}`);

  writeFileSync(join(MODELS_DIR, 'classifier.json'), `${JSON.stringify(classifierArtefact)}\n`);
  writeFileSync(join(MODELS_DIR, 'retrieval.json'), `${JSON.stringify(retrievalArtefact, null, 1)}\n`);
  log('wrote models/classifier.json, models/retrieval.json, models/kb-embeddings.jsonl');
}

async function embedAll(store: EmbeddingStore, texts: readonly string[], what: string) {
  const out: Float32Array[] = [];
  const started = Date.now();
  for (let i = 0; i < texts.length; i += 256) {
    out.push(...(await store.embed(texts.slice(i, i + 256))));
    if (Date.now() - started > 5000)
      log(`embedded ${Math.min(i + 256, texts.length)}/${texts.length} ${what}`);
  }
  return out;
}

function balance<K extends string>(labels: readonly K[], examples: readonly TextExample<K>[]) {
  const totals = Object.fromEntries(labels.map((l) => [l, 0])) as Record<K, number>;
  for (const e of examples) totals[e.label] += e.weight;
  const mean = Object.values<number>(totals).reduce((a, b) => a + b, 0) / labels.length;
  return Object.fromEntries(labels.map((l) => [l, totals[l] ? Math.min(4, mean / totals[l]) : 1])) as Record<
    K,
    number
  >;
}

function accuracy(model: ReturnType<typeof trainLogisticModel>, examples: readonly Example[]) {
  if (!examples.length) return null;
  let hits = 0;
  for (const e of examples) {
    const p = model.predict(e.dense, e.sparse);
    if (p.indexOf(Math.max(...p)) === e.label) hits++;
  }
  return Math.round((hits / examples.length) * 1000) / 1000;
}

interface FoldQuery {
  readonly text: string;
  readonly faqId: string | null;
}

/**
 * Leave-one-out folds: in fold k the k-th alternate of every FAQ becomes a query and leaves the index;
 * in the last fold the question itself does. 12% of FAQs leave entirely (their queries become in-domain
 * unanswerable cases); some FAQs lose all alternates and metadata, as in a bare imported KB.
 */
function buildFolds(faqs: readonly Faq[], vectors: readonly FaqVectors[]) {
  const folds: { index: KnowledgeIndex; queries: FoldQuery[] }[] = [];
  for (let fold = 0; fold <= 4; fold++) {
    const random = seededRandom(100 + fold);
    const kept: Faq[] = [];
    const keptVectors: FaqVectors[] = [];
    const queries: FoldQuery[] = [];
    faqs.forEach((faq, i) => {
      const v = vectors[i]!;
      const removed = random() < 0.12;
      const bare = random() < 0.25;
      const noMetadata = random() < 0.2;
      let query: string | undefined;
      let indexed: Faq;
      let indexedVectors: FaqVectors;
      if (fold < 4) {
        query = faq.alternates[fold];
        const alternates = bare ? [] : faq.alternates.filter((_, j) => j !== fold);
        const alternateVectors = bare ? [] : v.alternates.filter((_, j) => j !== fold);
        indexed = { ...faq, alternates };
        indexedVectors = { ...v, alternates: alternateVectors };
      } else {
        query = faq.question;
        const [first, ...rest] = faq.alternates;
        if (!first) return;
        indexed = { ...faq, question: first, alternates: bare ? [] : rest };
        indexedVectors = {
          question: v.alternates[0]!,
          alternates: bare ? [] : v.alternates.slice(1),
          answer: v.answer,
        };
      }
      if (noMetadata) indexed = { ...indexed, productArea: undefined, intent: undefined };
      if (query) queries.push({ text: query, faqId: removed ? null : faq.id });
      if (!removed) {
        kept.push(indexed);
        keptVectors.push(indexedVectors);
      }
    });
    folds.push({ index: new KnowledgeIndex(kept, keptVectors, 512), queries });
  }
  return folds;
}

/** Automation and wrong-answer rate of the calibration rows at a threshold (held-in, for the log). */
function outcomeAt(confidences: readonly number[], correct: readonly boolean[], threshold: number) {
  let answered = 0;
  let right = 0;
  confidences.forEach((c, i) => {
    if (c < threshold) return;
    answered++;
    if (correct[i]) right++;
  });
  return { automation: right / confidences.length, wrong: answered ? (answered - right) / answered : 0 };
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
