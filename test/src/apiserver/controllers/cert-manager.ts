// A simulated cert-manager (run when the cert-manager.io custom resources are served): the issuers
// controller sets Issuers and ClusterIssuers Ready, a `selfSigned` one at once and a `ca` one once its
// Secret holds a CA key pair; the certificates controllers issue each Certificate once its issuer is ready
// (pki.ts) into the Secret `spec.secretName` (type kubernetes.io/tls: `tls.crt`, `tls.key`, `ca.crt`, the
// cert-manager.io/* annotations and the `controller.cert-manager.io/fao` label), and keep its status:
// Ready and Issuing conditions with cert-manager's reasons and messages, notBefore, notAfter,
// renewalTime (from renewBefore or renewBeforePercentage, else a third of the duration before notAfter)
// and revision. A Certificate is issued again when its spec changes, when its Secret is deleted or loses
// its key pair, or when the Secret was issued by another issuer. A ClusterIssuer reads its CA Secret in the
// cluster resource namespace, `cert-manager` (the Helm chart's default). Not simulated: renewal over time,
// CertificateRequests and the other intermediate objects, the webhook's validation, issuers other than
// selfSigned and ca (they stay not Ready), the retry back-off after a failed issuance (it is retried only
// when the Certificate changes).
import { X509Certificate } from 'node:crypto';
import { ApiError } from '../status.js';
import { timestamp, type Change, type KubeObject, type Store } from '../store.js';
import { writeStatus, type ClusterContext, type Controller } from './context.js';
import { sameJson } from './hash.js';
import type { EventSource } from './events.js';
import { isDeleting, refTo, type ObjectRef } from './objects.js';
import {
  DEFAULT_USAGES,
  isCaCertificate,
  issue,
  IssuanceError,
  parseGoDuration,
  type CertificateTemplate,
  type Issued,
  type Signer,
} from './pki.js';

/** Where ClusterIssuers find their Secrets (cert-manager's --cluster-resource-namespace, as the Helm chart sets it). */
export const CLUSTER_RESOURCE_NAMESPACE = 'cert-manager';

const GROUP = 'cert-manager.io';
/** Spec fields that do not go into the certificate: changing them issues no new one. */
const NOT_ISSUED = new Set([
  'secretName',
  'secretTemplate',
  'renewBefore',
  'renewBeforePercentage',
  'revisionHistoryLimit',
  'additionalOutputFormats',
]);
const DEFAULT_DURATION_MS = 2160 * 3_600_000;

interface CertificateCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

interface IssuerObject extends KubeObject {
  spec?: { selfSigned?: Record<string, unknown>; ca?: { secretName?: string }; [type: string]: unknown };
  status?: { conditions?: CertificateCondition[] };
}

interface CertificateSpec {
  secretName?: string;
  commonName?: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  uris?: string[];
  emailAddresses?: string[];
  subject?: { organizations?: string[]; organizationalUnits?: string[]; countries?: string[] };
  duration?: string;
  renewBefore?: string;
  renewBeforePercentage?: number;
  isCA?: boolean;
  usages?: string[];
  privateKey?: { algorithm?: string; size?: number; encoding?: string; rotationPolicy?: string };
  issuerRef?: { name?: string; kind?: string; group?: string };
  secretTemplate?: { annotations?: Record<string, string>; labels?: Record<string, string> };
}

interface CertificateObject extends KubeObject {
  spec?: CertificateSpec;
  status?: { conditions?: CertificateCondition[]; revision?: number; [field: string]: unknown };
}

type Readiness = Omit<CertificateCondition, 'type' | 'lastTransitionTime' | 'observedGeneration'>;

const issuerKind = (ref: CertificateSpec['issuerRef']) => ref?.kind || 'Issuer';
const secretData = (secret: KubeObject | undefined, key: string) => {
  const value = (secret?.data as Record<string, string> | undefined)?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
};

