// The init container's script, run for real by /bin/sh against a stand-in curl that plays an S3 store
// which is down at first, then up without the bucket, then has it.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureBucketContainer } from '../../src/kubernetes/render/components/object-store.js';
import { parseSpec } from '../../src/spec/parse.js';

const FAKE_CURL = `#!/bin/sh
# Records each call; answers from the scripted responses, one line per call.
echo "$*" >> "$DIR/calls"
n=$(wc -l < "$DIR/calls")
sed -n "\${n}p" "$DIR/responses"
`;

async function runScript(responses: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'ensure-bucket-'));
  writeFileSync(join(dir, 'curl'), FAKE_CURL);
  chmodSync(join(dir, 'curl'), 0o755);
  writeFileSync(join(dir, 'responses'), `${responses.join('\n')}\n`);
  writeFileSync(join(dir, 'sleep'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(dir, 'sleep'), 0o755);
  const container = ensureBucketContainer(parseSpec({ metadata: { name: 'logs', namespace: 'obs' } }));
  const [shell, flag, script] = container.command!;
  const { stdout } = await promisify(execFile)(shell!, [flag!, script!], {
    env: { PATH: `${dir}:/usr/bin:/bin`, DIR: dir, AWS_ACCESS_KEY_ID: 'id-123', AWS_SECRET_ACCESS_KEY: 'secret-456' },
    timeout: 10_000,
  });
  return { stdout, calls: readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n') };
}

test('waits for the store, creates the bucket once, and stops when the bucket answers', async () => {
  // HEAD: no connection (000); PUT: no connection; HEAD: 404; PUT: 200; HEAD: 200.
  const { stdout, calls } = await runScript(['000', '000', '404', '200', '200']);
  const method = (call: string) =>
    /(^| )--head( |$)/.test(call) ? 'HEAD' : call.includes('--request PUT') ? 'PUT' : call;
  expect(calls.map(method)).toEqual(['HEAD', 'PUT', 'HEAD', 'PUT', 'HEAD']);
  for (const call of calls) {
    expect(call).toContain('--aws-sigv4 aws:amz:us-east-1:s3');
    expect(call).toContain('--user id-123:secret-456');
    expect(call).toContain('x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(call.endsWith('http://logs-object-store.obs.svc.cluster.local:9000/loki')).toBe(true);
  }
  expect(stdout).toMatch(/bucket loki: not there yet \(create answered HTTP 000\)/);
  expect(stdout).toMatch(/bucket loki is ready\n$/);
  expect(stdout).not.toContain('secret-456');
});

test('an existing bucket is left alone', async () => {
  const { calls } = await runScript(['200']);
  expect(calls).toHaveLength(1);
  expect(calls[0]).toMatch(/(^| )--head( |$)/);
});
