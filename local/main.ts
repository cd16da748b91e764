/**
 * `npm start`: SupportMax on this machine, no AWS account needed.
 *   PORT (default 3000), HOST (default 127.0.0.1), DATA_DIR (default ./.supportmax), SMTP_PORT (default 2525,
 *   inbound e-mail), RATE_LIMIT* (README)
 */
import { z } from 'zod';
import { startLocalFace } from './localFace';
import { rateLimitsFromEnv } from './rateLimitConfig';

const config = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().default('127.0.0.1'),
    DATA_DIR: z.string().min(1).default('.supportmax'),
    SMTP_PORT: z.coerce.number().int().min(0).max(65535).default(2525),
  })
  .safeParse(process.env);

if (!config.success) {
  for (const issue of config.error.issues)
    console.error(`configuration: ${issue.path.join('.')}: ${issue.message}`);
  process.exit(2);
}

const { PORT, HOST, DATA_DIR, SMTP_PORT } = config.data;
let rateLimits: ReturnType<typeof rateLimitsFromEnv>;
try {
  rateLimits = rateLimitsFromEnv();
} catch (error) {
  console.error(`configuration: ${(error as Error).message}`);
  process.exit(2);
}
// Lambda runs Node 22; the SDK's reminder that local Node 20 is ageing is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const started = Date.now();
console.log(`SupportMax: starting (data in ${DATA_DIR}) …`);
try {
  const face = await startLocalFace({
    port: PORT,
    host: HOST,
    dataDir: DATA_DIR,
    smtpPort: SMTP_PORT,
    rateLimits,
  });
  console.log(`SupportMax is ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`  chat:      ${face.url}/`);
  console.log(`  console:   ${face.url}/console`);
  console.log(`  metrics:   ${face.url}/metrics`);
  console.log(`  health:    ${face.url}/api/health`);
  console.log(`  WebSocket: ${face.wsUrl}`);
  console.log(
    `  e-mail:    smtp://${face.smtpAddress} (to ${face.supportEmail}; replies in ${face.outboxDir})`,
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`SupportMax: ${signal} received, stopping …`);
    const timer = setTimeout(() => process.exit(1), 10_000);
    timer.unref();
    await face.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
} catch (error) {
  console.error(`SupportMax could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
