/**
 * Metrics of the evaluation CLI, computed from engine decisions on labelled cases. Definitions follow the
 * "Conversation engine" issue: automation = answerable cases answered with the right FAQ at rank 1, etc.
 */
import { expectedCalibrationError } from '#core/confidence';
import type { ConversationEngine } from '#core/conversationEngine';
import { INTENTS } from '#core/types';

export interface EvaluationCase {
  readonly text: string;
  readonly intent?: string;
  readonly faqId?: string | null;
}

export interface EvaluationReport {
  intent?: {
    n: number;
    accuracy: number;
    macroF1: number;
    perClass: Record<string, { precision: number; recall: number; f1: number; support: number }>;
  };
  retrieval?: { n: number; recallAt1: number; recallAt5: number; mrr: number };
  escalation?: {
    n: number;
    precision: number;
    recall: number;
    automationRate: number;
    wrongAnswerRate: number;
  };
  calibration?: { n: number; ece: number };
  latencyMs: { p50: number; p95: number };
}

const round = (x: number) => Math.round(x * 10000) / 10000;
const ratio = (a: number, b: number) => (b ? a / b : 0);

export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function evaluate(
  engine: ConversationEngine,
  cases: readonly EvaluationCase[],
): Promise<EvaluationReport> {
  const latencies: number[] = [];
  const intentPairs: { gold: string; predicted: string }[] = [];
  const ranks: number[] = [];
  let answerable = 0;
  let unanswerable = 0;
  let escalatedUnanswerable = 0;
  let escalated = 0;
  let automated = 0;
  let answered = 0;
  let answeredWrong = 0;
  const confidences: number[] = [];
  const correctness: boolean[] = [];

  for (const c of cases) {
    const started = performance.now();
    const analysis = await engine.analyze(c.text);
    const decision = engine.decide(analysis);
    latencies.push(performance.now() - started);
    if (c.intent !== undefined) intentPairs.push({ gold: c.intent, predicted: analysis.intent.label });
    if (c.faqId === undefined) continue;
    const topCorrect = c.faqId !== null && analysis.ranked[0]?.faq.id === c.faqId;
    if (c.faqId === null) {
      unanswerable++;
      if (decision.escalate) escalatedUnanswerable++;
    } else {
      answerable++;
      const rank = analysis.ranked.findIndex((r) => r.faq.id === c.faqId);
      ranks.push(rank < 0 ? Number.POSITIVE_INFINITY : rank + 1);
      if (!decision.escalate && topCorrect) automated++;
    }
    if (decision.escalate) escalated++;
    else {
      answered++;
      if (!topCorrect) answeredWrong++;
      confidences.push(analysis.confidence);
      correctness.push(topCorrect);
    }
  }

  const report: EvaluationReport = {
    latencyMs: { p50: round(percentile(latencies, 50)), p95: round(percentile(latencies, 95)) },
  };
  if (intentPairs.length) report.intent = intentMetrics(intentPairs);
  if (ranks.length) {
    report.retrieval = {
      n: ranks.length,
      recallAt1: round(ratio(ranks.filter((r) => r <= 1).length, ranks.length)),
      recallAt5: round(ratio(ranks.filter((r) => r <= 5).length, ranks.length)),
      mrr: round(ranks.reduce((sum, r) => sum + 1 / r, 0) / ranks.length),
    };
  }
  if (answerable + unanswerable) {
    report.escalation = {
      n: answerable + unanswerable,
      precision: round(ratio(escalatedUnanswerable, escalated)),
      recall: round(ratio(escalatedUnanswerable, unanswerable)),
      automationRate: round(ratio(automated, answerable)),
      wrongAnswerRate: round(ratio(answeredWrong, answered)),
    };
  }
  if (confidences.length) {
    report.calibration = {
      n: confidences.length,
      ece: round(expectedCalibrationError(confidences, correctness)),
    };
  }
  return report;
}

function intentMetrics(pairs: readonly { gold: string; predicted: string }[]) {
  const perClass: Record<string, { precision: number; recall: number; f1: number; support: number }> = {};
  for (const label of INTENTS) {
    const tp = pairs.filter((p) => p.gold === label && p.predicted === label).length;
    const predicted = pairs.filter((p) => p.predicted === label).length;
    const support = pairs.filter((p) => p.gold === label).length;
    const precision = ratio(tp, predicted);
    const recall = ratio(tp, support);
    perClass[label] = {
      precision: round(precision),
      recall: round(recall),
      f1: round(ratio(2 * precision * recall, precision + recall)),
      support,
    };
  }
  const present = INTENTS.filter((l) => perClass[l]!.support > 0);
  return {
    n: pairs.length,
    accuracy: round(ratio(pairs.filter((p) => p.gold === p.predicted).length, pairs.length)),
    macroF1: round(present.reduce((sum, l) => sum + perClass[l]!.f1, 0) / Math.max(present.length, 1)),
    perClass,
  };
}

export function formatReport(report: EvaluationReport): string {
  const lines: string[] = [];
  const row = (name: string, value: number | string) => lines.push(`  ${name.padEnd(22)} ${value}`);
  if (report.intent) {
    lines.push(`Intent (n=${report.intent.n})`);
    row('accuracy', report.intent.accuracy);
    row('macro F1', report.intent.macroF1);
    for (const [label, m] of Object.entries(report.intent.perClass)) {
      row(
        `  ${label}`,
        `P ${m.precision.toFixed(3)}  R ${m.recall.toFixed(3)}  F1 ${m.f1.toFixed(3)}  n=${m.support}`,
      );
    }
  }
  if (report.retrieval) {
    lines.push(`Retrieval (n=${report.retrieval.n} answerable)`);
    row('recall@1', report.retrieval.recallAt1);
    row('recall@5', report.retrieval.recallAt5);
    row('MRR', report.retrieval.mrr);
  }
  if (report.escalation) {
    lines.push(`Escalation (n=${report.escalation.n})`);
    row('precision', report.escalation.precision);
    row('recall', report.escalation.recall);
    row('automation rate', report.escalation.automationRate);
    row('wrong-answer rate', report.escalation.wrongAnswerRate);
  }
  if (report.calibration)
    lines.push(`Calibration: ECE ${report.calibration.ece} over ${report.calibration.n} answered`);
  lines.push(
    `Latency per message: p50 ${report.latencyMs.p50.toFixed(1)} ms, p95 ${report.latencyMs.p95.toFixed(1)} ms`,
  );
  return lines.join('\n');
}
