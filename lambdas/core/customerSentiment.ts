/**
 * Lexicon-based sentiment and urgency of a customer message, plus explicit requests for a human.
 * Deliberately transparent: an operator can read why a message counted as angry or urgent.
 */
import { normalizeText } from './textAnalysis';

const NEGATIVE = [
  'angry',
  'furious',
  'unacceptable',
  'ridiculous',
  'terrible',
  'horrible',
  'awful',
  'worst',
  'useless',
  'frustrated',
  'frustrating',
  'disappointed',
  'disappointing',
  'annoyed',
  'annoying',
  'pathetic',
  'joke',
  'scam',
  'fraud',
  'rip off',
  'ripoff',
  'hate',
  'sick of',
  'fed up',
  'waste',
  'garbage',
  'broken again',
  'still not',
  'nobody',
  'no one',
  'third time',
  'again and again',
  'lawyer',
  'legal action',
  'cancel everything',
  'incompetent',
  'outrageous',
  'disgrace',
  'shocking',
  'wtf',
  'damn',
  'seriously',
];
const POSITIVE = [
  'thanks',
  'thank you',
  'great',
  'awesome',
  'love',
  'perfect',
  'appreciate',
  'helpful',
  'excellent',
];
const URGENT = [
  'urgent',
  'urgently',
  'asap',
  'immediately',
  'right now',
  'emergency',
  'critical',
  'outage',
  'is down',
  'are down',
  'went down',
  'completely down',
  'production',
  'prod ',
  'all users',
  'everyone',
  'whole team',
  'whole company',
  'entire',
  'blocked',
  'blocking',
  'cannot work',
  'unable to work',
  'losing money',
  'losing revenue',
  'deadline',
  'today',
  'nothing loads',
  'nothing works',
  'data loss',
  'lost data',
  'security breach',
  'hacked',
  'compromised',
  'since this morning',
  'for hours',
  'now!',
];
const HUMAN_REQUEST =
  /\b(?:talk|speak|chat|connect|transfer)\w*\s+(?:me\s+)?(?:to|with)\s+(?:a\s+|an\s+|the\s+|your\s+|some\s*)?(?:real\s+|live\s+|actual\s+)?(?:human|person|agent|representative|rep|operator|someone|somebody|support\s+(?:agent|team|staff)|manager|supervisor|people)\b|\b(?:real|live|actual)\s+(?:human|person|agent)\b|\bhuman\s+(?:agent|please|support|being)\b|\b(?:i\s+)?(?:want|need|demand)\s+(?:a\s+|an\s+)?(?:human|person|agent|manager|representative)\b|\b(?:call\s+me|phone\s+me|escalate\s+(?:this|my))\b|^\s*(?:agent|human|representative|operator)\s*[.!]*\s*$/i;

export interface SentimentReading {
  /** -1 (very negative) … 1 (very positive). */
  readonly sentiment: number;
  /** 0 (none) … 1 (very urgent). */
  readonly urgency: number;
  readonly cues: readonly string[];
}

const countCues = (text: string, cues: readonly string[], found: string[]) => {
  let n = 0;
  for (const cue of cues) {
    if (text.includes(cue)) {
      n++;
      found.push(cue.trim());
    }
  }
  return n;
};

export function readSentiment(message: string): SentimentReading {
  const text = ` ${normalizeText(message)} `;
  const cues: string[] = [];
  const negative = countCues(text, NEGATIVE, cues);
  const positive = countCues(text, POSITIVE, []);
  const urgent = countCues(text, URGENT, cues);
  const letters = message.replace(/[^A-Za-z]/g, '');
  const shouting = letters.length >= 12 && letters.replace(/[^A-Z]/g, '').length / letters.length > 0.6;
  const capsWords = (message.match(/\b[A-Z]{3,}\b/g) ?? []).filter(
    (w) => !/^(API|SSO|CSV|PDF|URL|SAML|HTTP|VAT|MFA|IOS|FAQ)$/.test(w),
  );
  const exclamations = (message.match(/!/g) ?? []).length;
  if (shouting) cues.push('all caps');
  if (exclamations >= 2) cues.push('exclamations');
  const anger =
    negative + (shouting ? 1.5 : capsWords.length > 0 ? 0.5 : 0) + Math.min(exclamations, 3) * 0.3;
  const sentiment = Math.max(-1, Math.min(1, positive * 0.5 - anger * 0.5));
  const urgency = Math.min(
    1,
    urgent * 0.35 + (capsWords.includes('NOW') || capsWords.includes('ASAP') ? 0.3 : 0),
  );
  return { sentiment: Math.round(sentiment * 100) / 100, urgency: Math.round(urgency * 100) / 100, cues };
}

export function requestsHuman(message: string): boolean {
  return HUMAN_REQUEST.test(message);
}
