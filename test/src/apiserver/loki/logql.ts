// The slice of LogQL the fake evaluates: a stream selector `{a="b", c!="d", e=~"re", f!~"re"}` followed by
// line filters `|= "text"`, `!= "text"`, `|~ "re"`, `!~ "re"`. Anything else is refused with a 400 in
// Loki's `parse error ...` form: real syntax errors as Loki reports them (line and column of the
// offending token, yacc's "unexpected X, expecting Y"), and valid LogQL this double does not evaluate
// (metric queries, parser and formatting stages) with a message that says so rather than pretending the
// query is malformed.
//
// Regular expressions are Go RE2 in Loki and JavaScript RegExp here; the common RE2-only spellings are
// translated (a leading `(?i)`/`(?s)`/`(?m)` becomes a flag, `(?P<name>` becomes `(?<name>`). Label
// matcher regexes are fully anchored and let `.` match newlines, as Prometheus compiles them
// (`^(?s:re)$`); line filter regexes match anywhere in the line.
import { ClientError } from './http.js';
import { labelValue, type LabelPairs } from './labels.js';

export type MatchOperator = '=' | '!=' | '=~' | '!~';
export type LineFilterOperator = '|=' | '!=' | '|~' | '!~';

export interface LabelMatcher {
  readonly name: string;
  readonly operator: MatchOperator;
  readonly value: string;
  /** Whether a label value (absent = '') satisfies the matcher. */
  readonly matches: (value: string) => boolean;
}

export interface LineFilter {
  readonly operator: LineFilterOperator;
  readonly value: string;
  readonly matches: (line: string) => boolean;
}

export interface LogQuery {
  readonly matchers: readonly LabelMatcher[];
  readonly lineFilters: readonly LineFilter[];
}

export function selects(matchers: readonly LabelMatcher[], labels: LabelPairs): boolean {
  return matchers.every((matcher) => matcher.matches(labelValue(labels, matcher.name)));
}

/** Parses a log query; throws a ClientError carrying Loki's message. */
export function parseLogQuery(query: string): LogQuery {
  const tokens = new TokenStream(query);
  refuseNonLogQuery(tokens.peek());
  const matchers = parseSelector(tokens);
  const lineFilters = parseLineFilters(tokens);
  if (matchers.every((matcher) => matcher.matches(''))) {
    throw parseError(
      'queries require at least one regexp or equality matcher that does not have an empty-compatible value. ' +
        'For instance, app=~".*" does not meet this requirement, but app=~".+" will',
    );
  }
  return { matchers, lineFilters };
}

/** Loki's syntax.ParseMatchers, used by the label endpoints' `query` parameter: a bare selector. */
export function parseStreamSelector(query: string): readonly LabelMatcher[] {
  const { matchers, lineFilters } = parseLogQuery(query);
  if (lineFilters.length > 0) throw new ClientError('only label matchers are supported');
  return matchers;
}

/** LogQL's range aggregations: `<name>(<log query> [<range>])`. */
export const RANGE_AGGREGATIONS: ReadonlySet<string> = new Set([
  'rate',
  'rate_counter',
  'count_over_time',
  'bytes_rate',
  'bytes_over_time',
  'absent_over_time',
  'avg_over_time',
  'sum_over_time',
  'min_over_time',
  'max_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'quantile_over_time',
  'first_over_time',
  'last_over_time',
]);

/** LogQL's vector aggregations: `<name> [by|without (...)] (<metric query>)`. */
export const VECTOR_AGGREGATIONS: ReadonlySet<string> = new Set([
  'sum',
  'avg',
  'min',
  'max',
  'count',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
]);

// Function and aggregation names that start a LogQL metric query.
const METRIC_FUNCTIONS = new Set([
  ...RANGE_AGGREGATIONS,
  ...VECTOR_AGGREGATIONS,
  'approx_topk',
  'sort',
  'sort_desc',
  'vector',
  'label_replace',
]);

function refuseNonLogQuery(first: Token): void {
  if (first.kind === 'IDENTIFIER' && METRIC_FUNCTIONS.has(first.text)) {
    throw notImplemented(`metric queries (\`${first.text}(...)\`) are`);
  }
  if (first.kind === 'NUMBER' || first.text === '(') {
    throw notImplemented('metric queries, literals and parenthesised expressions are');
  }
}

function notImplemented(what: string): ClientError {
  return parseError(
    `${what} not implemented by this Loki test double; it evaluates stream selectors with |=, !=, |~ and !~ line filters only`,
  );
}

const MATCH_OPERATORS: ReadonlySet<string> = new Set(['=', '!=', '=~', '!~']);
const LINE_FILTER_OPERATORS: ReadonlySet<string> = new Set(['|=', '!=', '|~', '!~']);

