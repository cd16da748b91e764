/**
 * Dashboards and alarms, a lifecycle of their own: operations (volume, latency, errors, DLQs, workflow
 * failures), quality (automation, escalation reasons, confidence, SLA breaches) and cost (tokens and model
 * spend per conversation), all from the METRICS the handlers emit; alarms notify an encrypted SNS topic.
 */
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { IRestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  AlarmRule,
  AlarmState,
  AnomalyDetectionAlarm,
  ComparisonOperator,
  CompositeAlarm,
  Dashboard,
  GraphWidget,
  type IAlarm,
  type IMetric,
  MathExpression,
  Metric,
  SingleValueWidget,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { METRIC_NAMESPACE, METRICS, type MetricName } from '#core/metricNames';
import { SERVICE_NAME } from '../constructs/appFunction';

/** Every SupportMax (custom namespace) metric the dashboards and alarms read; a test checks the template. */
export const DASHBOARD_METRIC_NAMES: readonly MetricName[] = [
  METRICS.messagesReceived,
  METRICS.turnsAnswered,
  METRICS.turnsEscalated,
  METRICS.turnLatencyMs,
  METRICS.retrievalLatencyMs,
  METRICS.modelLatencyMs,
  METRICS.errors,
  METRICS.escalationReason,
  METRICS.confidenceScore,
  METRICS.conversationsResolvedAutomated,
  METRICS.conversationsResolvedHuman,
  METRICS.firstResponseSeconds,
  METRICS.resolutionSeconds,
  METRICS.slaBreaches,
  METRICS.inputTokens,
  METRICS.outputTokens,
  METRICS.modelCostUsd,
];

/** The first-response time of a P1 case above which operators are paged. */
export const P1_FIRST_RESPONSE_ALARM_SECONDS = 300;

export interface ObservabilityStackProps extends StackProps {
  /** Dead-letter queues by a readable name: any message in one is an alarm. */
  readonly deadLetterQueues: ReadonlyMap<string, IQueue>;
  readonly turnStateMachine: IStateMachine;
  /** The Standard state machine each escalated case runs through (waits for an agent, SLA timers). */
  readonly escalationStateMachine: IStateMachine;
  readonly restApi: IRestApi;
  /** Automation rate (answered / all turns) below which the hourly quality alarm fires, in [0, 1]. */
  readonly automationTarget: number;
  /** Subscribed to the alarm topic. @default no subscription */
  readonly alarmEmail?: string;
  /**
   * Expected model spend per hour in USD: cost above 120 % of it alarms. The anomaly-detection cost alarm
   * runs either way.
   * @default no static cost alarm
   */
  readonly hourlyCostBaselineUsd?: number;
  /** Prefix of the dashboard names (unique per account and region). */
  readonly dashboardPrefix: string;
  /**
   * The e-mail channel sends replies: alarm before the SES account's bounce or complaint rate reaches the
   * level at which SES reviews (and may pause) sending.
   * @default false
   */
  readonly emailReputationAlarms?: boolean;
}

/** SES puts an account under review at a 5 % bounce rate or a 0.1 % complaint rate; alarm there. */
export const SES_BOUNCE_RATE_ALARM = 0.05;
export const SES_COMPLAINT_RATE_ALARM = 0.001;

export class ObservabilityStack extends Stack {
  readonly alarmTopic: Topic;
  /** Every alarm that notifies the topic (composite alarms' children are not in here). */
  readonly alarms: IAlarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    if (!(props.automationTarget >= 0 && props.automationTarget <= 1)) {
      throw new Error(
        `ObservabilityStack: automationTarget must be within [0, 1], got ${props.automationTarget}`,
      );
    }
    if (props.hourlyCostBaselineUsd !== undefined && !(props.hourlyCostBaselineUsd > 0)) {
      throw new Error(
        `ObservabilityStack: hourlyCostBaselineUsd must be > 0, got ${props.hourlyCostBaselineUsd}`,
      );
    }
    if (props.deadLetterQueues.size === 0)
      throw new Error('ObservabilityStack: no dead-letter queues to watch');

    // CloudWatch must use the topic's key to publish, which AWS managed SNS keys do not allow.
    const topicKey = new Key(this, 'AlarmTopicKey', {
      description: 'SupportMax alarm topic',
      enableKeyRotation: true,
    });
    topicKey.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: 'SupportMax alarms',
      masterKey: topicKey,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));

    const hour = Duration.hours(1);
    const m = (name: MetricName, statistic: string, period = Duration.minutes(5), label?: string) =>
      new Metric({
        namespace: METRIC_NAMESPACE,
        metricName: name,
        dimensionsMap: { service: SERVICE_NAME },
        statistic,
        period,
        label: label ?? `${name} (${statistic})`,
      });
    /** The per-priority series metricsAggregator emits next to the service-level one. */
    const ofPriority = (
      name: MetricName,
      priority: string,
      statistic: string,
      period = Duration.minutes(5),
    ) =>
      new Metric({
        namespace: METRIC_NAMESPACE,
        metricName: name,
        dimensionsMap: { service: SERVICE_NAME, priority },
        statistic,
        period,
        label: `${name} ${priority} (${statistic})`,
      });
    /** Every priority's series of a metric, found by dimension. */
    const byPriority = (name: MetricName, statistic: string) =>
      new MathExpression({
        expression: `SEARCH('{${METRIC_NAMESPACE},priority,service} MetricName="${name}"', '${statistic}', 3600)`,
        usingMetrics: {},
        period: hour,
        label: '',
      });

    // Operations
    const dlqDepth = [...props.deadLetterQueues].map(([name, queue]) =>
      queue.metricApproximateNumberOfMessagesVisible({
        statistic: 'Maximum',
        label: name,
        period: Duration.minutes(1),
      }),
    );
    const workflowFailures = [
      props.turnStateMachine.metricFailed({ statistic: 'Sum', label: 'failed' }),
      props.turnStateMachine.metricTimedOut({ statistic: 'Sum', label: 'timed out' }),
    ];
    const escalation = props.escalationStateMachine;
    const escalationFailures = {
      failed: escalation.metricFailed({ statistic: 'Sum', period: Duration.minutes(5), label: 'failed' }),
      timedOut: escalation.metricTimedOut({
        statistic: 'Sum',
        period: Duration.minutes(5),
        label: 'timed out',
      }),
      aborted: escalation.metricAborted({ statistic: 'Sum', period: Duration.minutes(5), label: 'aborted' }),
    };
    const rest5xx = new Metric({
      namespace: 'AWS/ApiGateway',
      metricName: '5XXError',
      dimensionsMap: { ApiName: props.restApi.restApiName },
      statistic: 'Sum',
      period: Duration.minutes(5),
    });
    new Dashboard(this, 'OperationsDashboard', {
      dashboardName: `${props.dashboardPrefix}-operations`,
      defaultInterval: Duration.hours(24),
      widgets: [
        [new TextWidget({ markdown: '# SupportMax operations', width: 24, height: 1 })],
        [
          graph('Volume', [
            m(METRICS.messagesReceived, 'Sum'),
            m(METRICS.turnsAnswered, 'Sum'),
            m(METRICS.turnsEscalated, 'Sum'),
          ]),
          graph(
            'Turn latency (ms)',
            ['p50', 'p95', 'p99'].map((p) => m(METRICS.turnLatencyMs, p)),
          ),
          graph('Stage latency p95 (ms)', [
            m(METRICS.retrievalLatencyMs, 'p95'),
            m(METRICS.modelLatencyMs, 'p95'),
          ]),
        ],
        [
          graph('Errors', [
            m(METRICS.errors, 'Sum'),
            rest5xx,
            // Failed invocations of any handler (counted by the shared middleware, dimension handler).
            new MathExpression({
              expression: `SEARCH('{${METRIC_NAMESPACE},handler,service} MetricName="${METRICS.errors}"', 'Sum', 300)`,
              usingMetrics: {},
              period: Duration.minutes(5),
              label: '',
            }),
          ]),
          graph('Dead-letter queue depth', dlqDepth),
          graph('Turn workflow failures', workflowFailures),
        ],
        [
          graph('Escalation workflow executions', [
            escalation.metricStarted({ statistic: 'Sum', label: 'started' }),
            escalation.metricSucceeded({ statistic: 'Sum', label: 'succeeded' }),
            ...Object.values(escalationFailures),
          ]),
          graph('Escalation workflow duration p50 / p90 (ms)', [
            escalation.metricTime({ statistic: 'p50', label: 'p50' }),
            escalation.metricTime({ statistic: 'p90', label: 'p90' }),
          ]),
        ],
      ],
    });

    // Quality
    const answeredHourly = m(METRICS.turnsAnswered, 'Sum', hour);
    const escalatedHourly = m(METRICS.turnsEscalated, 'Sum', hour);
    const automationRate = new MathExpression({
      expression: 'answered / (answered + escalated)',
      usingMetrics: { answered: answeredHourly, escalated: escalatedHourly },
      period: hour,
      label: 'automation rate',
    });
    const escalationReasons = new MathExpression({
      expression: `SEARCH('{${METRIC_NAMESPACE},reason,service} MetricName="${METRICS.escalationReason}"', 'Sum', 3600)`,
      usingMetrics: {},
      period: hour,
      label: '',
    });
    new Dashboard(this, 'QualityDashboard', {
      dashboardName: `${props.dashboardPrefix}-quality`,
      defaultInterval: Duration.days(7),
      widgets: [
        [new TextWidget({ markdown: '# SupportMax quality', width: 24, height: 1 })],
        [
          graph('Automation rate (answered / all turns), hourly', [automationRate], { min: 0, max: 1 }),
          graph('Turns answered vs escalated, hourly', [answeredHourly, escalatedHourly], { stacked: true }),
          graph('Escalations by reason, hourly', [escalationReasons], { stacked: true }),
        ],
        [
          graph(
            'Confidence score',
            ['p10', 'p50', 'Average'].map((s) => m(METRICS.confidenceScore, s)),
            { min: 0, max: 1 },
          ),
          graph('Conversations resolved', [
            m(METRICS.conversationsResolvedAutomated, 'Sum', hour),
            m(METRICS.conversationsResolvedHuman, 'Sum', hour),
          ]),
          graph('Human response (s)', [
            m(METRICS.firstResponseSeconds, 'p50'),
            m(METRICS.resolutionSeconds, 'p50'),
          ]),
        ],
        [
          graph('SLA breaches by priority, hourly', [byPriority(METRICS.slaBreaches, 'Sum')], {
            stacked: true,
          }),
          graph('Slowest first response by priority, hourly (s)', [
            byPriority(METRICS.firstResponseSeconds, 'Maximum'),
          ]),
          graph('P1 first response (s) and SLA breaches', [
            ofPriority(METRICS.firstResponseSeconds, 'P1', 'Maximum'),
            ofPriority(METRICS.slaBreaches, 'P1', 'Sum'),
          ]),
        ],
      ],
    });

    // Cost
    const costHourly = m(METRICS.modelCostUsd, 'Sum', hour, 'model cost (USD)');
    const conversations = {
      automated: m(METRICS.conversationsResolvedAutomated, 'Sum', hour),
      human: m(METRICS.conversationsResolvedHuman, 'Sum', hour),
    };
    const perConversation = (metric: MetricName, label: string) =>
      new MathExpression({
        // Ids must be unique per graph: name the total after its metric (modelCostUsd, inputTokens, ...).
        expression: `${camel(metric)} / (automated + human)`,
        usingMetrics: { [camel(metric)]: m(metric, 'Sum', hour), ...conversations },
        period: hour,
        label,
      });
    new Dashboard(this, 'CostDashboard', {
      dashboardName: `${props.dashboardPrefix}-cost`,
      defaultInterval: Duration.days(7),
      widgets: [
        [new TextWidget({ markdown: '# SupportMax model cost', width: 24, height: 1 })],
        [
          graph('Model cost per hour (USD)', [costHourly]),
          graph('Tokens per hour', [
            m(METRICS.inputTokens, 'Sum', hour),
            m(METRICS.outputTokens, 'Sum', hour),
          ]),
          graph('Per resolved conversation', [
            perConversation(METRICS.modelCostUsd, 'USD'),
            perConversation(METRICS.inputTokens, 'input tokens'),
            perConversation(METRICS.outputTokens, 'output tokens'),
          ]),
        ],
        [
          new SingleValueWidget({
            title: 'Model cost, last 24 h (USD)',
            metrics: [m(METRICS.modelCostUsd, 'Sum', Duration.days(1))],
            width: 8,
          }),
        ],
      ],
    });

    // Alarms
    for (const [name, queue] of props.deadLetterQueues) {
      this.alarm(`${pascal(name)}DeadLetters`, {
        description: `A message reached the ${name} dead-letter queue`,
        metric: queue.metricApproximateNumberOfMessagesVisible({
          statistic: 'Maximum',
          period: Duration.minutes(1),
        }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }
    this.alarm('RestServerErrors', {
      description: 'The operator REST API answered with 5xx errors',
      metric: rest5xx,
      threshold: 5,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    this.alarm('TurnWorkflowFailures', {
      description: 'Turn workflow executions failed or timed out (customers got no answer from the workflow)',
      metric: new MathExpression({
        expression: 'failed + timedOut',
        usingMetrics: {
          failed: props.turnStateMachine.metricFailed({ statistic: 'Sum', period: Duration.minutes(5) }),
          timedOut: props.turnStateMachine.metricTimedOut({ statistic: 'Sum', period: Duration.minutes(5) }),
        },
        period: Duration.minutes(5),
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    this.alarm('EscalationWorkflowFailures', {
      description:
        'Escalation workflow executions failed, timed out or were aborted (cases may wait without SLA timers)',
      metric: new MathExpression({
        expression: 'failed + timedOut + aborted',
        usingMetrics: escalationFailures,
        period: Duration.minutes(5),
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    // One page for a slow P1, whichever shows it first: the SLA timer expiring while the case still waits
    // (at the tier's P1 target), or an agent's first reply arriving after five minutes.
    const p1Late = this.childAlarm('P1FirstResponseLate', {
      description: `A P1 case got its first agent reply after more than ${P1_FIRST_RESPONSE_ALARM_SECONDS / 60} minutes`,
      metric: ofPriority(METRICS.firstResponseSeconds, 'P1', 'Maximum'),
      threshold: P1_FIRST_RESPONSE_ALARM_SECONDS,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    const p1Breached = this.childAlarm('P1SlaBreached', {
      description: 'A P1 case passed its first-response target without an agent reply',
      metric: ofPriority(METRICS.slaBreaches, 'P1', 'Sum'),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    const p1FirstResponse = new CompositeAlarm(this, 'P1FirstResponseOverFiveMinutes', {
      alarmDescription:
        'P1 first response > 5 min: a P1 case breached its first-response SLA, or was first answered late',
      alarmRule: AlarmRule.anyOf(
        AlarmRule.fromAlarm(p1Late, AlarmState.ALARM),
        AlarmRule.fromAlarm(p1Breached, AlarmState.ALARM),
      ),
    });
    p1FirstResponse.addAlarmAction(new SnsAction(this.alarmTopic));
    this.alarms.push(p1FirstResponse);
    this.alarm('AutomationBelowTarget', {
      description: `Automation rate below ${props.automationTarget} for an hour (more escalations than expected)`,
      metric: automationRate,
      threshold: props.automationTarget,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
    });
    const costAnomaly = new AnomalyDetectionAlarm(this, 'ModelCostAnomaly', {
      alarmDescription: 'Hourly model cost above its expected band (anomaly detection on ModelCostUsd)',
      metric: costHourly,
      stdDevs: 2,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    costAnomaly.addAlarmAction(new SnsAction(this.alarmTopic));
    this.alarms.push(costAnomaly);
    if (props.hourlyCostBaselineUsd !== undefined) {
      this.alarm('ModelCostOverBaseline', {
        description: `Hourly model cost more than 20 % over the ${props.hourlyCostBaselineUsd} USD baseline`,
        metric: costHourly,
        threshold: props.hourlyCostBaselineUsd * 1.2,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      });
    }
    if (props.emailReputationAlarms) {
      // Account-level reputation rates SES publishes itself (bounced and complained addresses are suppressed
      // by the configuration set; these catch a rate that is climbing anyway).
      for (const [id, metricName, threshold] of [
        ['EmailBounceRate', 'Reputation.BounceRate', SES_BOUNCE_RATE_ALARM],
        ['EmailComplaintRate', 'Reputation.ComplaintRate', SES_COMPLAINT_RATE_ALARM],
      ] as const) {
        this.alarm(id, {
          description: `SES ${metricName} reached ${threshold * 100} %: SES reviews the account from there`,
          metric: new Metric({
            namespace: 'AWS/SES',
            metricName,
            statistic: 'Maximum',
            period: Duration.hours(1),
          }),
          threshold,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        });
      }
    }
  }

  private alarm(id: string, options: AlarmOptions): Alarm {
    const alarm = this.childAlarm(id, options);
    alarm.addAlarmAction(new SnsAction(this.alarmTopic));
    this.alarms.push(alarm);
    return alarm;
  }

  /** An alarm without actions, for a composite alarm to notify from. */
  private childAlarm(id: string, options: AlarmOptions): Alarm {
    return new Alarm(this, id, {
      alarmDescription: options.description,
      metric: options.metric,
      threshold: options.threshold,
      comparisonOperator: options.comparisonOperator,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}

interface AlarmOptions {
  readonly description: string;
  readonly metric: IMetric;
  readonly threshold: number;
  readonly comparisonOperator: ComparisonOperator;
}

function graph(
  title: string,
  metrics: IMetric[],
  options: { min?: number; max?: number; stacked?: boolean } = {},
): GraphWidget {
  return new GraphWidget({
    title,
    left: metrics,
    width: 8,
    height: 6,
    stacked: options.stacked,
    leftYAxis: { min: options.min ?? 0, max: options.max, showUnits: false },
  });
}

const camel = (name: string) => `${name.charAt(0).toLowerCase()}${name.slice(1)}`;
const pascal = (name: string) => name.replace(/(^|[-_ ])([a-z])/g, (_m, _d, c: string) => c.toUpperCase());
