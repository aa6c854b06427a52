/**
 * events/env.json: the environment `sam local invoke --env-vars events/env.json` gives the functions
 * (also usable as `-n` of `npm run invoke` and `npm start`). SAM's format: variables by function
 * logical ID, values as strings. A test keeps the committed file equal to {@link samEnvVars}.
 */
import { publishedIssuerEntry } from '../issuer/published-issuer.ts';
import { LOCAL_UPSTREAM_SIGNING_SECRET } from './services.ts';

/** Where the file is, relative to the project root. */
export const SAM_ENV_FILE = 'events/env.json';

/** The content of events/env.json. */
export function samEnvVars(): Record<string, Record<string, string>> {
  return {
    // The published development issuer, keys inline: no JWKS download inside SAM's container.
    JwtAuthorizerFunction: { JWT_ISSUERS: JSON.stringify([publishedIssuerEntry()]) },
    // The template's value is a Secrets Manager dynamic reference, which only CloudFormation
    // resolves; the validator refuses it unresolved. The local tools use the same value.
    RequestValidatorFunction: { UPSTREAM_SIGNING_SECRET: LOCAL_UPSTREAM_SIGNING_SECRET },
  };
}