/**
 * cert-manager's SetCondition: a condition keeps its place and its lastTransitionTime while its status
 * stays; observedGeneration is the generation it was computed for.
 */
function withCondition(
  conditions: CertificateCondition[],
  type: string,
  next: Readiness,
  generation: number | undefined,
  now: string,
): CertificateCondition[] {
  const current = conditions.find((condition) => condition.type === type);
  const condition: CertificateCondition = {
    type,
    status: next.status,
    ...(next.reason ? { reason: next.reason } : {}),
    ...(next.message ? { message: next.message } : {}),
    lastTransitionTime:
      current?.status === next.status && current.lastTransitionTime ? current.lastTransitionTime : now,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  return current
    ? conditions.map((existing) => (existing === current ? condition : existing))
    : [...conditions, condition];
}

const readyOf = (object: KubeObject | undefined) =>
  ((object?.status as { conditions?: CertificateCondition[] } | undefined)?.conditions ?? []).find(
    (c) => c.type === 'Ready',
  );

/** Where an issuer's Secrets live: its own namespace, or the cluster resource namespace for a ClusterIssuer. */
const resourceNamespace = (kind: string, issuer: KubeObject) =>
  kind === 'ClusterIssuer' ? CLUSTER_RESOURCE_NAMESPACE : (issuer.metadata.namespace ?? '');

/** Whether an issuer can sign, and if not why, as cert-manager's issuer Setup reports it. */
function issuerReadiness(store: Store, kind: string, issuer: IssuerObject): Readiness {
  const spec = issuer.spec ?? {};
  if (spec.selfSigned) return { status: 'True', reason: 'IsReady' };
  if (spec.ca) {
    const name = spec.ca.secretName ?? '';
    const secret = store.get('Secret', resourceNamespace(kind, issuer), name);
    const problem = !secret
      ? `secret "${name}" not found`
      : secretData(secret, 'tls.crt') === undefined
        ? 'no data for "tls.crt" in secret'
        : secretData(secret, 'tls.key') === undefined
          ? 'no data for "tls.key" in secret'
          : undefined;
    if (problem)
      return { status: 'False', reason: 'ErrGetKeyPair', message: `Error getting keypair for CA issuer: ${problem}` };
    const ca = isCaCertificate(secretData(secret, 'tls.crt')!);
    if (ca === undefined)
      return {
        status: 'False',
        reason: 'ErrGetKeyPair',
        message: 'Error getting keypair for CA issuer: error decoding certificate PEM block',
      };
    if (!ca)
      return {
        status: 'False',
        reason: 'ErrInvalidKeyPair',
        message: 'Error getting keypair for CA issuer: certificate is not a CA',
      };
    return { status: 'True', reason: 'KeyPairVerified', message: 'Signing CA verified' };
  }
  return {
    status: 'False',
    reason: 'ErrInitIssuer',
    message: 'Error initializing issuer: the test API server simulates only selfSigned and ca issuers',
  };
}

export class IssuerController implements Controller {
  readonly name = 'cert-manager-issuers';
  private readonly source: EventSource = { manager: 'cert-manager-issuers', component: 'cert-manager-issuers' };

  constructor(private readonly context: ClusterContext) {}

  watch(change: Change): ObjectRef[] {
    if (change.kind === 'Issuer' || change.kind === 'ClusterIssuer') return [refTo(change.kind, change.object)];
    if (change.kind !== 'Secret') return [];
    const { namespace, name } = change.object.metadata;
    const { store } = this.context;
    const users = (kind: string, issuers: KubeObject[]) =>
      (issuers as IssuerObject[])
        .filter((issuer) => issuer.spec?.ca?.secretName === name && resourceNamespace(kind, issuer) === namespace)
        .map((issuer) => refTo(kind, issuer));
    return [
      ...users('Issuer', store.list('Issuer', namespace)),
      ...users('ClusterIssuer', store.list('ClusterIssuer')),
    ];
  }

  reconcile(ref: ObjectRef): undefined {
    const issuer = this.context.store.get(ref.kind, ref.namespace, ref.name) as IssuerObject | undefined;
    if (!issuer || isDeleting(issuer)) return undefined;
    const readiness = issuerReadiness(this.context.store, ref.kind, issuer);
    const before = readyOf(issuer);
    const conditions = withCondition(
      issuer.status?.conditions ?? [],
      'Ready',
      readiness,
      issuer.metadata.generation,
      timestamp(new Date()),
    );
    writeStatus(this.context.api, ref.kind, issuer, { ...issuer.status, conditions }, 'cert-manager-issuers');
    if (
      readiness.reason !== 'IsReady' &&
      (before?.reason !== readiness.reason || before?.message !== readiness.message)
    ) {
      this.context.events.record(this.source, issuer, {
        type: readiness.status === 'True' ? 'Normal' : 'Warning',
        reason: readiness.reason!,
        message: readiness.message ?? '',
      });
    }
    return undefined;
  }
}

interface IssuanceResult {
  generation: number;
  spec: CertificateSpec;
  outcome: Issued | IssuanceError;
}

export class CertificateController implements Controller {
  readonly name = 'cert-manager-certificates';
  private readonly source: EventSource = {
    manager: 'cert-manager-certificates',
    component: 'cert-manager-certificates-issuing',
  };
  /** By Certificate uid: the generation being issued now, results not yet written, the spec of the current Secret, failures. */
  private readonly inFlight = new Map<string, number>();
  private readonly results = new Map<string, IssuanceResult>();
  private readonly issued = new Map<string, CertificateSpec>();
  private readonly failed = new Map<string, number>();

  constructor(private readonly context: ClusterContext) {}

  watch(change: Change): ObjectRef[] {
    const { store } = this.context;
    const { namespace, name } = change.object.metadata;
    const certificates = (inNamespace?: string) => store.list('Certificate', inNamespace) as CertificateObject[];
    switch (change.kind) {
      case 'Certificate':
        return [refTo('Certificate', change.object)];
      case 'Secret':
        return certificates(namespace)
          .filter((c) => c.spec?.secretName === name)
          .map((c) => refTo('Certificate', c));
      case 'Issuer':
        return certificates(namespace)
          .filter((c) => issuerKind(c.spec?.issuerRef) === 'Issuer' && c.spec?.issuerRef?.name === name)
          .map((c) => refTo('Certificate', c));
      case 'ClusterIssuer':
        return certificates()
          .filter((c) => issuerKind(c.spec?.issuerRef) === 'ClusterIssuer' && c.spec?.issuerRef?.name === name)
          .map((c) => refTo('Certificate', c));
      default:
        return [];
    }
  }

  reconcile(ref: ObjectRef): undefined {
    const { store } = this.context;
    const certificate = store.get('Certificate', ref.namespace, ref.name) as CertificateObject | undefined;
    if (!certificate || isDeleting(certificate)) return undefined;
    const uid = certificate.metadata.uid ?? '';
    const generation = certificate.metadata.generation ?? 1;
    const spec = certificate.spec ?? {};
    if (!spec.secretName || !spec.issuerRef?.name) return undefined;
    let live = certificate;
    const result = this.results.get(uid);
    if (result) {
      this.results.delete(uid);
      this.inFlight.delete(uid);
      if (result.generation === generation) live = this.finish(live, result);
    }
    const secret = store.get('Secret', ref.namespace, spec.secretName);
    const trigger = this.trigger(live, secret);
    if (!trigger) {
      this.writeReady(live, secret!);
      return undefined;
    }
    const issuer = this.issuer(live);
    if (
      issuer &&
      readyOf(issuer)?.status === 'True' &&
      this.failed.get(uid) !== generation &&
      this.inFlight.get(uid) !== generation
    ) {
      this.inFlight.set(uid, generation);
      this.context.events.record({ ...this.source, component: 'cert-manager-certificates-trigger' }, live, {
        type: 'Normal',
        reason: 'Issuing',
        message: trigger.message!,
      });
      this.context.background(this, ref, this.startIssuance(live, issuer, secret));
    }
    this.writeStatus(live, (conditions, now) =>
      withCondition(
        withCondition(conditions, 'Ready', { ...trigger, status: 'False' }, generation, now),
        'Issuing',
        this.failed.get(uid) === generation ? currentIssuing(live) : { ...trigger, status: 'True' },
        generation,
        now,
      ),
    );
    return undefined;
  }

  /** Why the Certificate must be issued (cert-manager's trigger reasons), or undefined when its Secret is up to date. */
  private trigger(certificate: CertificateObject, secret: KubeObject | undefined): Readiness | undefined {
    const spec = certificate.spec ?? {};
    const because = (reason: string, message: string): Readiness => ({ status: 'True', reason, message });
    if (!secret) return because('DoesNotExist', 'Issuing certificate as Secret does not exist');
    if (secretData(secret, 'tls.crt') === undefined)
      return because('MissingData', 'Issuing certificate as Secret does not contain a certificate');
    if (secretData(secret, 'tls.key') === undefined)
      return because('MissingData', 'Issuing certificate as Secret does not contain a private key');
    const annotations = secret.metadata.annotations ?? {};
    const kind = annotations['cert-manager.io/issuer-kind'];
    const name = annotations['cert-manager.io/issuer-name'];
    if (name !== spec.issuerRef?.name || kind !== issuerKind(spec.issuerRef)) {
      return because(
        'IncorrectIssuer',
        `Issuing certificate as Secret was previously issued by "${kind ?? 'Issuer'}.${annotations['cert-manager.io/issuer-group'] || GROUP}/${name ?? ''}"`,
      );
    }
    const issuedFor = this.issued.get(certificate.metadata.uid ?? '');
    if (!issuedFor)
      return annotations['cert-manager.io/certificate-name'] === certificate.metadata.name
        ? undefined
        : because('SecretMismatch', 'Issuing certificate as Secret was issued for another Certificate');
    const changed = [...new Set([...Object.keys(issuedFor), ...Object.keys(spec)])].filter(
      (field) =>
        !NOT_ISSUED.has(field) &&
        !sameJson(issuedFor[field as keyof CertificateSpec], spec[field as keyof CertificateSpec]),
    );
    return changed.length > 0
      ? because(
          'RequestChanged',
          `Fields on existing CertificateRequest resource not up to date: [${changed.map((f) => `spec.${f}`).join(' ')}]`,
        )
      : undefined;
  }

  private issuer(certificate: CertificateObject): IssuerObject | undefined {
    const ref = certificate.spec?.issuerRef;
    if ((ref?.group || GROUP) !== GROUP) return undefined;
    const kind = issuerKind(ref);
    return this.context.store.get(
      kind,
      kind === 'ClusterIssuer' ? undefined : certificate.metadata.namespace,
      ref?.name ?? '',
    ) as IssuerObject | undefined;
  }

  private async startIssuance(
    certificate: CertificateObject,
    issuer: IssuerObject,
    secret: KubeObject | undefined,
  ): Promise<void> {
    const spec = structuredClone(certificate.spec ?? {});
    const uid = certificate.metadata.uid ?? '';
    const generation = certificate.metadata.generation ?? 1;
    let outcome: Issued | IssuanceError;
    try {
      outcome = await issue(templateOf(spec, secret), this.signer(issuer), new Date());
    } catch (error) {
      if (!(error instanceof IssuanceError)) throw error;
      outcome = error;
    }
    this.results.set(uid, { generation, spec, outcome });
  }

  private signer(issuer: IssuerObject): Signer {
    if (issuer.spec?.selfSigned) return { selfSigned: true };
    const secret = this.context.store.get(
      'Secret',
      resourceNamespace(issuer.kind ?? 'Issuer', issuer),
      issuer.spec?.ca?.secretName ?? '',
    );
    return { caCertificatesPem: secretData(secret, 'tls.crt') ?? '', caKeyPem: secretData(secret, 'tls.key') ?? '' };
  }

  /** Write an issuance's outcome: the Secret and a new revision, or the failure on the Certificate. */
  private finish(certificate: CertificateObject, result: IssuanceResult): CertificateObject {
    const uid = certificate.metadata.uid ?? '';
    const generation = certificate.metadata.generation ?? 1;
    if (result.outcome instanceof IssuanceError) {
      this.failed.set(uid, generation);
      const message = `The certificate request has failed to complete and will be retried: ${result.outcome.message}`;
      this.context.events.record(this.source, certificate, { type: 'Warning', reason: 'Failed', message });
      return this.writeStatus(
        certificate,
        (conditions, now) =>
          withCondition(conditions, 'Issuing', { status: 'False', reason: 'Failed', message }, generation, now),
        {
          lastFailureTime: timestamp(new Date()),
          failedIssuanceAttempts: 1,
        },
      );
    }
    this.writeSecret(certificate, result.outcome);
    this.issued.set(uid, result.spec);
    this.failed.delete(uid);
    this.context.events.record(this.source, certificate, {
      type: 'Normal',
      reason: 'Issuing',
      message: 'The certificate has been successfully issued',
    });
    const { lastFailureTime: _time, failedIssuanceAttempts: _attempts, ...status } = certificate.status ?? {};
    return this.writeStatus(
      { ...certificate, status },
      (conditions) => conditions.filter((condition) => condition.type !== 'Issuing'),
      { revision: (certificate.status?.revision ?? 0) + 1 },
    );
  }

  private writeSecret(certificate: CertificateObject, issued: Issued): void {
    const { api, store } = this.context;
    const spec = certificate.spec ?? {};
    const namespace = certificate.metadata.namespace;
    const data = {
      'tls.crt': Buffer.from(issued.chainPem).toString('base64'),
      'tls.key': Buffer.from(issued.keyPem).toString('base64'),
      'ca.crt': Buffer.from(issued.caPem).toString('base64'),
    };
    const annotations = {
      ...spec.secretTemplate?.annotations,
      'cert-manager.io/alt-names': (spec.dnsNames ?? []).join(','),
      'cert-manager.io/certificate-name': certificate.metadata.name,
      'cert-manager.io/common-name': spec.commonName ?? '',
      'cert-manager.io/ip-sans': (spec.ipAddresses ?? []).join(','),
      'cert-manager.io/issuer-group': spec.issuerRef?.group ?? '',
      'cert-manager.io/issuer-kind': issuerKind(spec.issuerRef),
      'cert-manager.io/issuer-name': spec.issuerRef?.name ?? '',
      'cert-manager.io/uri-sans': (spec.uris ?? []).join(','),
    };
    const labels = { ...spec.secretTemplate?.labels, 'controller.cert-manager.io/fao': 'true' };
    const existing = store.get('Secret', namespace, spec.secretName!);
    const options = { manager: 'cert-manager-certificates-issuing' };
    if (!existing) {
      api.create(
        'Secret',
        namespace,
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: spec.secretName!, namespace, annotations, labels },
          type: 'kubernetes.io/tls',
          data,
        },
        options,
      );
      return;
    }
    const metadata = {
      ...existing.metadata,
      annotations: { ...existing.metadata.annotations, ...annotations },
      labels: { ...existing.metadata.labels, ...labels },
    };
    api.replace(
      'Secret',
      namespace,
      existing.metadata.name,
      { ...existing, metadata, data: { ...(existing.data as Record<string, string>), ...data } },
      options,
    );
  }

  /** Ready=True with the times of the certificate in the Secret. */
  private writeReady(certificate: CertificateObject, secret: KubeObject): void {
    let notBefore: Date;
    let notAfter: Date;
    try {
      const parsed = new X509Certificate(secretData(secret, 'tls.crt')!);
      [notBefore, notAfter] = [new Date(parsed.validFrom), new Date(parsed.validTo)];
    } catch {
      return;
    }
    const spec = certificate.spec ?? {};
    const lifetime = notAfter.getTime() - notBefore.getTime();
    const renewBefore = parseGoDuration(spec.renewBefore ?? '');
    const before =
      renewBefore !== undefined && renewBefore < lifetime
        ? renewBefore
        : spec.renewBeforePercentage !== undefined
          ? (lifetime * spec.renewBeforePercentage) / 100
          : lifetime / 3;
    const ready = {
      status: 'True' as const,
      reason: 'Ready',
      message: 'Certificate is up to date and has not expired',
    };
    this.writeStatus(
      certificate,
      (conditions, now) => withCondition(conditions, 'Ready', ready, certificate.metadata.generation, now),
      {
        notBefore: timestamp(notBefore),
        notAfter: timestamp(notAfter),
        renewalTime: timestamp(new Date(Math.floor((notAfter.getTime() - before) / 1000) * 1000)),
      },
    );
  }

  private writeStatus(
    certificate: CertificateObject,
    conditions: (current: CertificateCondition[], now: string) => CertificateCondition[],
    fields: Record<string, unknown> = {},
  ): CertificateObject {
    const status = { ...certificate.status, ...fields };
    status.conditions = conditions(certificate.status?.conditions ?? [], timestamp(new Date()));
    try {
      return writeStatus(this.context.api, 'Certificate', certificate, status, 'cert-manager-certificates');
    } catch (error) {
      // Written by someone else meanwhile: the change brings the Certificate back here.
      if (error instanceof ApiError && error.status.code === 409) return certificate;
      throw error;
    }
  }
}

