/** Queue URLs and ARNs as SQS spells them; the base URL is known once the fake listens. */
export class SqsAddresses {
  baseUrl = "";

  constructor(
    readonly accountId: string,
    readonly region: string,
  ) {}

  url(queue: string): string {
    return `${this.baseUrl}/${this.accountId}/${queue}`;
  }

  arn(queue: string): string {
    return `arn:aws:sqs:${this.region}:${this.accountId}:${queue}`;
  }
}

/** The queue name a QueueUrl names: its last path segment, whatever the host (the SDK may rewrite it). */
export function queueNameOf(queueUrl: string): string | undefined {
  return URL.canParse(queueUrl) ? new URL(queueUrl).pathname.split("/").pop() : undefined;
}
