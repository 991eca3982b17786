import { tryThis } from '../../scripts/start';

/** What `npm start` tells a newcomer to try once serverless offline is up. */
describe('npm start', () => {
  it('shows both examples, POST /orders with where its event lands and POST /quotes, on the chosen port', () => {
    const text = tryThis({ HTTP_PORT: '3100' });
    expect(text).toContain("curl -i -XPOST localhost:3100/orders -H 'content-type: application/json'");
    expect(text).toContain("curl -i -XPOST localhost:3100/quotes -H 'content-type: application/json'");
    expect(text).toContain('npm run kafka -- console-consumer --topic order-events --from-beginning');
  });

  it('names the prefixed topic when KAFKA_TOPIC_PREFIX is set', () => {
    expect(tryThis({ KAFKA_TOPIC_PREFIX: 'dev-' })).toContain('--topic dev-order-events ');
  });
});
