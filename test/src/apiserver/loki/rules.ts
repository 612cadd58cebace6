// The ruler's side of the fake: rule files as Loki's local rule storage reads them (`<directory>/<tenant>/<file>`,
// each a Prometheus rule file with LogQL expressions), reported by the Prometheus-style rules API
// (`GET /prometheus/api/v1/rules`, pkg/ruler/base/api.go) in its JSON shape.
//
// Knowingly different from Loki:
// - Loki's loader refuses a whole file whose YAML or LogQL does not parse (its groups never appear, the error is
//   in the ruler's log); the fake reports the groups of a file with an unparsable expression, each such rule with
//   `health: "err"` and Loki's parse error as `lastError`, so that a test sees the error where a user would look.
//   A file that is not YAML is left out, as Loki leaves it out.
// - Nothing is evaluated: every rule is `inactive` (alerting) or `ok` without samples (recording), with no
//   `lastEvaluation`. The expression check covers metric queries (range and vector aggregations, grouping,
//   binary operators with numbers) over the log queries logql.ts parses; parser stages (`| json`, `| unwrap`)
//   are reported as not implemented.
import { parse } from 'yaml';
import { ClientError } from './http.js';
import { parseLogQuery, RANGE_AGGREGATIONS, VECTOR_AGGREGATIONS } from './logql.js';

export interface RuleFile {
  /** The file's name in the tenant's directory: Loki's rule namespace, which the API reports as `file`. */
  name: string;
  text: string;
}

const BINARY_OPERATORS = ['==', '!=', '>=', '<=', '>', '<', '+', '-', '*', '/', '%', '^', 'and ', 'or ', 'unless '];
const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

/** The rules API's `data.groups` for one tenant's files. */
export function ruleGroups(files: readonly RuleFile[]): Record<string, unknown>[] {
  return files.flatMap((file) => {
    let content: { groups?: { name?: string; interval?: string; limit?: number; rules?: Record<string, unknown>[] }[] };
    try {
      content = (parse(file.text) ?? {}) as typeof content;
    } catch {
      return [];
    }
    return (content.groups ?? []).map((group) => ({
      name: group.name,
      file: file.name,
      rules: (group.rules ?? []).map(ruleState),
      interval: intervalSeconds(group.interval),
      limit: group.limit ?? 0,
      evaluationTime: 0,
      lastEvaluation: '0001-01-01T00:00:00Z',
    }));
  });
}

function ruleState(rule: Record<string, unknown>): Record<string, unknown> {
  const query = String(rule.expr ?? '');
  const error = expressionError(query);
  const health = { health: error ? 'err' : 'ok', lastError: error ?? '', evaluationTime: 0 };
  if (rule.record !== undefined)
    return { name: rule.record, query, labels: rule.labels ?? {}, ...health, type: 'recording' };
  return {
    state: 'inactive',
    name: rule.alert,
    query,
    duration: intervalSeconds(rule.for as string | undefined, 0),
    labels: rule.labels ?? {},
    annotations: rule.annotations ?? {},
    alerts: [],
    ...health,
    type: 'alerting',
  };
}

function intervalSeconds(duration: string | undefined, fallback = 60): number {
  if (!duration) return fallback;
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };
  return [...duration.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)].reduce(
    (total, [, n, unit]) => total + Number(n) * units[unit!]!,
    0,
  );
}

/** Loki's parse error for an expression, or undefined when it parses. */
export function expressionError(query: string): string | undefined {
  try {
    new MetricExpression(query).parse();
    return undefined;
  } catch (error) {
    if (error instanceof ClientError) return error.message;
    throw error;
  }
}

/** A recursive-descent check of LogQL's metric layer; log queries inside go to logql.ts. */
class MetricExpression {
  #at = 0;
  constructor(private readonly text: string) {}

