import { describe, expect, test } from '@jest/globals';
import { parseStackAnnotation } from '../../src/stack/annotation.js';
import { SpecError } from '../../src/errors.js';
import { assertStackRef, MAX_NAME_LENGTH } from '../../src/stack/names.js';

describe('stack references the core accepts', () => {
  test.each([
    '..',
    '.',
    'a/b',
    '%2e%2e',
    'Loki',
    '-loki',
    'loki-',
    '',
    'a'.repeat(MAX_NAME_LENGTH + 1),
    'lo ki',
    'loki\n',
  ])('refuses the name %j', (name) => {
    expect(() => assertStackRef({ name, namespace: 'loki' })).toThrow(SpecError);
  });

  test.each(['..', '.', 'kube/system', 'a'.repeat(64), ''])('refuses the namespace %j', (namespace) => {
    expect(() => assertStackRef({ name: 'loki', namespace })).toThrow(
      /metadata\.namespace: .* is not a namespace name/,
    );
  });

  test('takes what a valid spec holds', () => {
    expect(() => assertStackRef({ name: 'a'.repeat(MAX_NAME_LENGTH), namespace: 'a'.repeat(63) })).not.toThrow();
  });

  test('the catalog annotation names a stack only with valid names', () => {
    expect(parseStackAnnotation('dev/loki/loki')).toEqual({ cluster: 'dev', namespace: 'loki', name: 'loki' });
    for (const value of [
      'dev/../loki',
      'dev/loki/..',
      '../loki/loki',
      'dev/Loki/loki',
      'dev/loki',
      'dev/loki/loki/x',
      'dev//loki',
    ]) {
      expect(parseStackAnnotation(value)).toBeUndefined();
    }
  });
});
