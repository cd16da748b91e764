/**
 * What a handler that builds the support desk (lambdas/handlers/shared/runtime.ts `supportDesk()`) needs:
 * the four desk tables' names, the WebSocket callback URL and the event bus name, all read eagerly at init;
 * and, per handler, only the grants it uses.
 */

import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { Grant, IGrantable } from 'aws-cdk-lib/aws-iam';
import type { SupportTables, TableAccess } from './supportTables';

/** What handlers need to push frames to connected clients. */
export interface CustomerChannel {
  /** https://{api}.execute-api.{region}.amazonaws.com/{stage}: the handlers' WEBSOCKET_CALLBACK_URL. */
  readonly callbackUrl: string;
  /** Allows posting frames to connections of this stage only. */
  grantManageConnections(grantee: IGrantable): Grant;
}

export const DESK_TABLES = ['conversations', 'messages', 'cases', 'connections'] as const;
export type DeskTable = (typeof DESK_TABLES)[number];

/** The desk operations a handler performs. */
export interface DeskAccess {
  /** Tables the handler reads or writes; the others are named in its environment only. */
  readonly tables: Partial<Record<DeskTable, TableAccess>>;
  /** Publishes domain events on the bus. @default false */
  readonly publishesEvents?: boolean;
  /** Posts frames to WebSocket connections. @default false */
  readonly notifiesClients?: boolean;
}

export interface SupportDeskWiringProps {
  readonly tables: SupportTables;
  readonly channel: CustomerChannel;
  readonly eventBus: IEventBus;
}

export class SupportDeskWiring {
  /** Variables `supportDesk()` reads at init, whether or not the handler uses each store. */
  readonly environment: Readonly<Record<string, string>>;

  constructor(private readonly props: SupportDeskWiringProps) {
    this.environment = {
      ...props.tables.environment(...DESK_TABLES),
      WEBSOCKET_CALLBACK_URL: props.channel.callbackUrl,
      EVENT_BUS_NAME: props.eventBus.eventBusName,
    };
  }

  grant(grantee: IGrantable, access: DeskAccess): void {
    const entries = Object.entries(access.tables) as [DeskTable, TableAccess][];
    if (entries.length === 0)
      throw new Error('SupportDeskWiring.grant: a desk handler uses at least one table');
    for (const level of ['read', 'readWrite'] as const) {
      const names = entries.filter(([, a]) => a === level).map(([name]) => name);
      if (names.length) this.props.tables.grant(grantee, level, ...names);
    }
    if (access.publishesEvents) this.props.eventBus.grantPutEventsTo(grantee);
    if (access.notifiesClients) this.props.channel.grantManageConnections(grantee);
  }
}
