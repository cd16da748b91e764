/**
 * Builds the SupportMax CDK app the way `cdk synth` does (cdk.json context and feature flags, the same
 * stacks, cdk-nag), into a temporary directory. Bundling can be skipped for tests that only read templates.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type AppConfig, parseConfig } from '../../lib/config';
import { PROJECT_ROOT } from '../../lib/constructs/projectRoot';
import { createSupportMaxStacks, type SupportMaxStacks } from '../../lib/supportMax';

const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown> & { supportmax: Record<string, unknown> };
};

/** cdk.json's "supportmax" context, as the CLI passes it. */
export const CDK_JSON_CONFIG = cdkJson.context.supportmax;

export interface SynthOptions {
  /** Run esbuild and the engine-layer copy. @default false */
  readonly bundle?: boolean;
  /** Overrides of the cdk.json configuration. */
  readonly config?: Partial<AppConfig>;
}

export interface SynthesizedApp {
  readonly app: App;
  readonly config: AppConfig;
  readonly stacks: SupportMaxStacks;
  readonly outdir: string;
  template(stack: Stack): Template;
  /** Every stack's template, by stack id. */
  templates(): Map<string, Template>;
  dispose(): void;
}

export function synthSupportMax(options: SynthOptions = {}): SynthesizedApp {
  const outdir = mkdtempSync(join(tmpdir(), 'supportmax-cdk-'));
  const { supportmax: _config, ...flags } = cdkJson.context;
  const app = new App({
    outdir,
    context: {
      ...flags,
      // As the CLI does: record each asset's directory in the template metadata.
      'aws:cdk:enable-asset-metadata': true,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
    },
  });
  const config = parseConfig({ context: { ...CDK_JSON_CONFIG, ...options.config }, env: {} });
  const stacks = createSupportMaxStacks(app, config);
  app.synth();
  const cache = new Map<Stack, Template>();
  const template = (stack: Stack) => {
    let found = cache.get(stack);
    if (!found) {
      found = Template.fromStack(stack);
      cache.set(stack, found);
    }
    return found;
  };
  return {
    app,
    config,
    stacks,
    outdir,
    template,
    templates: () => new Map(Object.values(stacks).map((s: Stack) => [s.node.id, template(s)])),
    dispose: () => rmSync(outdir, { recursive: true, force: true }),
  };
}
