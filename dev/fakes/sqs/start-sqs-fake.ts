/** Starts the SQS fake on a port: the queues, the actions over them, and the HTTP app, served on Node. */
import { serveApp } from "../../support/serve-app";
import { createSqsActions, InjectedEntryFailures } from "./actions";
import { SqsAddresses } from "./addresses";
import { createSqsFakeApp, type RecordedSqsRequest } from "./app";
import { type SqsFakeMessage, type SqsFakeQueueOptions, SqsQueues } from "./queue-model";

export interface SqsFakeOptions {
  readonly queues: readonly SqsFakeQueueOptions[];
  /** 0 or unset: a free port. */
  readonly port?: number;
  readonly hostname?: string;
  /** Milliseconds (default Date.now). */
  readonly now?: () => number;
  /** In queue URLs and ARNs (default 000000000000 and us-east-1). */
  readonly accountId?: string;
  readonly region?: string;
  /** Largest body, and largest sum of a batch's bodies (default 262,144 bytes). */
  readonly maxMessageBytes?: number;
}

export interface SqsFake {
  readonly url: string;
  /** The URL the SDK takes as `QueueUrl`; throws for a queue the fake does not have. */
  queueUrl(name: string): string;
  /** A snapshot of the queue's messages, in send order. */
  messages(name: string): SqsFakeMessage[];
  /** Every SQS request, with its answer. */
  readonly requests: RecordedSqsRequest[];
  /** The next `count` SendMessageBatch entries fail on their own (`InternalError`, not the sender's fault). */
  failNextEntries(count: number): void;
  close(): Promise<void>;
}

export async function startSqsFake(options: SqsFakeOptions): Promise<SqsFake> {
  const queues = new SqsQueues(options.queues, options.now ?? Date.now);
  const addresses = new SqsAddresses(options.accountId ?? "000000000000", options.region ?? "us-east-1");
  const entryFailures = new InjectedEntryFailures();
  const requests: RecordedSqsRequest[] = [];
  const actions = createSqsActions({
    queues,
    addresses,
    maxMessageBytes: options.maxMessageBytes ?? 262_144,
    entryFailures,
  });
  const served = await serveApp(createSqsFakeApp({ queues, addresses, actions, requests }), options);
  addresses.baseUrl = served.url;

  const queueNamed = (name: string) => {
    const queue = queues.get(name);
    if (!queue) throw new TypeError(`the SQS fake has no queue ${name}`);
    return queue;
  };
  return {
    url: served.url,
    queueUrl: (name) => addresses.url(queueNamed(name).name),
    messages(name) {
      const queue = queueNamed(name);
      const at = queues.now();
      return queue.messages.map((message) => queues.view(message, at));
    },
    requests,
    failNextEntries: (count) => entryFailures.add(count),
    close: () => served.close(),
  };
}
