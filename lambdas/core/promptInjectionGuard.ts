/**
 * Prompt-injection guard: reads a customer message for attempts to steer the model instead of asking a
 * support question. Pure and deterministic (no model call), so it runs on every turn in microseconds.
 *
 *   injection   a clear attempt: instruction override, jailbreak role-play, system-prompt extraction, tool
 *               abuse, chat-template delimiters, or any of these hidden in base64/hex/percent/rot13/reversed
 *               text. The engine never sends such a message to a model.
 *   suspicious  weaker cues (mentions of the system prompt, role labels at line starts, a "mode" switch,
 *               letters hidden by zero-width characters or homoglyphs). The message goes to the model
 *               fenced as data.
 *   ok          nothing found.
 *
 * Matching runs on folded copies of the text: NFKC + accents removed + Cyrillic/Greek look-alikes mapped
 * to Latin + zero-width characters removed, plus a leetspeak copy and a copy with s.p.a.c.e.d letters
 * joined. Every pattern is linear (bounded gaps, no nested quantifiers).
 */

export type PromptVerdict = 'ok' | 'suspicious' | 'injection';

export interface PromptInspection {
  readonly verdict: PromptVerdict;
  /** What was found, e.g. 'instruction-override', 'encoded:base64'; empty when ok. */
  readonly signals: string[];
}

interface Rule {
  readonly signal: string;
  readonly pattern: RegExp;
}

/** A gap of a few words within one sentence. */
const GAP = String.raw`[^.!?\n]{0,40}?`;

const QUALIFIED_RULES =
  '(?:previous|prior|above|earlier|preceding|foregoing|initial|original|system|hidden|developer|safety|old|former|existing|given|base|core|your|all(?: of)?(?: your| the| my)?|any|these|those|the above)';
const RULE_NOUNS =
  '(?:instructions?|prompts?|rules?|directives?|guidelines?|guidance|guardrails?|programming|constraints?|restrictions?|policies|training|system messages?|context|commands|orders|preamble)';
const OVERRIDE_VERBS =
  "(?:ignore|ignoring|disregard|disregarding|forget|forgetting|override|overriding|bypass|bypassing|discard|abandon|drop|skip|neglect|dismiss|ditch|throw (?:away|out)|set aside|pay no attention to|stop following|don'?t follow|do not follow|no longer follow|quit following)";
/** Whose instructions: the assistant's own. */
const YOUR = "(?:your|ur|yr|thy|the assistant's|the bot's|the ai's)";
/** What a model is, when a message addresses one. */
const MODEL_NOUN = '(?:ai|assistant|bot|chatbot|model|language model|llm|gpt|agent|system)';

