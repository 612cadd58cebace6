// spec.tls with provider `generated`: `apply` keeps a CA and a certificate per component in Secrets and
// renews what is due. A certificate is reissued when it is missing or unreadable, past 80% of its life, not
// signed by the current CA, made for other names, or of another lifetime than the spec asks; otherwise it
// is kept byte for byte, so that an unchanged stack applies unchanged. The CA lives ten times as long as a
// component certificate; a new CA is trusted alongside the old one while the old one is valid, so that pods
// not yet rolled still verify their peers. ECDSA P-256 keys, made with Node's WebCrypto through @peculiar/x509.
import { randomBytes, webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import type { V1Secret } from '@kubernetes/client-node';
import { ClusterError } from '../../errors.js';
import { checksum, metadata, stackSelector } from '../render/common.js';
import type { PodAnnotations } from '../render/index.js';
import {
  caSecretName,
  certificateRequests,
  RENEW_AT_FRACTION,
  TLS_HASH_ANNOTATION,
  TLS_KEYS,
  type CertificateRequest,
} from '../render/tls.js';
import { COMPONENTS } from '../../spec/components.js';
import { parseDurationMs } from '../../spec/quantity.js';
import type { LokiStack } from '../../spec/schema.js';
import type { Connection } from './connection.js';
import { withRetry, type RetryPolicy } from './retry.js';
import { secretValues, type SecretValues } from './secret-values.js';

let x509: typeof X509;

/**
 * Loads @peculiar/x509 on first use: it takes longer to load than the rest of apply's code, and only stacks with
 * generated certificates need it.
 */
async function loadX509(): Promise<void> {
  if (x509) return;
  // Its decorators need the reflect-metadata polyfill loaded first.
  await import('reflect-metadata');
  // A CommonJS package: Node's import() names its exports, a bundle's hands over only module.exports as default.
  const loaded = (await import('@peculiar/x509')) as typeof X509 & { default?: typeof X509 };
  x509 = loaded.default ?? loaded;
  // The last overload is set(name, crypto): its second parameter is the Crypto type, whichever lib declares it.
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
/** Certificates start a little in the past, for clocks that run behind. */
const BACKDATE_MS = 5 * 60_000;
export const CA_LIFETIME_FACTOR = 10;

export interface IssuedTls {
  secrets: V1Secret[];
  /** The hash of each component's certificate and trusted CAs, for its pod template: a change rolls the pods. */
  podAnnotations: PodAnnotations;
  /** Names of the Secrets whose certificate was (re)issued now. */
  issued: string[];
}

interface KeyPair {
  certificate: X509.X509Certificate;
  keyPem: string;
  key: webcrypto.CryptoKey;
}

/** The stack's TLS Secrets as they should be at `now`, from what the cluster holds (`current`, by Secret name). */
export async function tlsSecrets(
  stack: LokiStack,
  current: (name: string) => SecretValues | undefined,
  now = new Date(),
): Promise<IssuedTls> {
  await loadX509();
  const validityMs = parseDurationMs(stack.spec.tls.validity);
  const issued: string[] = [];
  const caName = caSecretName(stack);
  const currentCa = await readKeyPair(current(caName));
  const keepCa =
    currentCa && isCurrent(currentCa.certificate, CA_LIFETIME_FACTOR * validityMs, now) && isCa(currentCa.certificate);
  const ca = keepCa ? currentCa : await issueCa(stack, CA_LIFETIME_FACTOR * validityMs, now);
  if (!keepCa) issued.push(caName);
  const trusted = trustBundle(
    ca.certificate,
    [...parseBundle(current(caName)?.[TLS_KEYS.ca]), ...(currentCa ? [currentCa.certificate] : [])],
    now,
  );

  const secrets: V1Secret[] = [
    tlsSecret(stack, caName, undefined, { cert: pem(ca.certificate), key: ca.keyPem, ca: trusted }),
  ];
  const podAnnotations: PodAnnotations = {};
  for (const request of certificateRequests(stack)) {
    const leaf = await readKeyPair(current(request.secretName));
    const keep =
      leaf &&
      isCurrent(leaf.certificate, validityMs, now) &&
      (await signedBy(leaf.certificate, ca.certificate)) &&
      sameNames(leaf.certificate, request);
    const pair = keep ? leaf : await issueLeaf(request, ca, validityMs, now);
    if (!keep) issued.push(request.secretName);
    const files = { cert: pem(pair.certificate), key: pair.keyPem, ca: trusted };
    secrets.push(tlsSecret(stack, request.secretName, COMPONENTS[request.component].target, files));
    podAnnotations[COMPONENTS[request.component].target] = { [TLS_HASH_ANNOTATION]: checksum(files.cert + files.ca) };
  }
  return { secrets, podAnnotations, issued };
}

/** The annotation of each component from certificate Secrets someone else issued (cert-manager). */
export function tlsAnnotationsOf(
  stack: LokiStack,
  current: (name: string) => SecretValues | undefined,
): PodAnnotations {
  const annotations: PodAnnotations = {};
  for (const request of certificateRequests(stack)) {
    const values = current(request.secretName);
    if (values?.[TLS_KEYS.cert])
      annotations[COMPONENTS[request.component].target] = {
        [TLS_HASH_ANNOTATION]: checksum(values[TLS_KEYS.cert] + (values[TLS_KEYS.ca] ?? '')),
      };
  }
  return annotations;
}

/** Valid now, not yet at 80% of its life, and of the lifetime the spec asks (a changed `validity` reissues). */
export function isCurrent(certificate: X509.X509Certificate, lifetimeMs: number, now: Date): boolean {
  const start = certificate.notBefore.getTime();
  const end = certificate.notAfter.getTime();
  const lifetimeMatches = Math.abs(end - start - (lifetimeMs + BACKDATE_MS)) < 60_000;
  return now.getTime() >= start && now.getTime() < start + RENEW_AT_FRACTION * (end - start) && lifetimeMatches;
}

function isCa(certificate: X509.X509Certificate): boolean {
  return certificate.getExtension(x509.BasicConstraintsExtension)?.ca === true;
}

async function signedBy(certificate: X509.X509Certificate, ca: X509.X509Certificate): Promise<boolean> {
  return (
    certificate.issuer === ca.subject && (await certificate.verify({ publicKey: ca.publicKey, signatureOnly: true }))
  );
}

/** The DNS names a certificate carries. */
export function dnsNamesOf(certificate: X509.X509Certificate): string[] {
  return (certificate.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? [])
    .filter((name) => name.type === 'dns')
    .map((name) => name.value);
}

function sameNames(certificate: X509.X509Certificate, request: CertificateRequest): boolean {
  const names = dnsNamesOf(certificate);
  return names.length === request.dnsNames.length && request.dnsNames.every((name) => names.includes(name));
}

/** The CA that signs, then the earlier CAs that are still valid (pods that have not rolled yet hold their certificates). */
function trustBundle(ca: X509.X509Certificate, earlier: X509.X509Certificate[], now: Date): string {
  const seen = new Set([ca.serialNumber]);
  const kept = earlier.filter(
    (certificate) =>
      certificate.notAfter > now && !seen.has(certificate.serialNumber) && seen.add(certificate.serialNumber),
  );
  return [ca, ...kept].map(pem).join('');
}

async function issueCa(stack: LokiStack, lifetimeMs: number, now: Date): Promise<KeyPair> {
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=loki-microservices CA ${stack.metadata.namespace}/${stack.metadata.name}`,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + lifetimeMs),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate, key: keys.privateKey, keyPem: await keyPem(keys.privateKey) };
}

async function issueLeaf(request: CertificateRequest, ca: KeyPair, lifetimeMs: number, now: Date): Promise<KeyPair> {
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${request.commonName}`,
    issuer: ca.certificate.subject,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + lifetimeMs),
    signingKey: ca.key,
    publicKey: keys.publicKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      // Every component is a server to some peers and a client of others.
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(request.dnsNames.map((value) => ({ type: 'dns' as const, value }))),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate, key: keys.privateKey, keyPem: await keyPem(keys.privateKey) };
}

