/**
 * `npm run origin -- --port 8788 --seed 42 [--latency-ms 20]`
 *
 * Prints exactly one line, `origin: <url>`, once the server listens, so scripts can wait for
 * it and read the URL; exit code 2 means the command line was wrong.
 */
import { CliUsageError, parseCliOptions, USAGE } from "./cli-options";
import { startOriginServer } from "./server";

async function main(): Promise<void> {
  let options: ReturnType<typeof parseCliOptions>;
  try {
    options = parseCliOptions(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    console.error(`origin: ${error.message} (see --help)`);
    process.exitCode = 2;
    return;
  }
  if (options === null) {
    console.log(USAGE);
    return;
  }

  const server = await startOriginServer(options);
  console.log(`origin: ${server.url}`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error("origin: error while stopping:", error);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((error: unknown) => {
  console.error("origin: failed to start:", error instanceof Error ? error.message : error);
  process.exit(1);
});