  parse(): void {
    if (this.text.trim() === '') throw this.#error('syntax error: unexpected $end');
    this.#expression();
    this.#space();
    if (this.#at < this.text.length) throw this.#error(`syntax error: unexpected ${this.text[this.#at]}`);
  }

  #expression(): void {
    this.#operand();
    for (;;) {
      this.#space();
      const operator = BINARY_OPERATORS.find((candidate) => this.text.startsWith(candidate, this.#at));
      if (!operator) return;
      this.#at += operator.length;
      this.#space();
      if (this.text.startsWith('bool ', this.#at)) this.#at += 5;
      this.#operand();
    }
  }

  #operand(): void {
    this.#space();
    const number = /^-?\d+(\.\d+)?/.exec(this.text.slice(this.#at));
    if (number) {
      this.#at += number[0].length;
      return;
    }
    if (this.#take('(')) {
      this.#expression();
      this.#expect(')');
      return;
    }
    const name = /^[a-z_]+/.exec(this.text.slice(this.#at))?.[0];
    if (name && RANGE_AGGREGATIONS.has(name)) {
      this.#at += name.length;
      this.#rangeAggregation();
    } else if (name && VECTOR_AGGREGATIONS.has(name)) {
      this.#at += name.length;
      this.#grouping();
      this.#expect('(');
      if (name === 'topk' || name === 'bottomk') {
        this.#operand();
        this.#expect(',');
      }
      this.#expression();
      this.#expect(')');
      this.#grouping();
    } else throw this.#error(`syntax error: unexpected ${name ?? this.text[this.#at] ?? '$end'}`);
  }

  /** `(<log query> [<range>])`: the log query is everything up to the `[` outside strings and braces. */
  #rangeAggregation(): void {
    this.#expect('(');
    const start = this.#at;
    const bracket = this.#rangeBracket();
    if (bracket < 0) throw this.#error('syntax error: unexpected $end, expecting [');
    parseLogQuery(this.text.slice(start, bracket).trim());
    const close = this.text.indexOf(']', bracket);
    const range = close < 0 ? '' : this.text.slice(bracket + 1, close).trim();
    if (!DURATION.test(range)) throw this.#error(`not a valid duration string: "${range}"`);
    this.#at = close + 1;
    this.#expect(')');
    this.#grouping();
  }

  #rangeBracket(): number {
    let depth = 0;
    for (let i = this.#at; i < this.text.length; i++) {
      const char = this.text[i]!;
      if (char === '"' || char === '`') {
        const end = char === '`' ? this.text.indexOf('`', i + 1) : closingQuote(this.text, i);
        if (end < 0) return -1;
        i = end;
      } else if (char === '{' || char === '(') depth++;
      else if (char === '}' || char === ')') depth--;
      else if (char === '[' && depth === 0) return i;
    }
    return -1;
  }

  #grouping(): void {
    this.#space();
    const keyword = /^(by|without)\s*\(/.exec(this.text.slice(this.#at));
    if (!keyword) return;
    this.#at += keyword[0].length;
    const close = this.text.indexOf(')', this.#at);
    const labels =
      close < 0
        ? undefined
        : this.text
            .slice(this.#at, close)
            .split(',')
            .map((label) => label.trim());
    if (!labels || labels.some((label) => label !== '' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(label)))
      throw this.#error('syntax error: unexpected IDENTIFIER in grouping');
    this.#at = close + 1;
  }

  #space(): void {
    while (this.#at < this.text.length && /\s/.test(this.text[this.#at]!)) this.#at++;
  }

  #take(symbol: string): boolean {
    this.#space();
    if (!this.text.startsWith(symbol, this.#at)) return false;
    this.#at += symbol.length;
    return true;
  }

  #expect(symbol: string): void {
    if (!this.#take(symbol))
      throw this.#error(`syntax error: unexpected ${this.text[this.#at] ?? '$end'}, expecting ${symbol}`);
  }

  #error(message: string): ClientError {
    const before = this.text.slice(0, this.#at).split('\n');
    return new ClientError(`parse error at line ${before.length}, col ${before.at(-1)!.length + 1}: ${message}`);
  }
}

function closingQuote(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}
