/** The real SQS client pointed at the local SQS fake (dev/fakes/sqs), which checks only that requests are signed. */
import { SQSClient } from "@aws-sdk/client-sqs";
import type { SqsFake } from "../../dev/fakes/sqs";

export function sqsClient(fake: SqsFake): SQSClient {
  return new SQSClient({
    region: "us-east-1",
    endpoint: fake.url,
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test" },
  });
}
