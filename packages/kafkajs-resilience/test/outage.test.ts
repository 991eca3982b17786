import { OutageTracker, reportKafkaFailure, type OutageSink } from '../src/outage';

function tracker() {
  let now = 1_000_000;
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const t = new OutageTracker((level, message, fields) => lines.push({ level, message, fields }), {
    now: () => now,
  });
  return { t, lines, advance: (ms: number) => (now += ms) };
}

describe('OutageTracker', () => {
  it('says an outage once, a summary at most every 10 s, and once that it is over', () => {
    const { t, lines, advance } = tracker();
    t.success('producer'); // nothing to say while all is well
    t.failure('producer', new Error('connect ECONNREFUSED 127.0.0.1:9092'), '127.0.0.1:9092');
    for (let i = 0; i < 1000; i += 1) {
      advance(10); // 10 s in all
      if (i % 2) t.refused();
      else t.failure('reply listener', new Error('Connection error'));
    }
    advance(5_000);
    t.refused();
    t.success('producer');
    t.success('reply listener');

    expect(lines.map((l) => l.level)).toEqual(['warn', 'warn', 'info']);
    expect(lines[0]!.message).toBe(
      'Kafka unreachable at 127.0.0.1:9092: producer failed (connect ECONNREFUSED 127.0.0.1:9092); retrying quietly, a summary at most every 10 s',
    );
    expect(lines[1]!.message).toMatch(
      /^Kafka still unreachable after 10\.0 s: 501 failed attempt\(s\), 500 request\(s\) refused$/,
    );
    expect(lines[2]!.message).toBe('Kafka reachable again after 15.0 s (501 request(s) refused meanwhile)');
    expect(lines[2]!.fields).toMatchObject({
      event: 'kafka.reachable',
      broker: '127.0.0.1:9092',
      downForMs: 15_000,
      failures: 501,
      refused: 501,
      affected: ['producer', 'reply listener'],
    });
    expect(t.down).toBe(false);
  });

  it('counts a refusal only during an outage, and a second outage is told again', () => {
    const { t, lines, advance } = tracker();
    t.refused();
    expect(lines).toEqual([]);
    t.failure('producer', new Error('down'));
    advance(1000);
    t.success('producer');
    t.failure('producer', new Error('down again'));
    expect(lines.map((l) => l.fields.event)).toEqual(['kafka.unreachable', 'kafka.reachable', 'kafka.unreachable']);
  });

  it('says a broker that refuses the credentials in its own words, with what to fix, once', () => {
    const { t, lines, advance } = tracker();
    const refused = new Error('the Kafka broker could not take the message', {
      cause: Object.assign(new Error('SASL SCRAM SHA512 authentication failed: wrong password'), {
        name: 'KafkaJSSASLAuthenticationError',
      }),
    });
    for (let i = 0; i < 50; i += 1) {
      t.failure('producer', refused, '127.0.0.1:9096');
      advance(250);
    }
    expect(lines.map((l) => l.message)).toEqual([
      'Kafka at 127.0.0.1:9096 refused the producer (SASL SCRAM SHA512 authentication failed: wrong password): ' +
        'check the SASL username and password (or the secret holding them); retrying quietly, a summary at most every 10 s',
      'Kafka still refusing the client after 10.0 s: 41 failed attempt(s)',
    ]);
    expect(lines[0]!.fields).toMatchObject({ event: 'kafka.refused', refusal: 'credentials' });
  });
});

describe('reportKafkaFailure', () => {
  function sink(): OutageSink & { told: string[] } {
    const told: string[] = [];
    return {
      told,
      down: false,
      failure: (what) => told.push(what),
      success: () => undefined,
      refused: () => undefined,
    };
  }

  it('gives an unreachable broker to the outage sink and says so', () => {
    const outage = sink();
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' });
    expect(reportKafkaFailure(outage, 'producer', refused)).toBe(true);
    expect(outage.told).toEqual(['producer']);
  });

  it('gives a broker that refuses the client to the outage sink', () => {
    const outage = sink();
    const untrusted = Object.assign(new Error('Connection error: self-signed certificate in certificate chain'), {
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
    expect(reportKafkaFailure(outage, 'reply listener', untrusted)).toBe(true);
    expect(outage.told).toEqual(['reply listener']);
  });

  it('leaves any other failure, and any failure without a sink, to the caller', () => {
    const outage = sink();
    expect(reportKafkaFailure(outage, 'producer', new Error('Topic authorization failed'))).toBe(false);
    expect(reportKafkaFailure(undefined, 'producer', { unreachable: true })).toBe(false);
    expect(outage.told).toEqual([]);
  });
});
