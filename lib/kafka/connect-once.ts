/** A client that is connected once and shared, e.g. a kafkajs producer or admin. */
export interface ConnectOnce<T> {
  /** The connected client: connected on first use; after a failed connect, the next call tries again. */
  get(): Promise<T>;
  /** Disconnect the client if it was connected; the next `get` connects a new one. */
  close(): Promise<void>;
}

/**
 * Connect a client on first use and share it: concurrent callers wait for the same connection, and a
 * failed connection is forgotten (and its client disconnected) so that a broker that was down and came
 * back is reached by the next call.
 *
 * @example
 * const producer = connectOnce(() => kafka.producer());
 * await (await producer.get()).send({ topic, messages });
 */
export function connectOnce<T extends { connect(): Promise<void>; disconnect(): Promise<void> }>(
  create: () => T,
): ConnectOnce<T> {
  let connecting: Promise<T> | undefined;
  return {
    get: () =>
      (connecting ??= (async () => {
        const client = create();
        try {
          await client.connect();
          return client;
        } catch (error) {
          connecting = undefined;
          await client.disconnect().catch(() => undefined);
          throw error;
        }
      })()),
    async close() {
      const client = await connecting?.catch(() => undefined);
      connecting = undefined;
      await client?.disconnect();
    },
  };
}