function parseSelector(tokens: TokenStream): LabelMatcher[] {
  const open = tokens.next();
  if (open.text !== '{' || open.kind !== 'SYMBOL') throw syntaxError(open);
  const matchers: LabelMatcher[] = [];
  for (;;) {
    const name = tokens.next();
    if (name.kind !== 'IDENTIFIER') throw syntaxError(name, 'IDENTIFIER');
    const operator = tokens.next();
    if (operator.kind !== 'SYMBOL' || !MATCH_OPERATORS.has(operator.text))
      throw syntaxError(operator, '!= or !~ or = or =~');
    const value = tokens.next();
    if (value.kind !== 'STRING') throw syntaxError(value, 'STRING');
    matchers.push(labelMatcher(name.text, operator.text as MatchOperator, value.value));
    const separator = tokens.next();
    if (separator.kind === 'SYMBOL' && separator.text === '}') return matchers;
    if (separator.kind !== 'SYMBOL' || separator.text !== ',') throw syntaxError(separator, ', or }');
  }
}

function parseLineFilters(tokens: TokenStream): LineFilter[] {
  const filters: LineFilter[] = [];
  for (let token = tokens.next(); token.kind !== 'EOF'; token = tokens.next()) {
    if (token.kind === 'SYMBOL' && LINE_FILTER_OPERATORS.has(token.text)) {
      const value = tokens.next();
      if (value.kind === 'IDENTIFIER')
        throw notImplemented(`line filter functions (\`${token.text} ${value.text}(...)\`) are`);
      if (value.kind !== 'STRING') throw syntaxError(value, 'STRING');
      filters.push(lineFilter(token.text as LineFilterOperator, value.value));
      const next = tokens.peek();
      if (next.kind === 'IDENTIFIER' && next.text === 'or') throw notImplemented('`or` in line filters is');
    } else if (token.kind === 'SYMBOL' && token.text === '|') {
      const stage = tokens.peek();
      if (stage.kind !== 'IDENTIFIER') throw syntaxError(stage);
      throw notImplemented(`pipeline stages such as \`| ${stage.text}\` are`);
    } else if (token.kind === 'SYMBOL' && (token.text === '|>' || token.text === '!>')) {
      throw notImplemented(`pattern line filters (\`${token.text}\`) are`);
    } else {
      throw syntaxError(token);
    }
  }
  return filters;
}

function labelMatcher(name: string, operator: MatchOperator, value: string): LabelMatcher {
  const matches = (() => {
    switch (operator) {
      case '=':
        return (candidate: string) => candidate === value;
      case '!=':
        return (candidate: string) => candidate !== value;
      case '=~': {
        const regex = goRegExp(value, true);
        return (candidate: string) => regex.test(candidate);
      }
      case '!~': {
        const regex = goRegExp(value, true);
        return (candidate: string) => !regex.test(candidate);
      }
    }
  })();
  return { name, operator, value, matches };
}

function lineFilter(operator: LineFilterOperator, value: string): LineFilter {
  const matches = (() => {
    switch (operator) {
      case '|=':
        return (line: string) => line.includes(value);
      case '!=':
        return (line: string) => !line.includes(value);
      case '|~': {
        const regex = goRegExp(value, false);
        return (line: string) => regex.test(line);
      }
      case '!~': {
        const regex = goRegExp(value, false);
        return (line: string) => !regex.test(line);
      }
    }
  })();
  return { operator, value, matches };
}

const GO_FLAGS: Readonly<Record<string, string>> = { i: 'i', m: 'm', s: 's' };

function goRegExp(source: string, anchored: boolean): RegExp {
  const leadingFlags = /^\(\?([a-zA-Z]+)\)/.exec(source);
  const flags = new Set(anchored ? ['s'] : []);
  for (const flag of leadingFlags?.[1] ?? '') {
    const translated = GO_FLAGS[flag];
    if (translated === undefined)
      throw parseError(`error parsing regexp: flag (?${flag}) is not supported by this Loki test double`);
    flags.add(translated);
  }
  const body = source.slice(leadingFlags?.[0].length ?? 0).replaceAll('(?P<', '(?<');
  try {
    return new RegExp(anchored ? `^(?:${body})$` : body, [...flags].join(''));
  } catch (error) {
    throw parseError(`error parsing regexp: ${(error as Error).message}`);
  }
}

// ---- errors --------------------------------------------------------------------------------------

/** Loki's ParseError text: with a position for syntax errors, without for semantic ones. */
function parseError(message: string, line = 0, column = 0): ClientError {
  return new ClientError(
    line === 0 && column === 0 ? `parse error : ${message}` : `parse error at line ${line}, col ${column}: ${message}`,
  );
}

function syntaxError(token: Token, expecting?: string): ClientError {
  const unexpected = token.kind === 'EOF' ? '$end' : token.kind === 'SYMBOL' ? token.text : token.kind;
  const message = `syntax error: unexpected ${unexpected}${expecting === undefined ? '' : `, expecting ${expecting}`}`;
  return parseError(message, token.line, token.column);
}

