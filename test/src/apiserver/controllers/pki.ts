// Certificate issuance for the simulated cert-manager, with @peculiar/x509 on WebCrypto: a key pair as the
// Certificate's privateKey asks (RSA 2048/3072/4096, ECDSA P-256/P-384/P-521, Ed25519), a certificate
// from cert-manager's template (subject, SANs, key usages, basic constraints, validity from now), signed
// by its own key (selfSigned issuer) or by a CA's key pair (ca issuer), with Go's key identifiers: a
// subject key ID on CA certificates, an authority key ID from the signer's. The key is PEM in the encoding
// the Certificate asks for (PKCS1 by default: `RSA PRIVATE KEY`, `EC PRIVATE KEY`; Ed25519 keys are always
// PKCS#8), as cert-manager writes it.
// @peculiar/x509 needs the reflect-metadata polyfill loaded before it.
import 'reflect-metadata';
import {
  createPrivateKey,
  createPublicKey,
  KeyObject,
  randomBytes,
  webcrypto,
  X509Certificate as NodeCertificate,
} from 'node:crypto';
import * as x509 from '@peculiar/x509';
import '../tls.js'; // sets @peculiar/x509's crypto provider

type Algorithm = 'RSA' | 'ECDSA' | 'Ed25519';

export interface CertificateTemplate {
  commonName?: string;
  organizations?: string[];
  organizationalUnits?: string[];
  countries?: string[];
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
  emailAddresses: string[];
  durationMs: number;
  isCA: boolean;
  /** cert-manager's usage names: `digital signature`, `key encipherment`, `server auth`… */
  usages: string[];
  privateKey: { algorithm: Algorithm; size?: number; encoding: 'PKCS1' | 'PKCS8' };
  /** A key to reuse (rotationPolicy Never), as PEM. */
  existingKeyPem?: string;
}

/** Who signs: the certificate's own key, or a CA whose certificate(s) and key come from a Secret. */
export type Signer = { selfSigned: true } | { caCertificatesPem: string; caKeyPem: string };

export interface Issued {
  /** The certificate, followed by the signing CA's chain up to (not including) a self-signed root. */
  chainPem: string;
  keyPem: string;
  /** The root of the chain (the certificate itself when self-signed). */
  caPem: string;
  notBefore: Date;
  notAfter: Date;
}

/** A request cert-manager would refuse; its message becomes the Certificate's failure reason. */
export class IssuanceError extends Error {}

const KEY_USAGES: Record<string, number> = {
  signing: x509.KeyUsageFlags.digitalSignature,
  'digital signature': x509.KeyUsageFlags.digitalSignature,
  'content commitment': x509.KeyUsageFlags.nonRepudiation,
  'key encipherment': x509.KeyUsageFlags.keyEncipherment,
  'key agreement': x509.KeyUsageFlags.keyAgreement,
  'data encipherment': x509.KeyUsageFlags.dataEncipherment,
  'cert sign': x509.KeyUsageFlags.keyCertSign,
  'crl sign': x509.KeyUsageFlags.cRLSign,
  'encipher only': x509.KeyUsageFlags.encipherOnly,
  'decipher only': x509.KeyUsageFlags.decipherOnly,
};

const EXTENDED_KEY_USAGES: Record<string, string> = {
  any: '2.5.29.37.0',
  'server auth': x509.ExtendedKeyUsage.serverAuth,
  'client auth': x509.ExtendedKeyUsage.clientAuth,
  'code signing': x509.ExtendedKeyUsage.codeSigning,
  'email protection': x509.ExtendedKeyUsage.emailProtection,
  's/mime': x509.ExtendedKeyUsage.emailProtection,
  'ipsec end system': '1.3.6.1.5.5.7.3.5',
  'ipsec tunnel': '1.3.6.1.5.5.7.3.6',
  'ipsec user': '1.3.6.1.5.5.7.3.7',
  timestamping: x509.ExtendedKeyUsage.timeStamping,
  'ocsp signing': x509.ExtendedKeyUsage.ocspSigning,
  'microsoft sgc': '1.3.6.1.4.1.311.10.3.3',
  'netscape sgc': '2.16.840.1.113730.4.1',
};

/** The usages cert-manager gives a certificate that names none. */
export const DEFAULT_USAGES = ['digital signature', 'key encipherment'];