/** Clear attempts: any match makes the verdict 'injection'. */
const STRONG: readonly Rule[] = [
  // Instruction override
  {
    signal: 'instruction-override',
    pattern: new RegExp(
      String.raw`\b${OVERRIDE_VERBS}\b${GAP}\b${QUALIFIED_RULES}\s+(?:\w+\s+){0,2}?${RULE_NOUNS}\b`,
    ),
  },
  {
    signal: 'instruction-override',
    pattern: new RegExp(
      String.raw`\b${OVERRIDE_VERBS}\s+(?:(?:all|everything|anything|what(?:ever)?)\s+)?(?:(?:you were|you've been|you have been|i|we) (?:told|given|said)\s+)?(?:the |all )?(?:above|before|earlier|previously|so far|until now|up to now|prior to this)\b`,
    ),
  },
  {
    signal: 'instruction-override',
    pattern: new RegExp(
      String.raw`\b${OVERRIDE_VERBS}\b${GAP}\b(?:system|developer|operator)\s+(?:message|prompt|note|setup)s?\b`,
    ),
  },
  {
    signal: 'instruction-override',
    pattern:
      /\b(?:new|updated|revised|real|actual|true|override|overriding|secret|priority|admin|system|developer) (?:instructions?|directives?|orders?|rules|prompt|task)\s*(?::|follow|are|is\b|below|as follows)/,
  },
  {
    signal: 'instruction-override',
    pattern:
      /\b(?:from now on|henceforth|for the rest of (?:this|the) conversation|starting now|effective immediately),? (?:you|your|u)\b(?: will| must| are| should| shall|'ll|'re| only| can| may| have)/,
  },
  {
    signal: 'instruction-override',
    pattern:
      /\b(?:instead of (?:answering|helping|following)|rather than (?:answering|following)|your (?:new|only|real|true) (?:task|goal|job|purpose|objective|instructions?) (?:is|are|will be))\b/,
  },
  {
    signal: 'instruction-override',
    pattern:
      /\b(?:these|the following|my|this) (?:instructions?|rules?|orders?) (?:take|takes|have|has) (?:priority|precedence)\b|\b(?:supersede|overrides?|replace)s? (?:all |any )?(?:previous|prior|earlier|your|system|other) (?:instructions?|rules|prompts?)\b/,
  },
  // Multilingual override (the most common copy-paste forms)
  {
    signal: 'instruction-override',
    pattern:
      /\b(?:ignorier(?:e|en)?|vergiss|missachte)\b[^.!?\n]{0,30}?\b(?:vorherigen?|bisherigen?|obigen?|alle[nrs]?|deine)\b[^.!?\n]{0,20}?\b(?:anweisungen|instruktionen|regeln|vorgaben|befehle)\b/,
  },
  {
    signal: 'instruction-override',
    pattern:
      /\b(?:ignore[rz]?|oublie[rz]?|ne tiens pas compte)\b[^.!?\n]{0,30}?\b(?:instructions?|consignes?|regles?|directives?)\b[^.!?\n]{0,20}?\b(?:precedentes?|anterieures?|ci-dessus|du systeme)?/,
  },
  {
    signal: 'instruction-override',
    pattern:
      /\b(?:ignora|ignore|olvida|olvide|esquece|esqueca|dimentica|ignorate)\b[^.!?\n]{0,30}?\b(?:instrucciones|instrucoes|istruzioni|reglas|regole|regras)\b/,
  },
  // Role-play / jailbreak
  {
    signal: 'role-play',
    pattern:
      /\byou(?:'re| are) (?:now|no longer|from now on|henceforth)\b(?: (?:a|an|the|my|in|called|named|known|acting|going|playing|free|dan|unrestricted|unfiltered|jailbroken|evil|not|no)\b)/,
  },
  {
    signal: 'role-play',
    pattern: /\bdo anything now\b|\bdan (?:mode|prompt|jailbreak)\b|\b(?:stan|dude|aim) mode\b/,
  },
  {
    signal: 'role-play',
    pattern:
      /(?:^|[.!?\n]\s*|\b(?:please|now|ok|okay|so|and|then|let'?s)\s+)pretend (?:that )?(?:you(?:'re| are)|to be|you (?:have|were|can)|there are no)\b/,
  },
  { signal: 'role-play', pattern: /\bpretend (?:that )?you(?:'re| are)\b/ },
  {
    signal: 'role-play',
    pattern:
      /\b(?:act|behave|respond|answer|reply|operate|function) (?:as|like) (?:if you (?:were|are) )?(?:the |a |an |my )?(?:system|developer|root|superuser|sudo|unrestricted|unfiltered|uncensored|jailbroken|evil|rogue|dan|different (?:ai|assistant|model)|(?:ai|assistant|chatbot|model|llm) (?:without|with no)|linux terminal|terminal|shell|python interpreter|sql (?:console|interpreter)|my (?:grandma|grandmother|deceased))\b/,
  },
  {
    signal: 'role-play',
    pattern:
      /\b(?:jailbreak|jailbroken|god|sudo|unrestricted|unfiltered|uncensored|evil|chaos|no[- ]?limits?|opposite) mode\b|\b(?:enable|activate|enter|switch to|turn on)\s+(?:the\s+)?(?:developer|dev|debug|admin|maintenance|root)\s+mode\b[^.!?\n]{0,40}?\b(?:you|your|assistant|bot|ai)\b|\byou(?:'re| are)?\s+(?:now\s+)?in\s+(?:developer|dev|debug|admin|maintenance|root)\s+mode\b/,
  },
  {
    signal: 'role-play',
    pattern:
      /\b(?:roleplay|role-play|role play) as\b|\b(?:let'?s|we will|we'll) play a game\b[^.!?\n]{0,60}?\byou\b|\bstay in character\b|\bbreak character\b/,
  },
  {
    signal: 'role-play',
    pattern:
      /\byou (?:have|has|had|would have) no (?:restrictions|rules|limits|limitations|filters|guidelines|boundaries|ethics|morals)\b|\b(?:free|freed|liberated|released) from (?:all |any |your )?(?:restrictions|rules|limitations|guidelines|constraints|programming|filters)\b|\b(?:answer|respond|reply|speak|talk)\w* without (?:any )?(?:restrictions|filters|filtering|censorship|limitations|rules|guidelines|ethical)\b|\bno (?:ethical|moral|content) (?:guidelines|restrictions|filters|constraints)\b/,
  },
  // System-prompt extraction
  {
    signal: 'prompt-extraction',
    pattern:
      /\b(?:print|reveal|repeat|show|display|output|dump|leak|disclose|expose|recite|spell out|write out|type out|echo|paste|return|share|send|give|tell|list|provide|summari[sz]e|translate|read)\b[^.!?\n]{0,30}?\b(?:your|the|ur|its|initial|original|hidden|secret|internal|full|exact|complete|entire|whole|first|system)\s+(?:\w+\s+){0,2}?(?:system prompt|system message|prompt|(?:initial|original|hidden|secret|internal|system|developer|pre-?prompt|setup|starting|base) (?:instructions?|prompt|rules|message|directives|configuration|context)|instructions(?!\s+(?:for|on|to|about|regarding|how)\b)|directives|guidelines you|rules you|configuration prompt|context window|preprompt|pre-prompt)\b/,
  },
  {
    signal: 'prompt-extraction',
    pattern:
      /\bwhat (?:is|was|are|were) (?:your|the) (?:system prompt|initial prompt|original prompt|system message|hidden instructions|initial instructions|original instructions|secret instructions|exact instructions|instructions you were given)\b|\bwhat (?:were|have) you (?:been )?(?:told|instructed|programmed|prompted)\b|\bhow (?:were|are|have) you (?:been )?(?:programmed|instructed|prompted|configured|set up) to\b/,
  },
  {
    signal: 'prompt-extraction',
    pattern:
      /\b(?:repeat|print|output|recite|echo|copy|reproduce|dump|reveal|show)\b[^.!?\n]{0,20}?\b(?:everything|all|the (?:text|words|content|message|lines?)|what(?:ever)? (?:is|was|came|comes))\b[^.!?\n]{0,20}?\b(?:above|before (?:this|my)|so far|verbatim|word for word|preceding|prior to (?:this|my))\b/,
  },
  {
    signal: 'prompt-extraction',
    pattern:
      /\b(?:begin|start)(?:ning)?\s+(?:of\s+)?(?:your|the|this)\s+(?:prompt|system prompt|context|instructions)\b|\b(?:first|opening|initial)\s+(?:line|sentence|words|paragraph|message)s?\s+of\s+(?:your|the)\s+(?:prompt|instructions|context|system)\b|\bsystem prompt\b[^.!?\n]{0,30}?\b(?:verbatim|word for word|in full|exactly|code block)\b|\bverbatim\b[^.!?\n]{0,30}?\bsystem prompt\b/,
  },
  {
    signal: 'prompt-extraction',
    pattern:
      /\b(?:complete|continue|finish|fill in|autocomplete)\b[^.!?\n]{0,60}?\b(?:system prompt|(?:your|the) (?:initial |original |hidden |real |setup )?(?:prompt|instructions|setup text))\b/,
  },
  // Tool abuse
  {
    signal: 'tool-abuse',
    pattern:
      /<\/?\s*(?:tool_use|tool_call|tool_calls|tool_result|function_call|function_calls|function_results?|invoke|antml:[a-z_]+|tool|tools)\b[^>]{0,200}>/,
  },
  {
    signal: 'tool-abuse',
    pattern:
      /\{\s*"(?:name|tool|tool_name|function|function_name|action|recipient_name)"\s*:\s*"[^"]{1,80}"\s*,\s*"(?:arguments|parameters|params|input|args|tool_input|action_input)"\s*:|"(?:type)"\s*:\s*"(?:tool_use|function|function_call|tool_call)"|"tool_calls"\s*:|"function_call"\s*:/,
  },
  {
    signal: 'tool-abuse',
    pattern:
      /\b(?:call|invoke|execute|trigger|use|run)\s+(?:the\s+|your\s+|a\s+)?(?:[\w.-]+\s+)?(?:tool|function|plugin)s?\b[^.!?\n]{0,40}?\b(?:with|using|passing)\s+(?:the\s+|these\s+)?(?:arguments?|parameters?|params|input|args|payload)\b/,
  },
  {
    signal: 'tool-abuse',
    pattern:
      /\b(?:run|execute|exec|eval|evaluate)\s+(?:this|the following|these|that|my|the|a|an|arbitrary)?\s*(?:shell|bash|sh|zsh|terminal|system|os|sql|python|javascript|js|node|powershell|cmd)?\s*(?:commands?|scripts?|code|query|queries|payload|snippet)\b[^.!?\n]{0,40}?(?::|`|\$|\bon (?:the|your) (?:server|host|machine|system)\b|\bfor me\b)|\b(?:run|execute|open|spawn|start|give me) (?:a |an |the )?(?:shell|bash|terminal|reverse shell|root shell)\b(?!\s+(?:script|scripts|command|commands|file))|\brun shell\b|\bshell command\b/,
  },
  {
    signal: 'tool-abuse',
    pattern:
      /\brm\s+-rf\s+\/|\|\s*(?:ba)?sh\b|\bos\.system\s*\(|\bsubprocess\.\w+\s*\(|\bchild_process\b|\b(?:exec|eval)\s*\(\s*['"`]|\/bin\/(?:ba)?sh\b|\bcat\s+\/etc\/(?:passwd|shadow)\b|\b(?:wget|curl)\s+[^\s]+\s*\|\s*(?:ba)?sh\b|\bnc\s+-e\b/,
  },
  {
    signal: 'tool-abuse',
    pattern:
      /\b(?:send|email|e-mail|forward|post|upload|exfiltrate|transmit|leak)\b[^.!?\n]{0,30}?\b(?:all|every|the (?:entire|whole|full))\s+(?:other\s+)?(?:customers?|users?|conversations?|transcripts?|database|records|credentials|api keys|secrets|passwords)\b[^.!?\n]{0,40}?\b(?:to|at)\s+\S+@\S+|\bexfiltrat\w*\b/,
  },
  // Delimiter smuggling (chat templates, our own fences)
  {
    signal: 'delimiter-smuggling',
    pattern:
      /<\/?\s*(?:system|sys|assistant|user|human|instructions?|prompt|passages|customer_message|context|im_start|im_end|endoftext|s)\s*>|<\|\s*(?:im_start|im_end|im_sep|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id|begin_of_text)\s*\|>|\[\/?inst\]|<<\/?sys>>|\[\/?(?:system|sys)(?:_prompt)?\]/,
  },
  {
    signal: 'delimiter-smuggling',
    pattern:
      /(?:^|\n)\s*#{2,}\s*(?:instructions?|system|system prompt|new instructions?|response|human|assistant|input|task)\s*:?\s*(?:$|\n)|(?:^|\n)\s*#{2,}\s*(?:instruction|system)\b|```\s*(?:system|instructions?)\b|(?:^|\n\s*\n)\s*(?:human|assistant)\s*:\s*\S|\b(?:begin|start|end)\s+(?:of\s+)?(?:system prompt|system message|user input|instructions)\b|={3,}\s*(?:system|instructions?)\s*={3,}/,
  },
];

/**
 * Broader shapes of the same attacks, written after measuring the rules above on prompts they had not seen:
 * they name the act (obey me, reveal your setup, become another AI) rather than the exact words.
 */
const STRONG_GENERAL: readonly Rule[] = [
  {
    signal: 'instruction-override',
    pattern: new RegExp(
      String.raw`\b${OVERRIDE_VERBS}\b${GAP}\b(?:told|taught|instructed|programmed|trained|gave|given|handed|configured)\s+(?:to\s+)?you\b|\b${OVERRIDE_VERBS}\b${GAP}\byou(?:'ve| have)? (?:been|were) (?:told|given|instructed|programmed|handed)\b`,
    ),
  },
  {
    signal: 'instruction-override',
    pattern: new RegExp(
      String.raw`\b${OVERRIDE_VERBS}\s+(?:all\s+|everything\s+)?(?:of\s+)?(?:the\s+|that\s+)?(?:above|before|earlier|preceding|foregoing)\b|\b${OVERRIDE_VERBS}\b${GAP}\b(?:the |your |this )?(?:knowledge base|kb|faqs?|passages|sources|documentation|safety checks?|filters?|content polic(?:y|ies))\b`,
    ),
  },
  {
    signal: 'instruction-override',
    pattern:
      /\bnew (?:rules?|instructions?|directives?|orders?)\b[^.!?\n]{0,30}?:|\b(?:i|we) (?:order|command|instruct|authori[sz]e|direct) you to\b|\byou (?:are|have been) (?:now )?(?:authori[sz]ed|ordered|commanded|permitted|allowed) to (?:share|reveal|disclose|ignore|bypass|disable|access)\b|\b(?:answer|respond|reply)\w* (?:from|using|with) your own (?:knowledge|opinion|training)\b/,
  },
  {
    signal: 'instruction-override',
    pattern: new RegExp(
      String.raw`\b(?:${YOUR}|the|all|any) (?:previous |prior |old |original |earlier |system |existing |current |initial )?(?:rules|instructions|guidelines|restrictions|policies|programming|directives|filters|limits)(?: you (?:follow|have|were given|obey))? (?:no longer apply|(?:are|is|have been|has been) (?:now )?(?:void|cancell?ed|revoked|obsolete|outdated|suspended|lifted|disabled|removed|invalid|updated|replaced|changed|overridden|null)|(?:don'?t|do not) apply)\b`,
    ),
  },
  {
    signal: 'instruction-override',
    pattern:
      /\b(?:safety|filters?|filtering|guardrails?|restrictions|censorship|content[_ ]?filter|moderation|alignment|ethics)\s*[=:]\s*(?:off|false|0|no|none|disabled?)\b|\b(?:disable|turn off|switch off|deactivate|remove|lift)\s+(?:all\s+)?(?:your|ur|the)\s+(?:safety|filters?|filtering|guardrails?|restrictions|limitations|content polic(?:y|ies)|moderation|rules)\b/,
  },
  {
    signal: 'instruction-override',
    pattern:
      /\b(?:you (?:must|will|shall|have to|are going to) (?:now |from now on )?(?:answer|respond|reply|act|behave|obey|comply|do whatever|follow my)|(?:from here on(?: out)?|going forward|for the rest of this chat),? you(?:'ll| will| must| are| shall)|do (?:whatever|anything|everything) i (?:say|tell you|ask)(?: without question)?|without question)\b/,
  },
  {
    signal: 'role-play',
    pattern: new RegExp(
      String.raw`\byou(?:'re| are)\s+(?:now\s+)?(?:chatgpt|gpt-?\d\w*|claude|gemini|bard|llama|copilot|dan|\w+gpt|an?\s+(?:different|new|unrestricted|unfiltered|uncensored|jailbroken|evil|rogue|free|liberated|unlocked|hacker)\s+${MODEL_NOUN})\b|\byou(?:'re| are)\s+(?:now\s+)?(?:not|no longer)\s+(?:a |an |the )?(?:beacon'?s?\s+)?(?:support|customer|help)\w*\s+(?:${MODEL_NOUN}|agent)\b|\b(?:quit|stop) being (?:a |an |the )?(?:support|customer|help)`,
    ),
  },
  {
    signal: 'role-play',
    pattern: new RegExp(
      String.raw`\b(?:imagine|simulate|suppose|assume|hypothetically|emulate|play|become|roleplay|role-play|impersonate)\b${GAP}\b(?:you(?:'re| are| were)\s+)?(?:an?\s+|the\s+)?(?:\w+\s+){0,2}?(?:${MODEL_NOUN}|language model)\b${GAP}\b(?:without|with no|no|can|that can|has|with)\b|\b(?:assume|take on|adopt|play) the (?:role|persona|identity) of\b|\b(?:emulate|simulate|become)\s+(?:an?\s+)?(?:unrestricted|unfiltered|uncensored|rogue|evil|jailbroken|different)\b`,
    ),
  },
  {
    signal: 'role-play',
    pattern:
      /\b(?:let'?s|let us|we will|we'll|i want (?:you )?to|we'?re going to)\s+(?:do\s+(?:a\s+)?)?(?:role[- ]?play|roleplay|play pretend|pretend)\b|\b(?:switch to|enter|activate|go into)\s+(?:the\s+)?(?:developer|dev|debug|god|admin|root|maintenance|jailbreak|unrestricted|dan|sudo)\s+mode\b|\b(?:with|without|has|have|having) no (?:content |safety |ethical |moral )(?:policy|policies|filters?|guidelines|rules|restrictions)\b/,
  },
  {
    signal: 'prompt-extraction',
    pattern: new RegExp(
      String.raw`\b${YOUR}\s+(?:\w+\s+)?(?:hidden|secret|initial|original|internal|confidential|real|true|full|exact|entire|underlying|starting|first|system)\s+(?:prompt|instructions|rules|configuration|config|setup|directives|guidelines|preamble|context|programming|message)\b|\b(?:the )?(?:hidden|secret|confidential|initial|original|internal)\s+(?:preamble|instructions|prompt|directives)\s+(?:you|that you|which you)\b`,
    ),
  },
  {
    signal: 'prompt-extraction',
    pattern: new RegExp(
      String.raw`\b(?:print|reveal|repeat|show|display|output|dump|leak|disclose|expose|recite|spell out|write|type|echo|paste|return|share|send|give|tell|list|provide|copy|include|begin (?:your reply )?with|start (?:your reply )?with|reply with|respond with|encode)\b${GAP}\b${YOUR}\s+(?:\w+\s+){0,2}?(?:prompt|instructions|directives|configuration|config|memory|context|programming|preamble|system message|setup text)\b(?!\s+(?:for|on|to|about|regarding|how|of (?:the|my|this)))`,
    ),
  },
  {
    signal: 'prompt-extraction',
    pattern: new RegExp(
      String.raw`\bwhat(?:'?s| is| does| are| were| was)?\s+(?:in\s+)?${YOUR}\s+(?:system |initial |original |hidden |full )?(?:prompt|system message|instructions|context|memory|programming)\b(?!\s+(?:for|on|to|about|regarding|how))|\b(?:rules|instructions|guidelines|directives|prompt)\s+(?:were you|you were|have you been|you've been|did you get|you got|you received|you operate under)\s*(?:given|told|provided|assigned|instructed)?\b|\b(?:everything|all|what(?:ever)?|the text)\b${GAP}\b(?:in|from|of) ${YOUR} (?:context|memory|prompt)\b|\bwhat text (?:appears|comes|is) before my (?:first )?message\b|\binstructions that (?:configure|control|govern|define) you\b`,
    ),
  },
  {
    signal: 'tool-abuse',
    pattern:
      /\b(?:call|invoke|use|trigger|run|execute)\s+(?:the\s+|a\s+)?(?:tool|function|plugin|action)\s+[`'"]?[\w.-]+[`'"]?\s+(?:with|using)\s+(?:\{|(?:the\s+)?(?:args?|arguments?|parameters?|params|input|payload)\b)|\buse your (?:tools?|functions?|plugins?|capabilities) to\b|\[\s*\{\s*"(?:name|tool|function)"\s*:\s*"[^"]{1,80}"\s*,\s*"(?:arguments|parameters|input|args)"/,
  },
  {
    signal: 'tool-abuse',
    pattern:
      /\b(?:run|execute|exec)\s*:\s*\S|\bsudo\s+\w+|\b(?:execute|run)\s+`[^`]{2,}`|~\/\.(?:aws|ssh)\b|\/etc\/(?:passwd|shadow)\b/,
  },
  {
    signal: 'delimiter-smuggling',
    pattern:
      /\bend of (?:the )?(?:conversation|chat|session|context|prompt|instructions)\b[^\n]{0,40}?\bnew (?:conversation|session|chat|instructions|prompt|task)\b|#{2,}\s*system(?: override)?\s*#{2,}|\b(?:message|note) from (?:the )?(?:beacon |your )?(?:engineering|developers?|dev|security|admin|operator|system)(?: team)?\b[^.!?\n]{0,10}?:/,
  },
];

/** Chat-transcript role labels; two different ones in one message are a forged conversation. */
const ROLE_LABEL = /(?:^|\n|[.!?]\s+)\s*(system|assistant|user|human|ai)\s*:/g;

/** Weaker cues: 'suspicious' unless a strong rule also matched. */
const WEAK: readonly Rule[] = [
  { signal: 'mentions-system-prompt', pattern: /\bsystem (?:prompt|message|instructions)\b|\bpre-?prompt\b/ },
  {
    signal: 'mentions-instructions',
    pattern: new RegExp(
      String.raw`\b${OVERRIDE_VERBS}\b${GAP}\b(?:instructions|prompt|guardrails|programming)\b`,
    ),
  },
  { signal: 'role-label', pattern: /(?:^|\n)\s*(?:system|assistant|ai|bot|developer)\s*:/ },
  {
    signal: 'mode-switch',
    pattern:
      /\b(?:developer|dev|debug|admin|maintenance|god|root) mode\b[^.!?\n]{0,40}?\b(?:you|assistant|bot|ai|chatgpt|claude)\b|\bjailbr(?:eak|oken)\b(?![^.!?\n]{0,40}?\b(?:iphone|ios|phone|device|android|ipad)s?\b)/,
  },
  {
    signal: 'prompt-injection-talk',
    pattern: /\bprompt injection\b|\bas an ai (?:language )?model\b|\bchatgpt\b/,
  },
  {
    signal: 'model-address',
    pattern:
      /\b(?:dear|hey|hi|listen) (?:ai|assistant|bot|model|llm|chatbot)\b[^.!?\n]{0,40}?\b(?:must|will|should|now)\b/,
  },
  {
    signal: 'tool-mention',
    pattern: /\b(?:call|invoke) (?:the|a|your) (?:function|tool)\b|\bfunction calling\b|\btool use\b/,
  },
  {
    signal: 'decode-request',
    pattern: /\b(?:decode|base64|rot13|hex)\b[^.!?\n]{0,40}?\b(?:follow|execute|run|do what|obey|then)\b/,
  },
];

const ZERO_WIDTH = /[\u200B-\u200D\u2060-\u2064\uFEFF\u180E\u00AD\u115F\u1160\u3164]|\u034F/g;
const ZERO_WIDTH_BETWEEN_LETTERS = /\p{L}(?:[\u200B-\u200D\u2060-\u2064\uFEFF\u180E\u00AD]|\u034F)+\p{L}/u;

/** Cyrillic and Greek letters that look like Latin ones. */
const HOMOGLYPHS: Record<string, string> = {
  а: 'a',
  в: 'b',
  е: 'e',
  ё: 'e',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  с: 'c',
  т: 't',
  у: 'y',
  х: 'x',
  і: 'i',
  ї: 'i',
  ј: 'j',
  ѕ: 's',
  ԁ: 'd',
  ԛ: 'q',
  ԝ: 'w',
  ɡ: 'g',
  ɩ: 'i',
  ı: 'i',
  α: 'a',
  β: 'b',
  ε: 'e',
  η: 'n',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  ω: 'w',
  ϲ: 'c',
  ϳ: 'j',
};
const HOMOGLYPH_CHARS = new RegExp(`[${Object.keys(HOMOGLYPHS).join('')}]`, 'g');
/** A word mixing Latin letters with look-alikes from another script. */
const MIXED_SCRIPT_WORD = new RegExp(
  `(?:[a-z][${Object.keys(HOMOGLYPHS).join('')}]|[${Object.keys(HOMOGLYPHS).join('')}][a-z])`,
  'i',
);

const LEET: Record<string, string> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '@': 'a',
  $: 's',
  '!': 'i',
  '|': 'l',
};

/** Lower case, compatibility forms folded, accents and invisible characters removed, look-alikes mapped. */
export function foldForMatching(text: string): string {
  return collapseSpaces(foldKeepingSpaces(text));
}

const collapseSpaces = (text: string): string => text.replace(/[^\S\n]+/g, ' ');

/** The fold without collapsing runs of spaces, which separate the words of s p a c e d text. */
function foldKeepingSpaces(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(ZERO_WIDTH, '')
    .toLowerCase()
    .replace(HOMOGLYPH_CHARS, (c) => HOMOGLYPHS[c] ?? c)
    .replace(/[\u2018\u2019\u02BC\u2032`´]/g, "'")
    .replace(/[\u201C\u201D\u2033]/g, '"')
    .replace(/[\u2010-\u2015\u2212]/g, '-');
}

/** Digits and symbols inside words read as letters: "1gn0re", "pr3vious", "$ystem". */
const deLeet = (folded: string): string =>
  folded.replace(/[a-z0-9@$!|]{3,}/g, (word) =>
    /[a-z]/.test(word) ? word.replace(/[0-9@$!|]/g, (c) => LEET[c] ?? c) : word,
  );

/** "i g n o r e  a l l" or "i.g.n.o.r.e" → "ignore all". */
const joinSpacedLetters = (folded: string): string =>
  folded.replace(/\b(?:[a-z][ ._*-]){3,}[a-z]\b/g, (run) => run.replace(/[ ._*-]/g, ''));

const rot13 = (text: string): string =>
  text.replace(/[a-z]/g, (c) => String.fromCharCode(((c.charCodeAt(0) - 97 + 13) % 26) + 97));

const printableShare = (text: string): number => {
  if (!text) return 0;
  let printable = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if ((c >= 32 && c < 127) || c === 10 || c === 9) printable++;
  }
  return printable / text.length;
};

const readable = (decoded: string): boolean =>
  decoded.length >= 8 && printableShare(decoded) > 0.9 && /[a-z]{3,}\s+[a-z]{2,}/i.test(decoded);

/** Hidden texts worth reading: base64, hex and percent-encoded runs, HTML entities, rot13 and reversal. */
function decodedVariants(text: string): { kind: string; text: string }[] {
  const out: { kind: string; text: string }[] = [];
  let budget = 20;
  for (const match of text.matchAll(/[A-Za-z0-9+/_-]{16,}={0,2}/g)) {
    if (--budget < 0) break;
    const token = match[0].replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
    if (token.length % 4 === 1) continue;
    try {
      const decoded = atob(token + '='.repeat((4 - (token.length % 4)) % 4));
      if (readable(decoded)) out.push({ kind: 'encoded:base64', text: decoded });
    } catch {
      // not base64 after all
    }
  }
  for (const match of text.matchAll(/(?:[0-9a-f]{2}(?:\s|\\x|0x|,\s?)?){12,}/gi)) {
    if (--budget < 0) break;
    const hex = match[0].replace(/\\x|0x|[\s,]/gi, '');
    if (hex.length % 2 !== 0 || /^\d+$/.test(hex)) continue;
    let decoded = '';
    for (let i = 0; i < hex.length; i += 2)
      decoded += String.fromCharCode(Number.parseInt(hex.slice(i, i + 2), 16));
    if (readable(decoded)) out.push({ kind: 'encoded:hex', text: decoded });
  }
  if (/(?:%[0-9a-f]{2}){4,}/i.test(text)) {
    try {
      out.push({ kind: 'encoded:percent', text: decodeURIComponent(text) });
    } catch {
      // malformed escapes
    }
  }
  if (/&#x?[0-9a-f]{2,6};/i.test(text)) {
    out.push({
      kind: 'encoded:html-entities',
      text: text.replace(/&#(x?)([0-9a-f]{1,6});/gi, (_, hexFlag: string, digits: string) => {
        const code = Number.parseInt(digits, hexFlag ? 16 : 10);
        return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : '';
      }),
    });
  }
  const folded = foldForMatching(text);
  out.push({ kind: 'encoded:rot13', text: rot13(folded) });
  out.push({ kind: 'encoded:reversed', text: [...folded].reverse().join('') });
  return out;
}

function strongSignals(text: string): Set<string> {
  const spaced = foldKeepingSpaces(text);
  const separated = spaced.replace(/(?<=[a-z0-9])[_-]+(?=[a-z0-9])/g, ' ');
  // Zero-width characters can hide letters inside a word or stand in for the spaces between words.
  const zeroWidthAsSpace = foldKeepingSpaces(text.replace(ZERO_WIDTH, ' '));
  const variants = new Set(
    [
      spaced,
      deLeet(spaced),
      joinSpacedLetters(spaced),
      joinSpacedLetters(deLeet(spaced)),
      separated,
      deLeet(separated),
      zeroWidthAsSpace,
    ].map(collapseSpaces),
  );
  const found = new Set<string>();
  for (const variant of variants) {
    for (const rule of [...STRONG, ...STRONG_GENERAL])
      if (!found.has(rule.signal) && rule.pattern.test(variant)) found.add(rule.signal);
    const labels = new Set([...variant.matchAll(ROLE_LABEL)].map((m) => m[1]));
    if (labels.size >= 2) found.add('delimiter-smuggling');
  }
  return found;
}

export function inspectPrompt(text: string): PromptInspection {
  const signals = new Set(strongSignals(text));
  if (signals.size === 0) {
    for (const variant of decodedVariants(text)) {
      const hidden = strongSignals(variant.text);
      if (hidden.size > 0) {
        signals.add(variant.kind);
        for (const signal of hidden) signals.add(signal);
        break;
      }
    }
  }
  const injection = signals.size > 0;
  const folded = foldForMatching(text);
  for (const rule of WEAK) if (rule.pattern.test(folded)) signals.add(rule.signal);
  if (ZERO_WIDTH_BETWEEN_LETTERS.test(text)) signals.add('obfuscation:zero-width');
  if (MIXED_SCRIPT_WORD.test(text.normalize('NFKC'))) signals.add('obfuscation:homoglyph');
  return {
    verdict: injection ? 'injection' : signals.size > 0 ? 'suspicious' : 'ok',
    signals: [...signals],
  };
}