// ---- lexer ---------------------------------------------------------------------------------------

interface Token {
  readonly kind: 'IDENTIFIER' | 'STRING' | 'NUMBER' | 'RANGE' | 'SYMBOL' | 'EOF';
  /** The source text (for SYMBOL the operator itself). */
  readonly text: string;
  /** For STRING, the unquoted value. */
  readonly value: string;
  readonly line: number;
  readonly column: number;
}

const TWO_CHARACTER_SYMBOLS = new Set(['|=', '|~', '|>', '!=', '!~', '!>', '=~']);
const ONE_CHARACTER_SYMBOLS = new Set(['{', '}', '(', ')', ',', '=', '|']);

class TokenStream {
  #offset = 0;
  #peeked: Token | undefined;

  constructor(private readonly input: string) {}

  peek(): Token {
    this.#peeked ??= this.#scan();
    return this.#peeked;
  }

  next(): Token {
    const token = this.peek();
    this.#peeked = undefined;
    return token;
  }

  #scan(): Token {
    const { input } = this;
    while (this.#offset < input.length && ' \t\r\n'.includes(input[this.#offset]!)) this.#offset += 1;
    const start = this.#offset;
    const [line, column] = input.length === 0 ? [0, 0] : this.#position(start);
    const token = (kind: Token['kind'], end: number, value = ''): Token => {
      this.#offset = end;
      return { kind, text: input.slice(start, end), value, line, column };
    };
    const rest = input.slice(start);
    if (rest === '') return token('EOF', start);
    const identifier = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(rest);
    if (identifier) return token('IDENTIFIER', start + identifier[0].length);
    const number = /^\d+(?:\.\d+)?/.exec(rest);
    if (number) return token('NUMBER', start + number[0].length);
    if (rest.startsWith('"') || rest.startsWith('`')) {
      const literal = stringLiteral(rest);
      if (literal === undefined) throw parseError('literal not terminated', line, column);
      const value = rest.startsWith('`') ? literal.slice(1, -1) : unquoteGoString(literal);
      if (value === undefined) throw parseError('invalid char escape', line, column);
      return token('STRING', start + literal.length, value);
    }
    const range = /^\[[^\]]*\]/.exec(rest);
    if (range) return token('RANGE', start + range[0].length);
    if (TWO_CHARACTER_SYMBOLS.has(rest.slice(0, 2))) return token('SYMBOL', start + 2);
    if (ONE_CHARACTER_SYMBOLS.has(rest.slice(0, 1))) return token('SYMBOL', start + 1);
    throw parseError(
      `syntax error: unexpected character ${JSON.stringify(String.fromCodePoint(rest.codePointAt(0)!))}`,
      line,
      column,
    );
  }

  #position(offset: number): [line: number, column: number] {
    const before = this.input.slice(0, offset).split('\n');
    return [before.length, before[before.length - 1]!.length + 1];
  }
}

/** The quoted literal at the start of `text` (quotes included), or undefined when it never closes. */
function stringLiteral(text: string): string | undefined {
  const quote = text[0];
  for (let index = 1; index < text.length; index += 1) {
    const character = text[index];
    if (quote === '"' && character === '\n') return undefined;
    if (quote === '"' && character === '\\') index += 1;
    else if (character === quote) return text.slice(0, index + 1);
  }
  return undefined;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  '"': '"',
};

/** Go's strconv.Unquote for a double-quoted literal; `\x` and octal escapes are bytes, as in Go. */
function unquoteGoString(literal: string): string | undefined {
  const bytes: number[] = [];
  const body = literal.slice(1, -1);
  for (let index = 0; index < body.length;) {
    const character = String.fromCodePoint(body.codePointAt(index)!);
    if (character !== '\\') {
      bytes.push(...Buffer.from(character, 'utf8'));
      index += character.length;
      continue;
    }
    const escape = body[index + 1] ?? '';
    const simple = SIMPLE_ESCAPES[escape];
    const hexLength = { x: 2, u: 4, U: 8 }[escape];
    if (simple !== undefined) {
      bytes.push(simple.charCodeAt(0));
      index += 2;
    } else if (hexLength !== undefined) {
      const digits = body.slice(index + 2, index + 2 + hexLength);
      if (!/^[0-9a-fA-F]+$/.test(digits) || digits.length !== hexLength) return undefined;
      const code = parseInt(digits, 16);
      if (escape === 'x') bytes.push(code);
      else if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return undefined;
      else bytes.push(...Buffer.from(String.fromCodePoint(code), 'utf8'));
      index += 2 + hexLength;
    } else if (
      /^[0-7]{3}$/.test(body.slice(index + 1, index + 4)) &&
      parseInt(body.slice(index + 1, index + 4), 8) <= 0xff
    ) {
      bytes.push(parseInt(body.slice(index + 1, index + 4), 8));
      index += 4;
    } else {
      return undefined;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
