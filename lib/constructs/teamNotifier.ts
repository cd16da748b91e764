/**
 * The team notifier (lambdas/handlers/events/teamNotifier.ts): tells the responsible team about new cases
 * and SLA breaches, by SES e-mail when a sender is configured, else in its log only. It may send only from
 * the configured sender, through its identity and configuration set.
 */
import { Stack } from 'aws-cdk-lib';
import { Grant } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { AppFunction } from './appFunction';
import type { PackageLayer } from './packageLayer';
import type { SupportTables } from './supportTables';

export interface TeamNotificationSettings {
  /** SES sender: a verified address, or an address of a verified domain. @default no e-mail, log only */
  readonly fromAddress?: string;
  /** Team address by case queue; "*" for every other queue. Required with fromAddress. */
  readonly queueEmails?: Readonly<Record<string, string>>;
  /** @default none */
  readonly sesConfigurationSet?: string;
  /** Operator console URL the e-mails link cases to. @default no link */
  readonly consoleUrl?: string;
}

export interface TeamNotifierProps {
  readonly tables: SupportTables;
  /** @default log only */
  readonly notifications?: TeamNotificationSettings;
  /** Layers of the packages the handler imports through runtime.ts. @default none: bundled */
  readonly packageLayers?: readonly PackageLayer[];
}

const EMAIL = /^[^\s@]+@([^\s@]+\.[^\s@]+)$/;

export class TeamNotifier extends Construct {
  readonly handler: AppFunction;

  constructor(scope: Construct, id: string, props: TeamNotifierProps) {
    super(scope, id);
    const { fromAddress, queueEmails, sesConfigurationSet, consoleUrl } = props.notifications ?? {};
    const recipients = Object.values(queueEmails ?? {});
    for (const address of [fromAddress, ...recipients]) {
      if (address !== undefined && !EMAIL.test(address)) {
        throw new Error(`TeamNotifier ${id}: "${address}" is not an e-mail address`);
      }
    }
    if (fromAddress && recipients.length === 0) {
      throw new Error(`TeamNotifier ${id}: fromAddress needs queueEmails (whom to e-mail per queue)`);
    }
    if (!fromAddress && (queueEmails || sesConfigurationSet)) {
      throw new Error(
        `TeamNotifier ${id}: queueEmails and sesConfigurationSet need fromAddress (the sender)`,
      );
    }

    this.handler = new AppFunction(this, 'Handler', {
      handler: 'events/teamNotifier',
      description: 'CaseOpened and SlaBreached to the responsible team (SES e-mail, or the log)',
      packageLayers: props.packageLayers,
      environment: {
        ...props.tables.environment('cases'),
        ...(fromAddress ? { TEAM_NOTIFY_FROM: fromAddress } : {}),
        ...(queueEmails ? { TEAM_QUEUE_EMAILS: JSON.stringify(queueEmails) } : {}),
        ...(sesConfigurationSet ? { SES_CONFIGURATION_SET: sesConfigurationSet } : {}),
        ...(consoleUrl ? { CONSOLE_URL: consoleUrl } : {}),
      },
    });
    props.tables.grant(this.handler, 'read', 'cases');
    if (!fromAddress) return;

    const stack = Stack.of(this);
    const arn = (resource: string, resourceName: string) =>
      stack.formatArn({ service: 'ses', resource, resourceName });
    // SES authorises the sender's identity: the address itself or its verified domain, whichever exists.
    // In the SES sandbox the (verified) recipients are authorised as identities too.
    const identities = new Set(
      [fromAddress, ...recipients].flatMap((address) => [address, EMAIL.exec(address)![1]!]),
    );
    Grant.addToPrincipal({
      grantee: this.handler,
      actions: ['ses:SendEmail'],
      resourceArns: [
        ...[...identities].map((identity) => arn('identity', identity)),
        ...(sesConfigurationSet ? [arn('configuration-set', sesConfigurationSet)] : []),
      ],
      conditions: { StringEquals: { 'ses:FromAddress': fromAddress } },
    });
  }
}
