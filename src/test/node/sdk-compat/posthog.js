// Drives the real posthog-node (+ @posthog/ai) against Tally (gzip on, its default). Prints the uuids it used.
// SCENARIO=all sends events of every kind; SCENARIO=retry sends three events with retries on.
const { PostHog } = require('posthog-node');
const { captureAiGeneration } = require('@posthog/ai');
const { randomUUID } = require('crypto');
const { PORT, WRITE_KEY, SCENARIO = 'all' } = process.env;
const retry = SCENARIO === 'retry';
const posthog = new PostHog(WRITE_KEY, {   // body.api_key
  host: `http://127.0.0.1:${PORT}`,        // path: /batch/
  fetchRetryCount: retry ? 3 : 0, requestTimeout: 10000, flushInterval: 0,
});
posthog.on('error', (err) => { console.error('delivery failed:', err.message); process.exitCode = 1; });
const ids = {};
const uuid = (name) => (ids[name] = randomUUID());
(async () => {
  if (retry) {
    for (const n of [1, 2, 3]) posthog.capture({ uuid: uuid(`retry-${n}`), distinctId: 'u-retry', event: 'retried', properties: { n } });
  } else {
    posthog.capture({ uuid: uuid('custom'), distinctId: 'u1', event: 'order_completed', properties: { revenue: 42.5, $session_id: 'sess-1' } });
    posthog.capture({ uuid: uuid('pageview'), distinctId: 'u1', event: '$pageview', properties: { $current_url: 'https://example.com/pricing?utm_source=ads', $pathname: '/pricing', $referrer: 'https://google.com/', $session_id: 'sess-1' } });
    posthog.capture({ uuid: uuid('conversation'), distinctId: 'u1', event: 'conversation_created', properties: { conversationId: 'c1' } });
    posthog.identify({ distinctId: 'u1', properties: { $set: { email: 'a@example.com' }, $set_once: { first_seen: '2024-01-01' }, $anon_distinct_id: 'anon-ph' } });
    posthog.alias({ distinctId: 'u1', alias: 'anon-2' });
    await captureAiGeneration(posthog, {
      distinctId: 'u1', traceId: 'trace-1', provider: 'openai', model: 'gpt-4o-mini', baseURL: 'https://api.openai.com/v1',
      input: [{ role: 'user', content: 'hi' }], output: [{ role: 'assistant', content: 'hello' }],
      usage: { inputTokens: 12, outputTokens: 5 }, latency: 0.842,
      costOverride: { inputCost: 0.15e-6, outputCost: 0.6e-6 },
    });
    await captureAiGeneration(posthog, {
      distinctId: 'u1', traceId: 'trace-2', provider: 'openai', model: 'gpt-4o-mini', baseURL: 'https://api.openai.com/v1',
      input: [{ role: 'user', content: 'hi' }], output: [], usage: {}, latency: 0.1,
      error: Object.assign(new Error('rate limited'), { status: 429 }),
    });
  }
  try {
    await posthog.flush();               // rejects on an HTTP error
  } catch (err) {
    console.error('flush failed:', err.message); process.exitCode = 1;
  }
  await posthog.shutdown(10000);
  console.log('IDS ' + JSON.stringify(ids));
  console.log('posthog: done');
})();
