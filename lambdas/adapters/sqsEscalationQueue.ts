/** EscalationQueue on SQS (fauxqs locally): one message per case, consumed by the escalation intake. */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { EscalationQueue } from '#core/supportDesk';

export class SqsEscalationQueue implements EscalationQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(message: { readonly caseId: string; readonly conversationId: string }): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(message),
        MessageAttributes: { caseId: { DataType: 'String', StringValue: message.caseId } },
      }),
    );
  }
}
