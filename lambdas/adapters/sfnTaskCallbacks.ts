/**
 * Completes Step Functions callback tasks (`.waitForTaskToken`): SendTaskSuccess against AWS, or against the
 * local SFN endpoint (local/awsJsonServices) that resolves the local runner's waiting task.
 */
import { SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { TaskCallbacks } from '#core/caseWorkflow';

/** The token is no longer waiting: it timed out, was completed already, or its execution ended. */
const GONE = new Set(['TaskDoesNotExist', 'TaskTimedOut', 'InvalidToken']);

export class SfnTaskCallbacks implements TaskCallbacks {
  constructor(private readonly client: SFNClient) {}

  async succeed(taskToken: string, output: object): Promise<void> {
    try {
      await this.client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
    } catch (error) {
      if (error instanceof Error && GONE.has(error.name)) return;
      throw error;
    }
  }
}
