/**
 * The one Lambda function construct: every SupportMax handler in lambdas/handlers runs through it, so
 * runtime, architecture, tracing, logging, bundling and the least-privilege role are set in one place.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  ApplicationLogLevel,
  Architecture,
  type ILayerVersion,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { EngineAssets } from './engineAssets';
import type { PackageLayer } from './packageLayer';
import { PROJECT_ROOT } from './projectRoot';

/** Powertools service name of every function: CloudWatch metrics carry it as the `service` dimension. */
export const SERVICE_NAME = 'supportmax';

/** Bundled as ESM; CommonJS dependencies still find `require` through this banner. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** Provided at run time: the SDK by the Lambda runtime, the embedding model by the engine layer. */
export const EXTERNAL_MODULES = [
  '@aws-sdk/*',
  '@energetic-ai/*',
  '@opensearch-project/opensearch',
  'hnswlib-node',
];

const HANDLERS_DIR = join(PROJECT_ROOT, 'lambdas', 'handlers');

export interface AppFunctionProps {
  /** Handler module under lambdas/handlers, without extension, e.g. `ws/message`. */
  readonly handler: string;
  /** What the function does, shown in the Lambda console. */
  readonly description: string;
  /** Merged over the common variables (service name, source maps). @default none */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * The engine layer (models, KB, embedding model). Functions given it are engine functions: they load the
   * models at init, so they get more memory and time.
   * @default none: a plain handler
   */
  readonly engineAssets?: EngineAssets;
  /**
   * Layers of large npm packages (jsforce, nodemailer, mailparser) this handler imports: they stay out of its
   * bundle and load from the layer.
   * @default none: every dependency is bundled
   */
  readonly packageLayers?: readonly PackageLayer[];
  /** @default 1536 MB for engine functions, 512 MB otherwise */
  readonly memorySize?: number;
  /** @default 30 s for engine functions, 10 s otherwise */
  readonly timeout?: Duration;
}

export class AppFunction extends NodejsFunction {
  /** The handler module this function runs, e.g. `ws/message`. */
  readonly handlerModule: string;

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    const entry = join(HANDLERS_DIR, `${props.handler}.ts`);
    if (!/^[a-z]+\/[A-Za-z]+$/.test(props.handler) || !existsSync(entry)) {
      throw new Error(`AppFunction ${id}: handler "${props.handler}" is not a module in lambdas/handlers`);
    }
    const engine = props.engineAssets !== undefined;
    const memorySize = props.memorySize ?? (engine ? 1536 : 512);
    if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10_240) {
      throw new Error(`AppFunction ${id}: memorySize must be an integer in 128..10240 MB, got ${memorySize}`);
    }
    const timeout = props.timeout ?? Duration.seconds(engine ? 30 : 10);
    if (timeout.toSeconds() < 1 || timeout.toSeconds() > 900) {
      throw new Error(`AppFunction ${id}: timeout must be within 1..900 s, got ${timeout.toSeconds()} s`);
    }
    for (const [name, value] of Object.entries(props.environment ?? {})) {
      if (!/^[A-Z][A-Z0-9_]*$/.test(name) || value === '') {
        throw new Error(`AppFunction ${id}: environment ${name} must be an UPPER_CASE name with a value`);
      }
    }

    // An explicit log group and a role that may write only to it: no AWS managed policy, no logs:* on '*'.
    const logGroup = new LogGroup(scope, `${id}Logs`, { retention: RetentionDays.ONE_MONTH });
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `SupportMax ${props.handler} handler`,
    });
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );

    const packageLayers = [...new Set(props.packageLayers ?? [])];
    const layers: ILayerVersion[] = [
      ...(engine ? [props.engineAssets.layer] : []),
      ...packageLayers.map((p) => p.layer),
    ];
    if (layers.length > 5) throw new Error(`AppFunction ${id}: Lambda allows 5 layers, got ${layers.length}`);
    super(scope, id, {
      entry,
      handler: 'handler',
      description: props.description,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize,
      timeout,
      tracing: Tracing.ACTIVE,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel.INFO,
      systemLogLevelV2: SystemLogLevel.WARN,
      logGroup,
      role,
      layers,
      environment: {
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        NODE_OPTIONS: '--enable-source-maps',
        ...(engine ? props.engineAssets.environment : {}),
        ...props.environment,
      },
      bundling: {
        forceDockerBundling: false,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        target: 'node22',
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        externalModules: [...EXTERNAL_MODULES, ...packageLayers.flatMap((p) => p.packages)],
      },
    });
    this.handlerModule = props.handler;

    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Pinned to Node.js 22 (supported until April 2027): bundles target node22 and the engine layer is ' +
        'tested on it; moving to a newer runtime is a deliberate upgrade of both, not a silent drift.',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active tracing adds xray:PutTraceSegments/PutTelemetryRecords, which support no resource-level ' +
        'permissions; test/cdk asserts every Resource "*" statement holds only X-Ray actions.',
    });
  }
}
