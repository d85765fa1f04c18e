// Drives the real @rudderstack/rudder-sdk-node against Tally (gzip on, its default). SCENARIO=all sends every call
// type with explicit ids; SCENARIO=retry sends three tracks with retries on.
const Analytics = require('@rudderstack/rudder-sdk-node');
const { PORT, WRITE_KEY, RUN, SCENARIO = 'all', TS } = process.env;
const retry = SCENARIO === 'retry';
const client = new Analytics(WRITE_KEY, {   // Authorization: Basic base64("<key>:")
  dataPlaneUrl: `http://127.0.0.1:${PORT}`, // path: /v1/batch
  retryCount: retry ? 5 : 0, gzip: true, timeout: 10000, flushInterval: 500, logLevel: 'error',
  errorHandler: (err) => { console.error('delivery failed:', err.response?.status ?? err.code ?? err.message); process.exitCode = 1; },
});
const id = (name) => `${RUN}-${name}`;
const context = { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0',
  page: { url: 'https://example.com/pricing', path: '/pricing', referrer: 'https://google.com/' },
  campaign: { source: 'newsletter' } };
if (retry) {
  for (const n of [1, 2, 3]) client.track({ messageId: id(`retry-${n}`), userId: 'u-retry', event: 'Retried', properties: { n } });
} else {
  client.identify({ messageId: id('identify'), userId: 'u1', traits: { email: 'a@example.com' }, context });
  client.track({ messageId: id('track'), userId: 'u1', event: 'Order Completed', properties: { revenue: 42.5 }, context, timestamp: new Date(TS) });
  client.page({ messageId: id('page'), userId: 'u1', category: 'Docs', name: 'Pricing', properties: { url: 'https://example.com/pricing' }, context });
  client.screen({ messageId: id('screen'), anonymousId: 'anon-1', name: 'Home', properties: { variant: 'a' } });
  client.group({ messageId: id('group'), userId: 'u1', groupId: 'org_1', traits: { name: 'Acme' } });
  client.alias({ messageId: id('alias'), userId: 'u1', previousId: 'anon-1' });
}
client.flush().then(() => console.log('rudder: done'));