/** The Issuing condition as it stands (a failed issuance keeps its failure until the Certificate changes). */
function currentIssuing(certificate: CertificateObject): Readiness {
  const { status, reason, message } = certificate.status?.conditions?.find(
    (condition) => condition.type === 'Issuing',
  ) ?? { status: 'False' as const };
  return { status, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}

/** What the Certificate asks for, with cert-manager's defaults (RSA 2048, PKCS1, 90 days, digital signature + key encipherment). */
function templateOf(spec: CertificateSpec, secret: KubeObject | undefined): CertificateTemplate {
  const durationMs = spec.duration === undefined ? DEFAULT_DURATION_MS : parseGoDuration(spec.duration);
  if (durationMs === undefined) throw new IssuanceError(`invalid duration ${JSON.stringify(spec.duration)}`);
  const algorithm = spec.privateKey?.algorithm ?? 'RSA';
  if (!['RSA', 'ECDSA', 'Ed25519'].includes(algorithm))
    throw new IssuanceError(`unsupported private key algorithm specified: ${algorithm}`);
  const existingKey = spec.privateKey?.rotationPolicy === 'Never' ? secretData(secret, 'tls.key') : undefined;
  return {
    ...(spec.commonName ? { commonName: spec.commonName } : {}),
    ...(spec.subject?.organizations ? { organizations: spec.subject.organizations } : {}),
    ...(spec.subject?.organizationalUnits ? { organizationalUnits: spec.subject.organizationalUnits } : {}),
    ...(spec.subject?.countries ? { countries: spec.subject.countries } : {}),
    dnsNames: spec.dnsNames ?? [],
    ipAddresses: spec.ipAddresses ?? [],
    uris: spec.uris ?? [],
    emailAddresses: spec.emailAddresses ?? [],
    durationMs,
    isCA: spec.isCA === true,
    usages: spec.usages?.length ? spec.usages : DEFAULT_USAGES,
    privateKey: {
      algorithm: algorithm as CertificateTemplate['privateKey']['algorithm'],
      ...(spec.privateKey?.size !== undefined ? { size: spec.privateKey.size } : {}),
      encoding: spec.privateKey?.encoding === 'PKCS8' ? 'PKCS8' : 'PKCS1',
    },
    ...(existingKey ? { existingKeyPem: existingKey } : {}),
  };
}
