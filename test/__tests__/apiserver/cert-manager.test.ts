// The simulated cert-manager of a test API server started with the cert-manager.io custom resources: issuers
// become Ready, Certificates are issued into their Secrets as cert-manager writes them, and the certificates
// chain: a leaf issued by a CA issuer verifies against its ca.crt, in a real TLS handshake too.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createServer, connect, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { startTestApiServer, type RunningApiServer } from '../../src/apiserver/index.js';
import type { KubeObject } from '../../src/apiserver/store.js';
import { send } from './http.js';
import { applier } from './stack.js';

let running: RunningApiServer;
let apply: ReturnType<typeof applier>;

beforeEach(async () => {
  running = await startTestApiServer({ readyAfterMs: 10, crds: ['cert-manager.io'] });
  apply = applier(running);
  await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
});
afterEach(async () => {
  await running.close();
});

type Json = Record<string, unknown>;
type Condition = {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
};

const issuer = (name: string, spec: Json, kind = 'Issuer') => ({
  apiVersion: 'cert-manager.io/v1',
  kind,
  metadata: { name, ...(kind === 'Issuer' ? { namespace: 'demo' } : {}) },
  spec,
});
const certificate = (name: string, spec: Json) => ({
  apiVersion: 'cert-manager.io/v1',
  kind: 'Certificate',
  metadata: { name, namespace: 'demo' },
  spec: { secretName: name, ...spec },
});
const get = (kind: string, name: string, namespace: string | undefined = 'demo') =>
  running.server.api.get(kind, namespace, name);
const conditions = (object: KubeObject) =>
  ((object.status as { conditions?: Condition[] } | undefined)?.conditions ?? []).map(
    ({ type, status, reason, message }) => ({ type, status, reason, message }),
  );
const secretText = (secret: KubeObject, key: string) =>
  Buffer.from((secret.data as Record<string, string>)[key]!, 'base64').toString('utf8');

/** A CA as our stacks set one up: a selfSigned Issuer, a CA Certificate it issues, a CA Issuer from its Secret. */
async function applyCa(): Promise<void> {
  await apply(issuer('selfsigned', { selfSigned: {} }));
  await apply(
    certificate('stack-ca', {
      isCA: true,
      commonName: 'stack CA',
      privateKey: { algorithm: 'ECDSA', size: 256 },
      issuerRef: { name: 'selfsigned', kind: 'Issuer', group: 'cert-manager.io' },
    }),
  );
  await apply(issuer('stack-ca', { ca: { secretName: 'stack-ca' } }));
}

const leaf = (spec: Json = {}) =>
  certificate('ingester-tls', {
    commonName: 'loki-ingester',
    dnsNames: ['loki-ingester.demo.svc', 'loki-ingester.demo.svc.cluster.local'],
    duration: '2h0m0s',
    usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'],
    privateKey: { algorithm: 'RSA', size: 2048, encoding: 'PKCS8' },
    issuerRef: { name: 'stack-ca', kind: 'Issuer', group: 'cert-manager.io' },
    ...spec,
  });