function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']) as Promise<webcrypto.CryptoKeyPair>;
}

/** A positive random serial of 16 bytes, as RFC 5280 asks. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0]! &= 0x7f;
  return bytes.toString('hex');
}

async function keyPem(key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY') + '\n';
}

const pem = (certificate: X509.X509Certificate) => certificate.toString('pem') + '\n';

function parseBundle(text: string | undefined): X509.X509Certificate[] {
  if (!text) return [];
  try {
    return x509.PemConverter.decode(text).map((der) => new x509.X509Certificate(der));
  } catch {
    return [];
  }
}

/** The certificate and key of a TLS Secret, or undefined when either is missing or unreadable. */
async function readKeyPair(values: SecretValues | undefined): Promise<KeyPair | undefined> {
  const certText = values?.[TLS_KEYS.cert];
  const keyText = values?.[TLS_KEYS.key];
  if (!certText || !keyText) return undefined;
  try {
    const certificate = new x509.X509Certificate(certText);
    const key = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decode(keyText)[0]!, ALGORITHM, true, [
      'sign',
    ]);
    return { certificate, key, keyPem: keyText };
  } catch {
    return undefined;
  }
}

function tlsSecret(
  stack: LokiStack,
  name: string,
  component: string | undefined,
  files: { cert: string; key: string; ca: string },
): V1Secret {
  const data = { [TLS_KEYS.cert]: files.cert, [TLS_KEYS.key]: files.key, [TLS_KEYS.ca]: files.ca };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadata(stack, name, component),
    type: 'kubernetes.io/tls',
    data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
  };
}

/** How long apply waits for cert-manager to issue the certificates before it applies the workloads. */
const CERT_MANAGER_TIMEOUT_MS = 120_000;

/** With provider cert-manager: the values of the certificate Secrets once cert-manager has issued every one. */
export async function issuedByCertManager(
  connection: Connection,
  stack: LokiStack,
  retry: RetryPolicy,
): Promise<(name: string) => SecretValues | undefined> {
  const names = certificateRequests(stack).map((request) => request.secretName);
  const namespace = stack.metadata.namespace;
  const deadline = Date.now() + CERT_MANAGER_TIMEOUT_MS;
  for (;;) {
    const secrets = await withRetry(
      `listing Secrets in ${namespace}`,
      () => connection.core.listNamespacedSecret({ namespace, labelSelector: stackSelector(stack.metadata.name) }),
      retry,
    );
    const issued = new Map(
      secrets.items
        .filter((secret) => secret.data?.[TLS_KEYS.cert])
        .map((secret) => [secret.metadata!.name!, secretValues(secret)]),
    );
    const missing = names.filter((name) => !issued.has(name));
    if (missing.length === 0) return (name) => issued.get(name);
    if (Date.now() > deadline) {
      throw new ClusterError(
        `cert-manager has not issued ${missing.join(', ')} within ${CERT_MANAGER_TIMEOUT_MS / 1000} s: see kubectl -n ${namespace} describe certificate ${missing[0]}`,
        504,
        'Timeout',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
