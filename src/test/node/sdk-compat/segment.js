// Drives the real @segment/analytics-node against Tally. SCENARIO=all sends every call type with explicit ids;
// SCENARIO=retry sends three tracks with retries on (the test makes Tally refuse the first attempt).
const { Analytics } = require('@segment/analytics-node');
const { PORT, WRITE_KEY, RUN, SCENARIO = 'all', TS } = process.env;
const retry = SCENARIO === 'retry';
const analytics = new Analytics({
  writeKey: WRITE_KEY,                 // Authorization: Basic base64("<key>:") and body.writeKey
  host: `http://127.0.0.1:${PORT}`,    // path: /v1/batch
  maxRetries: retry ? 5 : 0,
  flushInterval: 500, httpRequestTimeout: 10000,
});
analytics.on('error', (err) => { console.error('delivery failed:', err.reason?.message ?? err); process.exitCode = 1; });
const id = (name) => `${RUN}-${name}`;
const context = { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0', locale: 'de-DE',
  page: { url: 'https://example.com/pricing?plan=pro', path: '/pricing', referrer: 'https://google.com/', title: 'Pricing' },
  campaign: { source: 'newsletter', medium: 'email', name: 'spring' } };
if (retry) {
  for (const n of [1, 2, 3]) analytics.track({ messageId: id(`retry-${n}`), userId: 'u-retry', event: 'Retried', properties: { n } });
} else {
  analytics.identify({ messageId: id('identify'), userId: 'u1', anonymousId: 'anon-1', traits: { email: 'a@example.com', plan: 'pro' }, context, timestamp: TS });
  analytics.track({ messageId: id('track'), userId: 'u1', event: 'Order Completed', properties: { revenue: 42.5 }, context, timestamp: TS });
  analytics.track({ messageId: id('catalogue'), userId: 'u1', event: 'Message Received', properties: { provider: 'openai', model: 'gpt-4o', tokens: 30, cost: 0.01, responseTimeMs: 250 }, timestamp: TS });
  analytics.page({ messageId: id('page'), userId: 'u1', category: 'Docs', name: 'Pricing', properties: { url: 'https://example.com/pricing' }, context, timestamp: TS });
  analytics.screen({ messageId: id('screen'), anonymousId: 'anon-1', name: 'Home', properties: { variant: 'a' }, timestamp: TS });
  analytics.group({ messageId: id('group'), userId: 'u1', groupId: 'org_1', traits: { name: 'Acme' }, timestamp: TS });
  analytics.alias({ messageId: id('alias'), userId: 'u1', previousId: 'anon-1', timestamp: TS });
}
analytics.closeAndFlush({ timeout: 30000 }).then(() => console.log('segment: done'));
