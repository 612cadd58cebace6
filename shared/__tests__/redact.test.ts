import { describe, expect, test } from '@jest/globals';
import { describeError, redact, REDACTED, registerSecret } from '../src/redact.js';

describe('redact', () => {
  test.each([
    [
      'a Node dump of a request',
      "Error: Unexpected server response: 403 { headers: { Authorization: 'Bearer abcDEF123456.xyz' } }",
      'abcDEF123456',
    ],
    ['a header list', "authorization: [ 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln' ]", 'eyJhbGci'],
    ['a JWT alone', 'token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl in a message', 'eyJzdWIiOiJ4In0'],
    ['basic credentials', 'Authorization: Basic dXNlcjpwYXNzd29yZA==', 'dXNlcjpwYXNzd29yZA'],
    ['a URL with user and password', 'GET http://admin:hunter22@nomad:4646/v1/jobs failed', 'hunter22'],
    [
      'Secret data echoed as JSON by a webhook',
      'admission webhook "x" denied the request: {"kind":"Secret","stringData":{"AWS_SECRET_ACCESS_KEY":"abc/def+123"}}',
      'abc/def+123',
    ],
    ['Secret data as a Go map', 'denied: Secret data:map[password:c3VwZXJzZWNyZXQ=]', 'c3VwZXJzZWNyZXQ='],
    [
      'a 422 naming a data key',
      'Secret "x" is invalid: data[tls.key]: Invalid value: "LS0tsecretvalue": bad',
      'LS0tsecretvalue',
    ],
    ['key=value', 'token=abcdef123 next', 'abcdef123'],
    ['key: value', 'password: hunter2hunter2', 'hunter2hunter2'],
    ['a JSON field', '{"client-secret":"xyz-123-abc"}', 'xyz-123-abc'],
    ['a client key in a kubeconfig', 'client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo=', 'LS0tLS1CRUdJTi'],
    ['a PEM key', 'key:\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB\n-----END EC PRIVATE KEY-----\n', 'MHcCAQEEIB'],
  ])('removes %s', (_what, text, secret) => {
    const redacted = redact(text);
    expect(redacted).not.toContain(secret);
    expect(redacted).toContain(REDACTED);
  });

  test.each([
    'spec.gateway.passwordsSecret: must be a Secret name',
    'input "secret-access-key": required',
    'the gateway asks for basic authentication',
    'a bearer token is required',
    "secret_access_key: '${LOKI_S3_SECRET_ACCESS_KEY:-}'",
    'Secret loki/loki-gateway-passwords (spec.gateway.passwordsSecret) has no password for "admin"',
  ])('leaves messages that carry no credential as they are: %s', (text) => {
    expect(redact(text)).toBe(text);
  });

  test('removes a registered value wherever it appears, and its base64 form', () => {
    registerSecret('s3cr3t-Passw0rd-x');
    const text = `the value s3cr3t-Passw0rd-x, encoded ${Buffer.from('s3cr3t-Passw0rd-x').toString('base64')}`;
    expect(redact(text)).not.toMatch(/s3cr3t|czNjcjN0/);
  });

  test('a crash report keeps its stack and cause, redacted', () => {
    const error = new Error('request failed', { cause: new Error('Authorization: Bearer abcdef123456') });
    const report = describeError(error, { stack: true });
    expect(report).toMatch(/request failed[\s\S]*at [\s\S]*caused by: Error: Authorization: Bearer \[REDACTED\]/);
  });
});
