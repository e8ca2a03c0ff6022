import { InvalidArgumentError } from '@baton/llm-client';
import kafkajs from 'kafkajs';
import type { Kafka, KafkaConfig as KafkaJsConfig } from 'kafkajs';

/** How an adapter reaches Kafka: a `Kafka` instance you built, or brokers to build one from. */
export interface KafkaConnectionOptions {
  /** `host:port` of the bootstrap brokers (with `clientId`, the adapter builds its own `Kafka`). */
  readonly brokers?: readonly string[] | undefined;
  /** Default `baton`. */
  readonly clientId?: string | undefined;
  /** More kafkajs client settings for the `Kafka` built from `brokers` (ssl, sasl, retry, logLevel…). */
  readonly kafkaConfig?: Omit<KafkaJsConfig, 'brokers' | 'clientId'> | undefined;
  /** A kafkajs `Kafka` instance you built; the adapter creates its producer or consumer from it. */
  readonly kafka?: Pick<Kafka, 'producer' | 'consumer'> | undefined;
}

/** The `Kafka` to create clients from, checking that exactly one way was given. */
export function kafkaOf(options: KafkaConnectionOptions, what: string): Pick<Kafka, 'producer' | 'consumer'> {
  if (options.kafka !== undefined) {
    if (options.brokers !== undefined) throw new InvalidArgumentError('brokers', `pass one of kafka, brokers (or ${what})`);
    if (typeof options.kafka?.producer !== 'function') throw new InvalidArgumentError('kafka', 'must be a kafkajs Kafka instance');
    return options.kafka;
  }
  const { brokers } = options;
  if (!Array.isArray(brokers) || brokers.length === 0 || brokers.some((b) => typeof b !== 'string' || !/^[^\s:]+:\d+$/.test(b))) {
    throw new InvalidArgumentError('brokers', `needs one or more 'host:port' (or pass kafka or ${what})`);
  }
  const clientId = options.clientId ?? 'baton';
  if (typeof clientId !== 'string' || clientId === '') throw new InvalidArgumentError('clientId', 'must be a non-empty string');
  return new kafkajs.Kafka({ ...options.kafkaConfig, brokers: [...brokers], clientId });
}

export function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new InvalidArgumentError(name, 'must be a positive integer');
  return value;
}

export function nonNegativeInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new InvalidArgumentError(name, 'must be an integer ≥ 0');
  return value;
}

export function optionalFunction<F>(value: F | undefined, name: string): F | undefined {
  if (value !== undefined && typeof value !== 'function') throw new InvalidArgumentError(name, 'must be a function');
  return value;
}

/** A callback that cannot throw into the adapter. */
export function guarded<A extends unknown[]>(fn: ((...args: A) => void) | undefined): (...args: A) => void {
  if (!fn) return () => {};
  return (...args) => {
    try {
      fn(...args);
    } catch {
      // Nowhere left to report to.
    }
  };
}
