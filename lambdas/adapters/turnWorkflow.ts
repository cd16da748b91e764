/**
 * The chat intake handler's port to the turn workflow, and its Step Functions adapter. The same adapter
 * runs against AWS and, with the client's endpoint on local/awsJsonServices, against the local machines.
 */
import { createHash } from 'node:crypto';
import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';

/** Starts the workflow that processes one customer turn. */
export interface TurnWorkflow {
  /** Starts at most one workflow per idempotencyKey: repeating a key (a redelivered message) is a no-op. */
  start(input: object, idempotencyKey: string): Promise<void>;
}

export interface SfnTurnWorkflowOptions {
  readonly client: SFNClient;
  readonly stateMachineArn: string;
}

const MAX_NAME_LENGTH = 80;
const VALID_NAME = /^[A-Za-z0-9_-]+$/;
/** Hex of a SHA-256 prefix: enough that two keys sharing a sanitised prefix never share a name. */
const HASH_LENGTH = 32;

/** StartExecution named after the idempotency key, so Step Functions itself refuses a second run. */
export class SfnTurnWorkflow implements TurnWorkflow {
  private readonly client: SFNClient;
  private readonly stateMachineArn: string;

  constructor(options: SfnTurnWorkflowOptions) {
    if (!options.stateMachineArn.startsWith('arn:')) {
      throw new Error(`SfnTurnWorkflow: stateMachineArn must be an ARN, got "${options.stateMachineArn}"`);
    }
    this.client = options.client;
    this.stateMachineArn = options.stateMachineArn;
  }

  async start(input: object, idempotencyKey: string): Promise<void> {
    const command = new StartExecutionCommand({
      stateMachineArn: this.stateMachineArn,
      name: executionNameFor(idempotencyKey),
      input: JSON.stringify(input),
    });
    try {
      await this.client.send(command);
    } catch (error) {
      // The key already ran (or is running, with other input): the turn is taken care of.
      if (error instanceof Error && error.name === 'ExecutionAlreadyExists') return;
      throw error;
    }
  }
}

/**
 * An execution name (1–80 of [A-Za-z0-9-_]) that is the key itself when already valid, else a readable
 * sanitised prefix plus a hash of the whole key: plain replacement or truncation would let two keys
 * collide, and the second turn would silently never run.
 */
export function executionNameFor(idempotencyKey: string): string {
  if (!idempotencyKey) throw new Error('SfnTurnWorkflow: idempotencyKey must not be empty');
  if (idempotencyKey.length <= MAX_NAME_LENGTH && VALID_NAME.test(idempotencyKey)) return idempotencyKey;
  const hash = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, HASH_LENGTH);
  const prefix = idempotencyKey.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, MAX_NAME_LENGTH - HASH_LENGTH - 1);
  return `${prefix}-${hash}`;
}
