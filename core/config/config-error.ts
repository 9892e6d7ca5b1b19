/**
 * The one error a runtime throws for its configuration: every problem, so an operator
 * fixes a bad deployment in one go. Each runtime throws its own subclass
 * (WorkerConfigError, EventsConfigError, PurgeConfigError, EdgeCacheConfigError) so a
 * caller can tell whose settings are wrong.
 */
export class ConfigError extends Error {
  override readonly name: string = "ConfigError";
  /** Each problem on its own, `<SETTING>: <what is wrong>`. */
  readonly problems: readonly string[];

  /** `subject` names the configuration, e.g. "Worker configuration". */
  constructor(subject: string, problems: readonly string[], options?: ErrorOptions) {
    super(`invalid ${subject}: ${problems.join("; ")}`, options);
    this.problems = [...problems];
  }
}
