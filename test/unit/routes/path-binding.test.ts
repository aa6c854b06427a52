// The checks that decide whether a caller's value may be written into a policy as a path segment
// (docs/tenant-binding.md): every character that could widen an IAM pattern or move the segment is
// refused, and so is anything outside the parameter's schema.
import { describe, expect, it } from 'vitest';
import {
  type BoundValues,
  bindingRefusal,
  bindingsUsable,
  boundContext,
  checkBoundValue,
  isSafeBoundValue,
  type PathBinding,
  resolveBoundValues,
  tableBindings,
} from '../../../shared/routes/path-binding.ts';

/** The demo API's binding (openapi.yaml `TenantId`). */
const TENANT: PathBinding = {
  param: 'tenantId',
  claim: 'custom:tenant_id',
  credential: 'tenant',
  pattern: '^[a-z0-9][a-z0-9-]{2,31}$',
  maxLength: 32,
};

describe('checkBoundValue', () => {
  it.each([
    ['acme', 'acme'],
    ['globex-eu', 'globex-eu'],
    ['a00', 'a00'],
  ])('accepts %j, a safe value within the schema', (raw, value) => {
    expect(checkBoundValue(TENANT, raw)).toEqual({ ok: true, value });
  });

  it.each([undefined, null])('refuses %j as tenant_claim_missing', (raw) => {
    expect(checkBoundValue(TENANT, raw)).toEqual({ ok: false, reason: 'tenant_claim_missing' });
  });

  it.each([
    ['*', 'an IAM wildcard'],
    ['acme*', 'a trailing IAM wildcard'],
    ['?cme', 'an IAM one-character wildcard'],
    ['acme/orders', 'a slash (another segment; IAM * spans it)'],
    ['acme/../globex', 'a dot segment behind a slash'],
    ['%2F', 'a percent-encoded slash'],
    ['ac%6De', 'a percent-encoded letter'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JS placeholder
    ['${aws:username}', 'an IAM policy variable'],
    ['$acme', 'a dollar sign'],
    ['{tenantId}', 'braces'],
    [' acme', 'leading whitespace'],
    ['ac me', 'inner whitespace'],
    ['acme\n', 'a newline'],
    ['acme\u0000', 'a NUL character'],
    ['acmé', 'a non-ASCII letter'],
    ['аcme', 'a Cyrillic homoglyph'],
    ['.', 'a dot segment'],
    ['..', 'a parent segment'],
    ['', 'the empty string'],
    ['a'.repeat(129), 'more than 128 characters'],
    ['acme:eu', 'a colon'],
  ])('refuses %j (%s) as tenant_claim_unsafe', (raw) => {
    expect(checkBoundValue(TENANT, raw)).toEqual({ ok: false, reason: 'tenant_claim_unsafe' });
  });

  it.each([
    ['ACME', 'upper case, outside the pattern'],
    ['ac', 'too short for the pattern'],
    ['-acme', 'a leading hyphen the pattern refuses'],
    ['acme.eu', 'a dot the pattern refuses'],
    ['a'.repeat(33), 'longer than maxLength'],
  ])('refuses %j (%s) as tenant_claim_invalid', (raw) => {
    expect(checkBoundValue(TENANT, raw)).toEqual({ ok: false, reason: 'tenant_claim_invalid' });
  });

  it.each([42, true, ['acme'], { tenant: 'acme' }])(
    'refuses the non-string %j as tenant_claim_invalid',
    (raw) => {
      expect(checkBoundValue(TENANT, raw)).toEqual({ ok: false, reason: 'tenant_claim_invalid' });
    },
  );

  it('checks an enum and a minimum length', () => {
    const binding: PathBinding = {
      param: 'region',
      claim: 'region',
      enum: ['eu', 'us'],
      minLength: 2,
      maxLength: 2,
    };
    expect(checkBoundValue(binding, 'eu')).toEqual({ ok: true, value: 'eu' });
    expect(checkBoundValue(binding, 'ap')).toEqual({ ok: false, reason: 'tenant_claim_invalid' });
  });

  it('treats only unreserved characters as safe, and never a dot segment', () => {
    expect(isSafeBoundValue('A-Za_z.0~9')).toBe(true);
    expect(['.', '..', 'a b', 'a+b', 'a@b', 'a=b', "a'b"].filter(isSafeBoundValue)).toEqual([]);
  });
});

describe('resolveBoundValues and boundContext', () => {
  it('reads a JWT caller’s value from the claim, and a credential’s from its attribute', () => {
    // Arrange
    const claims: Record<string, unknown> = { 'custom:tenant_id': 'acme', tenant: 'globex' };

    // Act
    const fromClaims = resolveBoundValues([TENANT], 'claim', (name) => claims[name]);
    const fromCredential = resolveBoundValues([TENANT], 'credential', (name) => claims[name]);

    // Assert
    expect(fromClaims).toEqual({ tenantId: { ok: true, value: 'acme' } });
    expect(fromCredential).toEqual({ tenantId: { ok: true, value: 'globex' } });
  });

  it('finds nothing for a source the binding does not name', () => {
    const { credential: _, ...claimOnly } = TENANT;
    const bound = resolveBoundValues([claimOnly], 'credential', () => 'acme');
    expect(bound).toEqual({ tenantId: { ok: false, reason: 'tenant_claim_missing' } });
  });

  it('puts only usable values in the context, as bind_<param>', () => {
    const bound: BoundValues = {
      tenantId: { ok: true, value: 'acme' },
      region: { ok: false, reason: 'tenant_claim_unsafe' },
    };
    expect(boundContext(bound)).toEqual({ bind_tenantId: 'acme' });
    expect(boundContext(undefined)).toEqual({});
  });

  it('keeps one binding per parameter name of a table', () => {
    const routes = [{ bindings: [TENANT] }, { bindings: [TENANT] }, {}];
    expect(tableBindings(routes)).toEqual([TENANT]);
  });
});

describe('bindingRefusal', () => {
  const route = { bindings: [TENANT] };
  const acme: BoundValues = { tenantId: { ok: true, value: 'acme' } };

  it('holds for the caller’s own value in the path', () => {
    expect(bindingRefusal(route, { tenantId: 'acme' }, acme)).toBeUndefined();
    expect(bindingsUsable(route, acme)).toBe(true);
  });

  it.each([
    [{ tenantId: 'globex' }, 'tenant_mismatch'],
    [{ tenantId: 'ACME' }, 'tenant_mismatch'],
    [{ tenantId: '%61cme' }, 'tenant_mismatch'],
    [{}, 'tenant_mismatch'],
  ])('refuses the path values %j: %s', (params, reason) => {
    expect(bindingRefusal(route, params, acme)).toBe(reason);
  });

  it('refuses a caller without a usable value with the value’s own reason', () => {
    expect(bindingRefusal(route, { tenantId: 'acme' }, undefined)).toBe('tenant_claim_missing');
    expect(
      bindingRefusal(route, { tenantId: 'acme' }, { tenantId: { ok: false, reason: 'tenant_claim_unsafe' } }),
    ).toBe('tenant_claim_unsafe');
    expect(bindingsUsable(route, undefined)).toBe(false);
  });

  it('has nothing to refuse on a route without bindings', () => {
    expect(bindingRefusal({}, {}, undefined)).toBeUndefined();
    expect(bindingsUsable({}, undefined)).toBe(true);
  });
});
