/**
 * Local face of inbound mail (SES receiving on AWS): an SMTP server on 127.0.0.1 that hands each accepted
 * message to `onMail`. Plain SMTP without AUTH or STARTTLS, for local clients and tests only. A message over
 * `maxBytes` is refused with 552; a failing `onMail` becomes 550 (InvalidEmailError: do not retry) or 451
 * (anything else: the client retries), never a crash.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

export interface SmtpEnvelope {
  /** MAIL FROM; '' for the null sender of bounces. */
  readonly from: string;
  readonly to: readonly string[];
}

export interface SmtpServerOptions {
  /** @default SMTP_PORT from the environment, else 2525 (0 = any free port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  readonly onMail: (raw: Buffer, envelope: SmtpEnvelope) => Promise<void>;
  /** Largest accepted message (advertised with SIZE). @default 25 MiB */
  readonly maxBytes?: number;
  /** Receives onMail failures (the client only sees a status line). */
  readonly onError?: (error: unknown) => void;
}

export interface RunningSmtpServer {
  readonly port: number;
  close(): Promise<void>;
}

const DEFAULT_PORT = 2525;
const DEFAULT_MAX_BYTES = 25 * 1024 * 1024;

/** An error an SMTP client sees as the reply to DATA. */
const smtpError = (responseCode: number, message: string) =>
  Object.assign(new Error(message), { responseCode });

export async function startSmtpServer(options: SmtpServerOptions): Promise<RunningSmtpServer> {
  const port = options.port ?? portFromEnv();
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!Number.isInteger(maxBytes) || maxBytes <= 0) {
    throw new Error(`maxBytes must be a positive integer, got ${maxBytes}`);
  }
  const server = new SMTPServer({
    name: 'supportmax.local',
    banner: 'SupportMax local mail intake',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: maxBytes,
    logger: false,
    disableReverseLookup: true,
    closeTimeout: 2_000,
    socketTimeout: 60_000,
    maxRecipients: 100,
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      let kept = 0;
      let answered = false;
      const answer = (error: Error | null, message?: string) => {
        if (answered) return;
        answered = true;
        callback(error, message);
      };
      stream.on('data', (chunk: Buffer) => {
        // Past the limit the rest is read and dropped: the message is refused anyway.
        if (kept + chunk.length <= maxBytes) {
          chunks.push(chunk);
          kept += chunk.length;
        }
      });
      stream.once('error', (error) =>
        answer(smtpError(451, `Error: could not read the message (${error.message})`)),
      );
      stream.once('end', () => {
        if (stream.sizeExceeded) {
          answer(smtpError(552, `Error: message exceeds fixed maximum message size ${maxBytes}`));
          return;
        }
        const envelope: SmtpEnvelope = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
        };
        // Through a promise chain: an onMail that throws synchronously is answered like a rejection.
        Promise.resolve()
          .then(() => options.onMail(Buffer.concat(chunks), envelope))
          .then(
            () => answer(null, 'Message accepted'),
            (error: unknown) => {
              options.onError?.(error);
              answer(rejection(error));
            },
          );
      });
    },
  });
  server.on('error', (error) => options.onError?.(error));

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, options.host ?? '127.0.0.1', () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port: bound,
    close() {
      closing ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return closing;
    },
  };
}

/** 550 for mail that can never be accepted, 451 (try again later) for everything else. */
function rejection(error: unknown): Error {
  const code = (error as { responseCode?: unknown })?.responseCode;
  if (typeof code === 'number' && code >= 400 && code < 600) {
    return smtpError(code, `Error: ${(error as Error).message}`);
  }
  if ((error as Error)?.name === 'InvalidEmailError') {
    return smtpError(550, `Error: message rejected: ${(error as Error).message}`);
  }
  return smtpError(451, 'Error: temporary failure, please retry later');
}

function portFromEnv(): number {
  const raw = process.env.SMTP_PORT;
  if (raw === undefined || raw === '') return DEFAULT_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`SMTP_PORT must be a port number, got "${raw}"`);
  }
  return port;
}
