/**
 * events/env.json: the environment `sam local invoke --env-vars events/env.json` gives the functions
 * (also usable as `-n` of `npm run invoke` and `npm start`). SAM's format: variables by function
 * logical ID, values as strings. A test keeps the committed file equal to {@link samEnvVars}.
 */
import { publishedIssuerEntry } from '../issuer/published-issuer.ts';
import { LOCAL_UPSTREAM_SIGNING_SECRET, SAMPLE_DPOP_PUBLIC_URLS } from './services.ts';

/** Where the file is, relative to the project root. */
export const SAM_ENV_FILE = 'events/env.json';

/** The content of events/env.json. */
export function samEnvVars(): Record<string, Record<string, string>> {
  return {
    // The published development issuer, keys inline: no JWKS download inside SAM's container. Its
    // tokens may come with DPoP; proofs are remembered in memory (SAM has no table to reach, and
    // each `sam local invoke` is a new container anyway), for the sample events' API.
    JwtAuthorizerFunction: {
      JWT_ISSUERS: JSON.stringify([{ ...publishedIssuerEntry(), dpop: 'allowed' }]),
      DPOP_PUBLIC_URLS: JSON.stringify(SAMPLE_DPOP_PUBLIC_URLS),
      DPOP_REPLAY_STORE: 'memory',
    },
    // Deployed, the validator reads its key from Secrets Manager (UPSTREAM_SIGNING_SECRET_ARN); the
    // template declares UPSTREAM_SIGNING_SECRET empty so that --env-vars can give this local value,
    // which wins. The local tools use the same value.
    RequestValidatorFunction: { UPSTREAM_SIGNING_SECRET: LOCAL_UPSTREAM_SIGNING_SECRET },
  };
}
