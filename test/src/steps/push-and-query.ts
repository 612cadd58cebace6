// A later CI step as a workflow writes one: push a log line to the URL the Action handed over, then query it
// back, retrying until it is found or 30 s pass. A process of its own, as the runner runs each step.
// Usage: node push-and-query.js <push-url> <query-url> [user:password]; exit 0 when the line was read back.
const [pushUrl, queryUrl, credentials] = process.argv.slice(2);
if (!pushUrl || !queryUrl) {
  process.stderr.write('usage: push-and-query.js <push-url> <query-url> [user:password]\n');
  process.exit(2);
}
const auth: Record<string, string> = credentials
  ? { Authorization: `Basic ${Buffer.from(credentials).toString('base64')}` }
  : {};
const line = `pushed by a later step ${process.pid} ${Date.now()}`;
const now = `${Date.now()}000000`;
const push = await fetch(pushUrl, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json', ...auth },
  body: JSON.stringify({ streams: [{ stream: { job: 'later-step' }, values: [[now, line]] }] }),
});
if (!push.ok) {
  process.stderr.write(`push answered HTTP ${push.status}: ${await push.text()}\n`);
  process.exit(1);
}
const query = new URLSearchParams({ query: '{job="later-step"}', start: String(Math.floor(Date.now() / 1000) - 600) });
const deadline = Date.now() + 30_000;
for (;;) {
  const answer = await fetch(`${queryUrl}/loki/api/v1/query_range?${query}`, { headers: auth });
  const body = await answer.text();
  if (answer.status === 200 && body.includes(line)) break;
  if (Date.now() > deadline) {
    process.stderr.write(`the line was not read back: HTTP ${answer.status} ${body.slice(0, 300)}\n`);
    process.exit(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
}
process.stdout.write(`read back: ${line}\n`);
