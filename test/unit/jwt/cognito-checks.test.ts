// Our Cognito claim checks are composed from aws-jwt-verify's assertions; they must decide exactly
// as the library's own validateCognitoJwtFields does, error class for error class.
import { validateCognitoJwtFields } from 'aws-jwt-verify/cognito-verifier';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateCognitoFields } from '../../../shared/jwt/verifier.ts';

function outcome(check: () => void): string {
  try {
    check();
    return 'valid';
  } catch (err) {
    return (err as Error).constructor.name;
  }
}

describe('validateCognitoFields', () => {
  it('decides like aws-jwt-verify validateCognitoJwtFields on every payload and setting', () => {
    const value = fc.oneof(
      fc.constantFrom('id', 'access', 'app1', 'app2', '', 'ID'),
      fc.constant(undefined),
      fc.constant(null),
      fc.integer(),
      fc.array(fc.constantFrom('app1', 'app2', 'id'), { maxLength: 3 }),
    );
    fc.assert(
      fc.property(
        fc.record({ token_use: value, client_id: value, aud: value }, { requiredKeys: [] }),
        fc.constantFrom('id', 'access', null),
        fc.oneof(
          fc.constant(null),
          fc.array(fc.constantFrom('app1', 'app2'), { minLength: 1, maxLength: 2 }),
        ),
        (payload, tokenUse, clientId) => {
          const ours = outcome(() =>
            validateCognitoFields(payload, { userPoolId: 'us-east-1_x', tokenUse, clientId }),
          );
          const library = outcome(() => validateCognitoJwtFields(payload as never, { tokenUse, clientId }));
          expect(ours).toBe(library);
        },
      ),
      { numRuns: 20_000 },
    );
  });
});
