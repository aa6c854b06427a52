import type { Route, RouteTable } from '../../shared/routes/route-table.ts';
import { type OpenApiDocument, OpenApiError, operations } from './document.ts';

/**
 * The route table of a document: each operation's `security` (or the document's default) turned
 * into scope alternatives. An empty requirement (`security: []`, or `{}` among the alternatives)
 * makes the route public.
 */
export function routeTable(doc: OpenApiDocument): RouteTable {
  const schemes = Object.keys((doc.components?.securitySchemes as Record<string, unknown> | undefined) ?? {});
  return operations(doc).map(({ method, path, operationId, operation }): Route => {
    const requirements = (operation.security ?? doc.security ?? []) as unknown;
    if (!Array.isArray(requirements)) throw new OpenApiError(`${operationId}: security must be an array`);
    if (requirements.length === 0) return { method, path, operationId, scopeAlternatives: null };
    const alternatives: string[][] = [];
    for (const requirement of requirements) {
      if (typeof requirement !== 'object' || requirement === null) {
        throw new OpenApiError(`${operationId}: each security requirement must be an object`);
      }
      const entries = Object.entries(requirement as Record<string, unknown>);
      if (entries.length === 0) return { method, path, operationId, scopeAlternatives: null };
      const scopes = new Set<string>();
      for (const [scheme, list] of entries) {
        if (!schemes.includes(scheme))
          throw new OpenApiError(`${operationId}: unknown security scheme "${scheme}"`);
        if (!Array.isArray(list) || list.some((s) => typeof s !== 'string')) {
          throw new OpenApiError(`${operationId}: scopes of "${scheme}" must be a list of strings`);
        }
        for (const s of list as string[]) scopes.add(s);
      }
      alternatives.push([...scopes].sort());
    }
    // Identical alternatives (one per scheme, as in the demo API) collapse into one.
    const unique = [...new Map(alternatives.map((a) => [a.join(' '), a])).values()];
    return { method, path, operationId, scopeAlternatives: unique };
  });
}
