/**
 * Channels and patterns, as Redis counts and matches them. Each subscriber stands for one subscribed connection.
 * Messages reach subscribers after the publishing command returns (queued as microtasks,
 * in publish order), as they would over a socket: a script that publishes stays atomic,
 * and a subscriber callback can never run a command in the middle of another.
 */
import { type Bin, fromBin, globMatch } from "./bytes";

export type PubSubEvent =
  | { readonly kind: "message"; readonly channel: Uint8Array; readonly message: Uint8Array }
  | {
      readonly kind: "pmessage";
      readonly pattern: Uint8Array;
      readonly channel: Uint8Array;
      readonly message: Uint8Array;
    };

export class Subscriber {
  readonly channels = new Set<Bin>();
  readonly patterns = new Set<Bin>();

  constructor(readonly deliver: (event: PubSubEvent) => void) {}

  get count(): number {
    return this.channels.size + this.patterns.size;
  }
}

export class PubSub {
  private readonly channels = new Map<Bin, Set<Subscriber>>();
  private readonly patterns = new Map<Bin, Set<Subscriber>>();

  subscribe(subscriber: Subscriber, channel: Bin): number {
    subscriber.channels.add(channel);
    addTo(this.channels, channel, subscriber);
    return subscriber.count;
  }

  psubscribe(subscriber: Subscriber, pattern: Bin): number {
    subscriber.patterns.add(pattern);
    addTo(this.patterns, pattern, subscriber);
    return subscriber.count;
  }

  /** Drops every subscription of `subscriber` (its connection closed). */
  remove(subscriber: Subscriber): void {
    for (const channel of subscriber.channels) removeFrom(this.channels, channel, subscriber);
    for (const pattern of subscriber.patterns) removeFrom(this.patterns, pattern, subscriber);
    subscriber.channels.clear();
    subscriber.patterns.clear();
  }

  /** PUBLISH: how many subscriptions receive it. */
  publish(channel: Bin, message: Bin): number {
    let receivers = 0;
    const channelBytes = fromBin(channel);
    const messageBytes = fromBin(message);
    for (const subscriber of this.channels.get(channel) ?? []) {
      receivers++;
      queueMicrotask(() =>
        subscriber.deliver({ kind: "message", channel: channelBytes, message: messageBytes }),
      );
    }
    for (const [pattern, subscribers] of this.patterns) {
      if (!globMatch(pattern, channel)) continue;
      const patternBytes = fromBin(pattern);
      for (const subscriber of subscribers) {
        receivers++;
        queueMicrotask(() =>
          subscriber.deliver({
            kind: "pmessage",
            pattern: patternBytes,
            channel: channelBytes,
            message: messageBytes,
          }),
        );
      }
    }
    return receivers;
  }

  numsub(channel: Bin): number {
    return this.channels.get(channel)?.size ?? 0;
  }

  /** PUBSUB NUMPAT: distinct patterns with a subscriber. */
  numpat(): number {
    return this.patterns.size;
  }

  activeChannels(pattern: Bin | undefined): Bin[] {
    return [...this.channels.keys()].filter(
      (channel) => pattern === undefined || globMatch(pattern, channel),
    );
  }
}

function addTo(index: Map<Bin, Set<Subscriber>>, name: Bin, subscriber: Subscriber): void {
  const set = index.get(name);
  if (set) set.add(subscriber);
  else index.set(name, new Set([subscriber]));
}

function removeFrom(index: Map<Bin, Set<Subscriber>>, name: Bin, subscriber: Subscriber): void {
  const set = index.get(name);
  if (!set) return;
  set.delete(subscriber);
  if (set.size === 0) index.delete(name);
}
