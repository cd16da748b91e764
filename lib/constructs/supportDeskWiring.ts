/**
 * What a handler that builds the support desk (lambdas/handlers/shared/runtime.ts `supportDesk()`) needs:
 * the desk tables' names, the WebSocket callback URL and the event bus name, all read eagerly at init; the
 * CRM settings for handlers that reach the CRM (crmRuntime.ts); the e-mail settings for handlers that send
 * replies; the layers of the packages runtime.ts imports; and, per handler, only the grants it uses.
 */

import { Stack } from 'aws-cdk-lib';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { Grant, IGrantable } from 'aws-cdk-lib/aws-iam';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { type EmailChannelSettings, emailSendingEnvironment, grantSendEmail } from './emailChannel';
import type { PackageLayer } from './packageLayer';
import type { SupportTables, TableAccess } from './supportTables';

/** What handlers need to push frames to connected clients. */
export interface CustomerChannel {
  /** https://{api}.execute-api.{region}.amazonaws.com/{stage}: the handlers' WEBSOCKET_CALLBACK_URL. */
  readonly callbackUrl: string;
  /** Allows posting frames to connections of this stage only. */
  grantManageConnections(grantee: IGrantable): Grant;
}

/** The CRM of the deployment (runtime `crm()`): the built-in customers table, or Salesforce. */
export type CrmSettings =
  | { readonly backend: 'builtin' }
  | {
      readonly backend: 'salesforce';
      /** Secrets Manager name of the Salesforce credentials (see lambdas/adapters/salesforceCredentials.ts). */
      readonly salesforceSecretName: string;
    };

export const DESK_TABLES = ['conversations', 'messages', 'cases', 'connections', 'customers'] as const;
export type DeskTable = (typeof DESK_TABLES)[number];

/** The desk operations a handler performs. */
export interface DeskAccess {
  /** Tables the handler reads or writes; the others are named in its environment only. */
  readonly tables: Partial<Record<DeskTable, TableAccess>>;
  /** Publishes domain events on the bus. @default false */
  readonly publishesEvents?: boolean;
  /** Posts frames to WebSocket connections. @default false */
  readonly notifiesClients?: boolean;
  /**
   * Reaches the CRM (crmRuntime.ts): `lookup` finds customers and mirrors cases (case step, e-mail intake),
   * `mirror` only comments on and closes mirrored cases (CRM sync; the built-in CRM's are no-ops there, so it
   * gets no customers-table access). Give such handlers `crmEnvironment` and the CRM package layer too.
   * @default no CRM access
   */
  readonly crm?: 'lookup' | 'mirror';
  /**
   * Sends e-mail replies (answers, escalation notices, agent replies to e-mail conversations): the e-mail
   * threads table and SES sending as the support address. Nothing without an e-mail channel. Give such
   * handlers `emailEnvironment` too.
   * @default false
   */
  readonly sendsEmail?: boolean;
}

export interface SupportDeskWiringProps {
  readonly tables: SupportTables;
  readonly channel: CustomerChannel;
  readonly eventBus: IEventBus;
  /** @default the built-in CRM */
  readonly crm?: CrmSettings;
  /** @default no e-mail channel: no handler gets the threads table, so none tries to mail */
  readonly email?: EmailChannelSettings;
  /**
   * Layers of the packages every desk handler imports through runtime.ts (nodemailer composes replies).
   * @default none: bundled
   */
  readonly packageLayers?: readonly PackageLayer[];
}

const SECRET_ID = 'SalesforceCredentials';

export class SupportDeskWiring {
  /** Variables `supportDesk()` reads at init, whether or not the handler uses each store. */
  readonly environment: Readonly<Record<string, string>>;
  /** Variables `crm()` reads, for the handlers that reach the CRM (DeskAccess.crm). */
  readonly crmEnvironment: Readonly<Record<string, string>>;
  /**
   * Variables of the e-mail channel, for the handlers that send replies (DeskAccess.sendsEmail); empty without
   * one. EMAIL_THREADS_TABLE is what makes `supportDesk()` answer e-mail conversations by mail.
   */
  readonly emailEnvironment: Readonly<Record<string, string>>;
  /** For every desk handler's AppFunction `packageLayers`. */
  readonly packageLayers: readonly PackageLayer[];
  private readonly crm: CrmSettings;

  constructor(private readonly props: SupportDeskWiringProps) {
    this.crm = props.crm ?? { backend: 'builtin' };
    if (
      this.crm.backend === 'salesforce' &&
      !/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(this.crm.salesforceSecretName)
    ) {
      throw new Error(
        `SupportDeskWiring: salesforceSecretName "${this.crm.salesforceSecretName}" is not a Secrets Manager secret name`,
      );
    }
    this.environment = {
      ...props.tables.environment(...DESK_TABLES),
      WEBSOCKET_CALLBACK_URL: props.channel.callbackUrl,
      EVENT_BUS_NAME: props.eventBus.eventBusName,
    };
    this.crmEnvironment = {
      CRM_BACKEND: this.crm.backend,
      // GetSecretValue takes a name as well as an ARN; the name is exact, while the ARN CDK can build from a
      // name lacks the random suffix Secrets Manager appends.
      ...(this.crm.backend === 'salesforce' ? { SALESFORCE_SECRET_ARN: this.crm.salesforceSecretName } : {}),
    };
    this.emailEnvironment = props.email
      ? { ...props.tables.environment('emailThreads'), ...emailSendingEnvironment(props.email) }
      : {};
    this.packageLayers = props.packageLayers ?? [];
  }

  grant(grantee: IGrantable, access: DeskAccess): void {
    const entries = Object.entries(access.tables) as [DeskTable, TableAccess][];
    if (entries.length === 0)
      throw new Error('SupportDeskWiring.grant: a desk handler uses at least one table');
    if (access.crm === 'lookup' && this.crm.backend === 'builtin' && !access.tables.customers) {
      // The built-in CRM looks customers up in the customers table.
      entries.push(['customers', 'read']);
    }
    for (const level of ['read', 'readWrite'] as const) {
      const names = entries.filter(([, a]) => a === level).map(([name]) => name);
      if (names.length) this.props.tables.grant(grantee, level, ...names);
    }
    if (access.publishesEvents) this.props.eventBus.grantPutEventsTo(grantee);
    if (access.notifiesClients) this.props.channel.grantManageConnections(grantee);
    if (access.crm && this.crm.backend === 'salesforce') {
      this.grantSalesforceCredentials(grantee, this.crm.salesforceSecretName);
    }
    if (access.sendsEmail && this.props.email) {
      this.props.tables.grant(grantee, 'readWrite', 'emailThreads');
      grantSendEmail(grantee, this.props.email);
    }
  }

  private grantSalesforceCredentials(grantee: IGrantable, name: string): void {
    const principal = grantee.grantPrincipal;
    if (!(principal instanceof Construct)) {
      throw new Error('SupportDeskWiring.grant: a CRM handler must have a role defined in this app');
    }
    const stack = Stack.of(principal);
    const secret =
      (stack.node.tryFindChild(SECRET_ID) as ISecret | undefined) ??
      Secret.fromSecretNameV2(stack, SECRET_ID, name);
    // Resource `…:secret:<name>-??????`: the random suffix Secrets Manager appends, of this secret only.
    secret.grantRead(grantee);
  }
}
