// Entry point of @accord/client/http: the same createClient for queries and mutations over HTTP,
// without any WebSocket code (no subscriptions), for apps that do not need them.
import { buildClient, type HttpClientOptions } from "./core.js";
import type { HttpClient, ProcedureMap } from "./types.js";

export * from "./shared.js";
export type { HttpClientOptions as ClientOptions } from "./core.js";
export type { HttpClient as Client } from "./types.js";

/**
 * Creates an HTTP-only client for the API described by the generated `Procedures` type:
 * `createClient<Procedures>({ url, procedures })`. Subscriptions are left out; use
 * `@accord/client` for them.
 */
export function createClient<P extends ProcedureMap = never>(options: HttpClientOptions<NoInfer<P>>): HttpClient<P> {
  return buildClient(options) as HttpClient<P>;
}