export async function issue(template: CertificateTemplate, signer: Signer, now: Date): Promise<Issued> {
  const keys = template.existingKeyPem
    ? await importKeyPair(template.existingKeyPem)
    : await generateKeyPair(template.privateKey.algorithm, template.privateKey.size);
  const ca = 'selfSigned' in signer ? undefined : await loadCa(signer);
  const signingKey = ca ? ca.key : keys.privateKey;
  const subject = subjectOf(template);
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + template.durationMs);
  const caKeyId = ca?.certificates[0]!.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject,
    issuer: ca ? ca.certificates[0]!.subjectName : subject,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey,
    signingAlgorithm: signatureAlgorithm(signingKey),
    extensions: [
      ...(await keyIdentifiers(template.isCA, keys.publicKey, caKeyId)),
      new x509.BasicConstraintsExtension(template.isCA, undefined, true),
      new x509.KeyUsagesExtension(keyUsages(template), true),
      ...extendedKeyUsages(template.usages),
      ...subjectAltNames(template, subject.length === 0),
    ],
  });
  const certificatePem = certificate.toString('pem') + '\n';
  const chain = ca
    ? [certificatePem, ...ca.certificates.filter((c) => !isSelfSigned(c)).map((c) => c.toString('pem') + '\n')]
    : [certificatePem];
  const caPem = ca ? ca.certificates.at(-1)!.toString('pem') + '\n' : certificatePem;
  return {
    chainPem: chain.join(''),
    keyPem: encodeKey(keys.privateKey, template.privateKey),
    caPem,
    notBefore,
    notAfter,
  };
}

/** Whether a PEM certificate is a CA certificate (basicConstraints CA:TRUE); undefined if it does not parse. */
export function isCaCertificate(pem: string): boolean | undefined {
  try {
    return new NodeCertificate(pem).ca;
  } catch {
    return undefined;
  }
}

/** Go's time.ParseDuration, in milliseconds: `2160h0m0s`, `1h30m`, `90m`, `1.5h`. */
export function parseGoDuration(text: string): number | undefined {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) return text === '0' ? 0 : undefined;
  let total = 0;
  for (const [, value, , unit] of text.matchAll(/(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)/g))
    total += Number(value) * units[unit!]!;
  return total;
}

async function generateKeyPair(algorithm: Algorithm, size: number | undefined): Promise<webcrypto.CryptoKeyPair> {
  const generate = (params: webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams | webcrypto.Algorithm) =>
    webcrypto.subtle.generateKey(params, true, ['sign', 'verify']) as Promise<webcrypto.CryptoKeyPair>;
  switch (algorithm) {
    case 'RSA': {
      const bits = size ?? 2048;
      if (bits < 2048 || bits > 8192) throw new IssuanceError(`invalid private key size for RSA key: ${bits}`);
      return generate({
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: bits,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: rsaHash(bits),
      });
    }
    case 'ECDSA': {
      const curve = { 256: 'P-256', 384: 'P-384', 521: 'P-521' }[size ?? 256];
      if (!curve) throw new IssuanceError(`unsupported ecdsa keysize specified: ${size}`);
      return generate({ name: 'ECDSA', namedCurve: curve });
    }
    case 'Ed25519':
      return generate({ name: 'Ed25519' });
    default:
      throw new IssuanceError(`unsupported private key algorithm specified: ${String(algorithm)}`);
  }
}

const rsaHash = (bits: number) => (bits >= 4096 ? 'SHA-512' : bits >= 3072 ? 'SHA-384' : 'SHA-256');
const ecHash = (curve: string) => ({ 'P-256': 'SHA-256', 'P-384': 'SHA-384', 'P-521': 'SHA-512' })[curve] ?? 'SHA-256';

/** A WebCrypto key pair from a PEM private key (PKCS1, SEC1 or PKCS#8). */
async function importKeyPair(
  pem: string,
): Promise<{ privateKey: webcrypto.CryptoKey; publicKey: webcrypto.CryptoKey }> {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new IssuanceError(`error decoding private key PEM block: ${(error as Error).message}`);
  }
  const details = key.asymmetricKeyDetails ?? {};
  const algorithm =
    key.asymmetricKeyType === 'rsa'
      ? { name: 'RSASSA-PKCS1-v1_5', hash: rsaHash(details.modulusLength ?? 2048) }
      : key.asymmetricKeyType === 'ec'
        ? {
            name: 'ECDSA',
            namedCurve:
              { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }[details.namedCurve ?? ''] ?? 'P-256',
          }
        : key.asymmetricKeyType === 'ed25519'
          ? { name: 'Ed25519' }
          : undefined;
  if (!algorithm) throw new IssuanceError(`unsupported private key type: ${key.asymmetricKeyType}`);
  const privateKey = await webcrypto.subtle.importKey(
    'pkcs8',
    key.export({ type: 'pkcs8', format: 'der' }),
    algorithm,
    true,
    ['sign'],
  );
  const publicKey = await webcrypto.subtle.importKey(
    'spki',
    createPublicKey(key).export({ type: 'spki', format: 'der' }),
    algorithm,
    true,
    ['verify'],
  );
  return { privateKey, publicKey };
}

