// Decoding a push request body the way Loki's distributor does for JSON (pkg/loghttp/push/push.go):
// Content-Encoding first (none, gzip, deflate; `snappy` is passed through, since Loki only un-snappies
// protobuf), then the media type, then the body. Protobuf, which Loki decodes for any non-JSON media
// type, is refused with 415: this double speaks JSON only. Errors here refuse the whole request.
import { gunzipSync, inflateRawSync } from 'node:zlib';
import { ClientError, mediaType } from './http.js';
import { canonicalLabels, isLabelName, type LabelPairs } from './labels.js';
import type { LogEntry } from './store.js';

export interface PushedStream {
  /** Canonical: empty values dropped, sorted; `service_name` not yet added. */
  readonly labels: LabelPairs;
  readonly entries: readonly LogEntry[];
}

export function decodePushRequest(headers: Record<string, string | undefined>, body: Buffer): PushedStream[] {
  const decoded = decodeContent(headers['content-encoding'] ?? '', body);
  const type = mediaType(headers['content-type']);
  // Go's mime.ParseMediaType fails on an empty header, and Loki returns that error.
  if (type === '') throw new ClientError('mime: no media type');
  if (type !== 'application/json') {
    throw new ClientError(
      `unsupported Content-Type ${JSON.stringify(type)}: this Loki test double accepts only JSON pushes ` +
        '(Content-Type: application/json); real Loki would decode this body as snappy-compressed protobuf',
      415,
    );
  }
  return decodeStreams(parseJson(decoded));
}

function decodeContent(encoding: string, body: Buffer): Buffer {
  switch (encoding) {
    case '':
    case 'snappy':
      return body;
    case 'gzip':
      try {
        return gunzipSync(body);
      } catch (error) {
        throw new ClientError(`gzip: ${(error as Error).message}`);
      }
    case 'deflate':
      try {
        return inflateRawSync(body);
      } catch (error) {
        throw new ClientError(`flate: ${(error as Error).message}`);
      }
    default:
      throw new ClientError(`Content-Encoding ${JSON.stringify(encoding)} not supported`);
  }
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new ClientError(`malformed JSON push request: ${(error as Error).message}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON null and a missing key both mean "none", as Loki's decoder treats them. */
function listOf(value: unknown, what: string): readonly unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ClientError(`malformed JSON push request: ${what} must be an array`);
  return value;
}

function decodeStreams(request: unknown): PushedStream[] {
  if (!isRecord(request)) throw new ClientError('malformed JSON push request: the body must be an object');
  return listOf(request.streams, '"streams"').map((stream, index) => {
    const where = `streams[${index}]`;
    if (!isRecord(stream)) throw new ClientError(`malformed JSON push request: ${where} must be an object`);
    return {
      labels: decodeStreamLabels(stream.stream ?? {}, where),
      entries: listOf(stream.values, `${where}.values`)
        .filter((value) => value !== null)
        .map((value, entryIndex) => decodeEntry(value, `${where}.values[${entryIndex}]`)),
    };
  });
}

function decodeStreamLabels(stream: unknown, where: string): LabelPairs {
  const pairs = stringMap(stream, `${where}.stream`);
  const invalid = pairs.find(([name]) => !isLabelName(name));
  // Loki rebuilds `{name="value"}` from the object and re-parses it, which fails on such a name.
  if (invalid)
    throw new ClientError(`couldn't parse labels: invalid label name ${JSON.stringify(invalid[0])} in ${where}.stream`);
  return canonicalLabels(pairs);
}

function stringMap(value: unknown, where: string): [string, string][] {
  if (!isRecord(value)) throw new ClientError(`malformed JSON push request: ${where} must be an object`);
  return Object.entries(value).map(([name, labelValue]) => {
    if (typeof labelValue !== 'string')
      throw new ClientError(`malformed JSON push request: ${where}.${name} must be a string`);
    return [name, labelValue];
  });
}

// jsonparser's messages, which are what Loki answers for a bad timestamp.
const NOT_A_NUMBER = "Value looks like Number/Boolean/None, but can't find its end: ',' or '}' symbol";
const OVERFLOW = 'Value is number, but overflowed while parsing';
const INT64_MAX = 2n ** 63n - 1n;

function decodeEntry(value: unknown, where: string): LogEntry {
  if (!Array.isArray(value) || value.length < 2) {
    throw new ClientError(
      `malformed JSON push request: ${where} must be ["<unix epoch in nanoseconds>", "<log line>"(, {<structured metadata>})]`,
    );
  }
  const [timestamp, line, structuredMetadata] = value as unknown[];
  if (typeof timestamp !== 'string' || typeof line !== 'string') {
    throw new ClientError(`malformed JSON push request: ${where} must hold the timestamp and the line as strings`);
  }
  if (!/^-?\d+$/.test(timestamp)) throw new ClientError(`${where}: ${NOT_A_NUMBER}`);
  const ns = BigInt(timestamp);
  if (ns > INT64_MAX || ns < -INT64_MAX - 1n) throw new ClientError(`${where}: ${OVERFLOW}`);
  return {
    ns,
    line,
    structuredMetadata: structuredMetadata === undefined ? [] : stringMap(structuredMetadata, `${where}[2]`),
  };
}
