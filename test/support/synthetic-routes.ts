// Large route tables shaped like real APIs (nested resources, reads and writes under different
// scopes, greedy file paths, `:verb` actions, literal routes beside parameters), for tests and
// benchmarks of routing and policies at 1,000+ routes.
import type { Route, RouteTable } from '../../shared/routes/route-table.ts';

/** `count` routes, the same every time for the same count. */
export function syntheticRoutes(count: number): RouteTable {
  const routes: Route[] = [];
  const add = (method: Route['method'], path: string, scope: string | null, greedy = false) => {
    if (routes.length >= count) return;
    routes.push({
      method,
      path,
      operationId: `op${routes.length}`,
      scopeAlternatives: scope === null ? null : [[scope]],
      ...(greedy ? { greedy: true as const } : {}),
    });
  };
  for (let k = 0; routes.length < count; k++) {
    const base = `/svc${k}`;
    const read = `svc${k}:read`;
    const write = `svc${k}:write`;
    add('GET', `${base}/items`, read);
    add('POST', `${base}/items`, write);
    add('GET', `${base}/items/{itemId}`, read);
    add('PATCH', `${base}/items/{itemId}`, write);
    add('DELETE', `${base}/items/{itemId}`, write);
    add('GET', `${base}/items/search`, read);
    add('GET', `${base}/items/{itemId}/notes`, read);
    add('POST', `${base}/items/{itemId}/notes`, write);
    add('GET', `${base}/items/{itemId}/notes/{noteId}`, read);
    add('POST', `${base}/items/{itemId}:archive`, write);
    add('GET', `${base}/owners/{owner}/repos/{repo}/contents/{path}`, read, true);
    add('PUT', `${base}/owners/{owner}/repos/{repo}/contents/{path}`, write, true);
    add('GET', `${base}/status`, null);
  }
  return routes;
}
