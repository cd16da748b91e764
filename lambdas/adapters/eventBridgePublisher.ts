/**
 * EventPublisher on EventBridge PutEvents. Works against AWS and, with the client's endpoint on
 * local/awsJsonServices, against the local bus.
 */
import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { type DomainEvent, EVENT_SOURCE, type EventPublisher } from '#core/domainEvents';
import { type Clock, systemClock } from '#core/ports';

export interface EventBridgePublisherOptions {
  readonly client: EventBridgeClient;
  /** Name or ARN of the bus the rules listen on. */
  readonly eventBusName: string;
  /**
   * Stamps each entry's `Time`, which rules and consumers (metrics buckets) read as the event's time: the
   * domain's clock, so a controlled local clock places events in its own hours. @default systemClock
   */
  readonly clock?: Clock;
}

/** PutEvents takes at most 10 entries per call. */
const MAX_ENTRIES_PER_CALL = 10;

interface RejectedEntry {
  readonly entry: PutEventsRequestEntry;
  readonly result: PutEventsResultEntry;
}

export class EventBridgePublisher implements EventPublisher {
  private readonly client: EventBridgeClient;
  private readonly eventBusName: string;
  private readonly clock: Clock;

  constructor(options: EventBridgePublisherOptions) {
    if (!options.eventBusName) throw new Error('EventBridgePublisher: eventBusName is required');
    this.client = options.client;
    this.eventBusName = options.eventBusName;
    this.clock = options.clock ?? systemClock;
  }

  /** Throws when an entry is still rejected after one retry; earlier chunks stay published. */
  async publish(events: readonly DomainEvent[]): Promise<void> {
    for (let start = 0; start < events.length; start += MAX_ENTRIES_PER_CALL) {
      const time = new Date(this.clock.now());
      const entries = events
        .slice(start, start + MAX_ENTRIES_PER_CALL)
        .map((event) => this.entryFor(event, time));
      // PutEvents is not all-or-nothing: a throttled or failed entry is reported beside the accepted ones.
      const rejected = await this.put(entries);
      const stillRejected = rejected.length ? await this.put(rejected.map(({ entry }) => entry)) : [];
      if (stillRejected.length) {
        const reasons = stillRejected
          .map(({ entry, result }) => `${entry.DetailType}: ${result.ErrorCode} ${result.ErrorMessage ?? ''}`)
          .join('; ');
        throw new Error(
          `EventBridge rejected ${stillRejected.length} of ${entries.length} events on ${this.eventBusName}: ${reasons}`,
        );
      }
    }
  }

  private entryFor(event: DomainEvent, time: Date): PutEventsRequestEntry {
    return {
      EventBusName: this.eventBusName,
      Time: time,
      Source: EVENT_SOURCE,
      DetailType: event.type,
      Detail: JSON.stringify(event),
    };
  }

  private async put(entries: PutEventsRequestEntry[]): Promise<RejectedEntry[]> {
    const output = await this.client.send(new PutEventsCommand({ Entries: entries }));
    if (!output.FailedEntryCount) return [];
    // Results are in request order; a failed one carries an ErrorCode.
    return entries.flatMap((entry, i) => {
      const result = output.Entries?.[i];
      return !result || result.ErrorCode ? [{ entry, result: result ?? { ErrorCode: 'Missing' } }] : [];
    });
  }
}