describe('issuers', () => {
  test('a selfSigned Issuer and ClusterIssuer are Ready at once', async () => {
    await apply(issuer('selfsigned', { selfSigned: {} }));
    await apply(issuer('cluster-selfsigned', { selfSigned: {} }, 'ClusterIssuer'));
    await running.server.cluster.idle();
    expect(conditions(get('Issuer', 'selfsigned'))).toEqual([
      { type: 'Ready', status: 'True', reason: 'IsReady', message: undefined },
    ]);
    expect(conditions(get('ClusterIssuer', 'cluster-selfsigned', undefined))).toEqual([
      { type: 'Ready', status: 'True', reason: 'IsReady', message: undefined },
    ]);
    expect((get('Issuer', 'selfsigned').status as { conditions: Condition[] }).conditions[0]).toMatchObject({
      observedGeneration: 1,
      lastTransitionTime: expect.any(String),
    });
  });

  test('a ca Issuer is Ready only once its Secret holds a CA key pair; a ClusterIssuer reads it in the cert-manager namespace', async () => {
    await apply(issuer('stack-ca', { ca: { secretName: 'stack-ca' } }));
    await apply(issuer('cluster-ca', { ca: { secretName: 'cluster-ca' } }, 'ClusterIssuer'));
    await running.server.cluster.idle();
    expect(conditions(get('Issuer', 'stack-ca'))).toEqual([
      {
        type: 'Ready',
        status: 'False',
        reason: 'ErrGetKeyPair',
        message: 'Error getting keypair for CA issuer: secret "stack-ca" not found',
      },
    ]);

    await apply(issuer('selfsigned', { selfSigned: {} }));
    await apply(certificate('stack-ca', { isCA: true, commonName: 'stack CA', issuerRef: { name: 'selfsigned' } }));
    await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cert-manager' } });
    await apply({
      ...certificate('cluster-ca', {
        isCA: true,
        commonName: 'cluster CA',
        issuerRef: { name: 'selfsigned-cluster', kind: 'ClusterIssuer' },
      }),
      metadata: { name: 'cluster-ca', namespace: 'cert-manager' },
    });
    await apply(issuer('selfsigned-cluster', { selfSigned: {} }, 'ClusterIssuer'));
    await running.server.cluster.idle();
    expect(conditions(get('Issuer', 'stack-ca'))).toEqual([
      { type: 'Ready', status: 'True', reason: 'KeyPairVerified', message: 'Signing CA verified' },
    ]);
    expect(conditions(get('ClusterIssuer', 'cluster-ca', undefined))).toEqual([
      { type: 'Ready', status: 'True', reason: 'KeyPairVerified', message: 'Signing CA verified' },
    ]);
  });

  test('a ca Issuer whose Secret holds no CA certificate is not Ready', async () => {
    await apply(issuer('selfsigned', { selfSigned: {} }));
    await apply(certificate('not-a-ca', { commonName: 'leaf', issuerRef: { name: 'selfsigned' } }));
    await apply(issuer('wrong', { ca: { secretName: 'not-a-ca' } }));
    await running.server.cluster.idle();
    expect(conditions(get('Issuer', 'wrong'))).toEqual([
      {
        type: 'Ready',
        status: 'False',
        reason: 'ErrInvalidKeyPair',
        message: 'Error getting keypair for CA issuer: certificate is not a CA',
      },
    ]);
  });
});