async function loadCa(signer: {
  caCertificatesPem: string;
  caKeyPem: string;
}): Promise<{ certificates: x509.X509Certificate[]; key: webcrypto.CryptoKey }> {
  const blocks = signer.caCertificatesPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new IssuanceError('error decoding certificate PEM block');
  return {
    certificates: blocks.map((block) => new x509.X509Certificate(block)),
    key: (await importKeyPair(signer.caKeyPem)).privateKey,
  };
}

function signatureAlgorithm(key: webcrypto.CryptoKey): webcrypto.Algorithm | webcrypto.EcdsaParams {
  const algorithm = key.algorithm as webcrypto.KeyAlgorithm & { hash?: { name: string }; namedCurve?: string };
  if (algorithm.name === 'ECDSA')
    return { name: 'ECDSA', hash: ecHash(algorithm.namedCurve ?? '') } as webcrypto.EcdsaParams;
  if (algorithm.name === 'Ed25519') return { name: 'Ed25519' };
  return { name: 'RSASSA-PKCS1-v1_5', hash: algorithm.hash?.name ?? 'SHA-256' } as webcrypto.Algorithm;
}

function subjectOf(template: CertificateTemplate): x509.JsonName {
  const attribute = (type: string, values: string[] | undefined) =>
    (values ?? []).map((value) => ({ [type]: [value] }));
  return [
    ...attribute('C', template.countries),
    ...attribute('O', template.organizations),
    ...attribute('OU', template.organizationalUnits),
    ...attribute('CN', template.commonName ? [template.commonName] : []),
  ];
}

/** A positive 128-bit serial number, as cert-manager draws one. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0]! &= 0x7f;
  return bytes.toString('hex');
}

function keyUsages(template: CertificateTemplate): number {
  const named = template.usages.length > 0 ? template.usages : DEFAULT_USAGES;
  let flags = template.isCA ? x509.KeyUsageFlags.keyCertSign : 0;
  for (const usage of named) if (KEY_USAGES[usage] !== undefined) flags |= KEY_USAGES[usage]!;
  return flags;
}

function extendedKeyUsages(usages: string[]): x509.Extension[] {
  const oids = usages.filter((usage) => EXTENDED_KEY_USAGES[usage]).map((usage) => EXTENDED_KEY_USAGES[usage]!);
  return oids.length > 0 ? [new x509.ExtendedKeyUsageExtension([...new Set(oids)])] : [];
}

/** Go adds a subject key ID to CA certificates, and an authority key ID from the signer's subject key ID. */
async function keyIdentifiers(
  isCA: boolean,
  publicKey: webcrypto.CryptoKey,
  signerKeyId: string | undefined,
): Promise<x509.Extension[]> {
  const subjectKeyId = isCA ? await x509.SubjectKeyIdentifierExtension.create(publicKey) : undefined;
  return [
    ...(subjectKeyId ? [subjectKeyId] : []),
    ...(signerKeyId ? [new x509.AuthorityKeyIdentifierExtension(signerKeyId)] : []),
  ];
}

/** The SAN extension, critical when the subject is empty (RFC 5280, as Go does). */
function subjectAltNames(template: CertificateTemplate, emptySubject: boolean): x509.Extension[] {
  const names: x509.JsonGeneralName[] = [
    ...template.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...template.emailAddresses.map((value) => ({ type: 'email' as const, value })),
    ...template.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
    ...template.uris.map((value) => ({ type: 'url' as const, value })),
  ];
  return names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names, emptySubject)] : [];
}

function isSelfSigned(certificate: x509.X509Certificate): boolean {
  return certificate.subject === certificate.issuer;
}

function encodeKey(key: webcrypto.CryptoKey, options: CertificateTemplate['privateKey']): string {
  const object = KeyObject.from(key);
  if (options.encoding === 'PKCS8' || object.asymmetricKeyType === 'ed25519')
    return object.export({ type: 'pkcs8', format: 'pem' }) as string;
  return object.export({ type: object.asymmetricKeyType === 'ec' ? 'sec1' : 'pkcs1', format: 'pem' }) as string;
}