describe('certificates', () => {
  test('a CA Certificate from a selfSigned issuer: its own ca.crt, the default PKCS1 key encoding, cert sign usage', async () => {
    await applyCa();
    await running.server.cluster.idle();
    const secret = get('Secret', 'stack-ca');
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(Object.keys(secret.data as Json).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    expect(secretText(secret, 'ca.crt')).toBe(secretText(secret, 'tls.crt'));
    expect(secretText(secret, 'tls.key')).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n/);
    const ca = new X509Certificate(secretText(secret, 'tls.crt'));
    expect([ca.ca, ca.subject, ca.issuer]).toEqual([true, 'CN=stack CA', 'CN=stack CA']);
    expect(ca.verify(ca.publicKey)).toBe(true);
    const usages = new x509.X509Certificate(secretText(secret, 'tls.crt')).getExtension(x509.KeyUsagesExtension)!;
    expect(usages.usages).toBe(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.keyCertSign,
    );
  });

  test("a leaf from a CA issuer chains to ca.crt, with the requested SANs, usages and validity; the Secret and status are cert-manager's", async () => {
    await applyCa();
    await apply(leaf());
    await running.server.cluster.idle();
    const secret = get('Secret', 'ingester-tls');
    expect(secret.metadata.annotations).toEqual({
      'cert-manager.io/alt-names': 'loki-ingester.demo.svc,loki-ingester.demo.svc.cluster.local',
      'cert-manager.io/certificate-name': 'ingester-tls',
      'cert-manager.io/common-name': 'loki-ingester',
      'cert-manager.io/ip-sans': '',
      'cert-manager.io/issuer-group': 'cert-manager.io',
      'cert-manager.io/issuer-kind': 'Issuer',
      'cert-manager.io/issuer-name': 'stack-ca',
      'cert-manager.io/uri-sans': '',
    });
    expect(secret.metadata.labels).toEqual({ 'controller.cert-manager.io/fao': 'true' });
    const ca = new X509Certificate(secretText(secret, 'ca.crt'));
    expect(ca.fingerprint256).toBe(
      new X509Certificate(secretText(get('Secret', 'stack-ca'), 'tls.crt')).fingerprint256,
    );
    const cert = new X509Certificate(secretText(secret, 'tls.crt'));
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.subject).toBe('CN=loki-ingester');
    expect(cert.subjectAltName).toBe('DNS:loki-ingester.demo.svc, DNS:loki-ingester.demo.svc.cluster.local');
    expect(cert.checkPrivateKey(createPrivateKey(secretText(secret, 'tls.key')))).toBe(true);
    expect(secretText(secret, 'tls.key')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(createPrivateKey(secretText(secret, 'tls.key')).asymmetricKeyDetails?.modulusLength).toBe(2048);
    const parsed = new x509.X509Certificate(secretText(secret, 'tls.crt'));
    expect(parsed.getExtension(x509.KeyUsagesExtension)!.usages).toBe(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
    );
    expect(parsed.getExtension(x509.ExtendedKeyUsageExtension)!.usages).toEqual([
      x509.ExtendedKeyUsage.serverAuth,
      x509.ExtendedKeyUsage.clientAuth,
    ]);
    const notBefore = Date.parse(cert.validFrom);
    const notAfter = Date.parse(cert.validTo);
    expect(notAfter - notBefore).toBe(2 * 3_600_000);
    expect(Math.abs(notBefore - Date.now())).toBeLessThan(60_000);

    const status = get('Certificate', 'ingester-tls').status as Json;
    expect(conditions(get('Certificate', 'ingester-tls'))).toEqual([
      { type: 'Ready', status: 'True', reason: 'Ready', message: 'Certificate is up to date and has not expired' },
    ]);
    expect(status).toMatchObject({
      notBefore: new Date(notBefore).toISOString().replace('.000', ''),
      notAfter: new Date(notAfter).toISOString().replace('.000', ''),
      renewalTime: new Date(notAfter - 40 * 60_000).toISOString().replace('.000', ''),
      revision: 1,
    });
  });

  test('the issued pair serves TLS that a client trusting ca.crt accepts for the requested names, and one trusting another CA refuses', async () => {
    await applyCa();
    await apply(leaf());
    await apply(issuer('other-selfsigned', { selfSigned: {} }));
    await apply(
      certificate('other-ca', { isCA: true, commonName: 'other CA', issuerRef: { name: 'other-selfsigned' } }),
    );
    await running.server.cluster.idle();
    const secret = get('Secret', 'ingester-tls');
    const server = createServer({ cert: secretText(secret, 'tls.crt'), key: secretText(secret, 'tls.key') }, (socket) =>
      socket.end('hello'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const handshake = (ca: string, servername: string) =>
      new Promise<string>((resolve) => {
        const socket: TLSSocket = connect(
          { host: '127.0.0.1', port: (server.address() as AddressInfo).port, ca, servername },
          () => socket.once('data', (data) => resolve(data.toString())),
        );
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      });
    try {
      expect(await handshake(secretText(secret, 'ca.crt'), 'loki-ingester.demo.svc')).toBe('hello');
      expect(await handshake(secretText(secret, 'ca.crt'), 'loki-distributor.demo.svc')).toBe(
        'ERR_TLS_CERT_ALTNAME_INVALID',
      );
      expect(await handshake(secretText(get('Secret', 'other-ca'), 'ca.crt'), 'loki-ingester.demo.svc')).toBe(
        'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('kubectl get shows the Ready and Secret columns the CRD declares', async () => {
    await applyCa();
    await running.server.cluster.idle();
    const table = await send(running, 'GET', '/apis/cert-manager.io/v1/namespaces/demo/certificates', {
      headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
    });
    const { columnDefinitions, rows } = table.json as {
      columnDefinitions: { name: string }[];
      rows: { cells: unknown[] }[];
    };
    expect(columnDefinitions.map((column) => column.name)).toEqual(['Name', 'Ready', 'Secret', 'Age']);
    expect(rows.map((row) => row.cells.slice(0, 3))).toEqual([['stack-ca', 'True', 'stack-ca']]);
  });

  test('spec.renewBefore sets the renewal time; RSA keys default to PKCS1', async () => {
    await applyCa();
    await apply(leaf({ renewBefore: '30m', privateKey: { algorithm: 'RSA' } }));
    await running.server.cluster.idle();
    const status = get('Certificate', 'ingester-tls').status as { notAfter: string; renewalTime: string };
    expect(Date.parse(status.notAfter) - Date.parse(status.renewalTime)).toBe(30 * 60_000);
    expect(secretText(get('Secret', 'ingester-tls'), 'tls.key')).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
  });

  test('until its issuer is ready a Certificate is not Ready and waits; then it is issued', async () => {
    await apply(leaf());
    await running.server.cluster.idle();
    const waiting = [
      {
        type: 'Ready',
        status: 'False',
        reason: 'DoesNotExist',
        message: 'Issuing certificate as Secret does not exist',
      },
      {
        type: 'Issuing',
        status: 'True',
        reason: 'DoesNotExist',
        message: 'Issuing certificate as Secret does not exist',
      },
    ];
    expect(conditions(get('Certificate', 'ingester-tls'))).toEqual(waiting);
    await apply(issuer('stack-ca', { ca: { secretName: 'stack-ca' } }));
    await running.server.cluster.idle();
    expect(conditions(get('Certificate', 'ingester-tls'))).toEqual(waiting);
    expect(running.server.api.list('Secret', 'demo').map((s) => s.metadata.name)).toEqual([]);

    await apply(issuer('selfsigned', { selfSigned: {} }));
    await apply(certificate('stack-ca', { isCA: true, commonName: 'stack CA', issuerRef: { name: 'selfsigned' } }));
    await running.server.cluster.idle();
    expect(conditions(get('Certificate', 'ingester-tls'))).toEqual([
      { type: 'Ready', status: 'True', reason: 'Ready', message: 'Certificate is up to date and has not expired' },
    ]);
  });

  test('a spec change issues a new certificate (a new revision); so does a deleted Secret', async () => {
    await applyCa();
    await apply(leaf());
    await running.server.cluster.idle();
    const first = new X509Certificate(secretText(get('Secret', 'ingester-tls'), 'tls.crt'));
    await apply(leaf({ dnsNames: ['loki-ingester.demo.svc', 'loki-ingester-0.loki-ingester-headless.demo.svc'] }));
    await running.server.cluster.idle();
    const second = new X509Certificate(secretText(get('Secret', 'ingester-tls'), 'tls.crt'));
    expect(second.serialNumber).not.toBe(first.serialNumber);
    expect(second.subjectAltName).toBe(
      'DNS:loki-ingester.demo.svc, DNS:loki-ingester-0.loki-ingester-headless.demo.svc',
    );
    const certificateObject = get('Certificate', 'ingester-tls');
    expect(certificateObject.metadata.generation).toBe(2);
    expect(certificateObject.status).toMatchObject({
      revision: 2,
      conditions: [{ type: 'Ready', status: 'True', observedGeneration: 2 }],
    });
    const events = running.server.api
      .list('Event', 'demo', { fieldSelector: 'involvedObject.name=ingester-tls' })
      .map((event) => event.message);
    expect(events).toContain('Fields on existing CertificateRequest resource not up to date: [spec.dnsNames]');

    running.server.api.delete('Secret', 'demo', 'ingester-tls');
    await running.server.cluster.idle();
    expect(get('Certificate', 'ingester-tls').status).toMatchObject({ revision: 3 });
    expect(new X509Certificate(secretText(get('Secret', 'ingester-tls'), 'tls.crt')).subjectAltName).toBe(
      second.subjectAltName,
    );
  });

  test('a certificate cert-manager cannot issue reports the failure', async () => {
    await apply(issuer('selfsigned', { selfSigned: {} }));
    await apply(certificate('broken', { commonName: 'x', duration: 'ninety days', issuerRef: { name: 'selfsigned' } }));
    await running.server.cluster.idle();
    expect(conditions(get('Certificate', 'broken'))).toEqual([
      {
        type: 'Ready',
        status: 'False',
        reason: 'DoesNotExist',
        message: 'Issuing certificate as Secret does not exist',
      },
      {
        type: 'Issuing',
        status: 'False',
        reason: 'Failed',
        message: 'The certificate request has failed to complete and will be retried: invalid duration "ninety days"',
      },
    ]);
    await apply(certificate('broken', { commonName: 'x', duration: '24h', issuerRef: { name: 'selfsigned' } }));
    await running.server.cluster.idle();
    expect(conditions(get('Certificate', 'broken'))).toEqual([
      { type: 'Ready', status: 'True', reason: 'Ready', message: 'Certificate is up to date and has not expired' },
    ]);
    expect(get('Certificate', 'broken').status).not.toHaveProperty('lastFailureTime');
  });
});
