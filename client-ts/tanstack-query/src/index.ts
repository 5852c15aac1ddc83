// @accord/tanstack-query: TanStack Query options for every procedure of an @accord/client client.
// Framework-agnostic (query-core types only, no React); the options objects work with
// `useQuery`, `useMutation`, `queryClient.fetchQuery`, `QueryObserver` and the rest.
import type { CallOptions, ProcedureDef, ProcedureError } from "@accord/client";
import type { DataTag, MutationFunctionContext, MutationObserverOptions, QueryFunctionContext, QueryObserverOptions } from "@tanstack/query-core";

/** A procedure function of either client entry (it carries its definition as a phantom type). */
type AnyProcedure = { readonly method: string; readonly kind: string; readonly $def?: ProcedureDef };
type DefOf<F> = F extends { readonly $def?: infer D } ? Exclude<D, undefined> & ProcedureDef : never;

/** `[namespace, method, input]`: the input is left out for prefix matching and void inputs. */
export type ProcedureKey<N extends string, M extends string, I> = [I] extends [void]
  ? readonly [N, M]
  : readonly [N, M] | readonly [N, M, I];

/** A query key that carries the procedure's output and error types (`queryClient.getQueryData` infers them). */
export type TaggedKey<N extends string, M extends string, D extends ProcedureDef> = DataTag<
  ProcedureKey<N, M, D["input"]>,
  D["output"],
  ProcedureError<D>
>;

/** Query options besides `queryKey` and `queryFn`, plus `call` for the call's own options. */
export type QueryExtras<D extends ProcedureDef, TData> = Omit<
  QueryObserverOptions<D["output"], ProcedureError<D>, TData, D["output"], ProcedureKey<string, string, D["input"]>>,
  "queryKey" | "queryFn"
> & { call?: Omit<CallOptions, "signal"> | undefined };

export type QueryOptionsOf<N extends string, M extends string, D extends ProcedureDef, TData> = QueryObserverOptions<
  D["output"],
  ProcedureError<D>,
  TData,
  D["output"],
  TaggedKey<N, M, D>
> & {
  queryKey: TaggedKey<N, M, D>;
  queryFn: (context: QueryFunctionContext<TaggedKey<N, M, D>>) => Promise<D["output"]>;
};

type InputArgs<D extends ProcedureDef, O> = [D["input"]] extends [void] ? [input?: undefined, options?: O] : [input: D["input"], options?: O];

export interface QueryHelpers<N extends string, M extends string, D extends ProcedureDef> {
  /** `[namespace, method, input]`, or the procedure's prefix `[namespace, method]` without input (to invalidate them all). */
  queryKey(...args: [D["input"]] extends [void] ? [] : [input?: D["input"]]): TaggedKey<N, M, D>;
  /** Options for `useQuery`, `fetchQuery`, `QueryObserver`...: the key, a `queryFn` calling the procedure with TanStack's abort signal, and yours. */
  queryOptions<TData = D["output"]>(...args: InputArgs<D, QueryExtras<D, TData>>): QueryOptionsOf<N, M, D, TData>;
}

export type MutationExtras<D extends ProcedureDef, TContext> = Omit<
  MutationObserverOptions<D["output"], ProcedureError<D>, D["input"], TContext>,
  "mutationKey" | "mutationFn"
> & { call?: CallOptions | undefined };

export type MutationOptionsOf<N extends string, M extends string, D extends ProcedureDef, TContext> = MutationObserverOptions<
  D["output"],
  ProcedureError<D>,
  D["input"],
  TContext
> & {
  mutationKey: readonly [N, M];
  mutationFn: (input: D["input"], context: MutationFunctionContext) => Promise<D["output"]>;
};

export interface MutationHelpers<N extends string, M extends string, D extends ProcedureDef> {
  /** `[namespace, method]`, for `useIsMutating` and mutation defaults. */
  mutationKey(): readonly [N, M];
  /** Options for `useMutation` / `MutationObserver`: the key, a `mutationFn` calling the procedure, and yours. */
  mutationOptions<TContext = unknown>(options?: MutationExtras<D, TContext>): MutationOptionsOf<N, M, D, TContext>;
}

export interface SubscriptionHelpers<N extends string, M extends string, D extends ProcedureDef> {
  /** A key under the namespace for data you derive from the stream (see the README's subscription pattern). */
  queryKey(...args: [D["input"]] extends [void] ? [] : [input?: D["input"]]): ProcedureKey<N, M, D["input"]>;
}

export type ProcedureHelpers<N extends string, M extends string, D extends ProcedureDef> = D["kind"] extends "query"
  ? QueryHelpers<N, M, D>
  : D["kind"] extends "mutation"
    ? MutationHelpers<N, M, D>
    : SubscriptionHelpers<N, M, D>;

type NamespaceHelpers<N extends string, NS> = {
  readonly [M in keyof NS & string as NS[M] extends AnyProcedure ? M : never]: ProcedureHelpers<N, M, DefOf<NS[M]>>;
} & ("queryKey" extends keyof NS ? unknown : { /** `[namespace]`: every query of the namespace, to invalidate. */ queryKey(): readonly [N] });

/** Helpers for every namespace of the client `C`. */
export type Helpers<C> = {
  readonly [N in keyof C & string as C[N] extends (...args: never[]) => unknown ? never : N]: NamespaceHelpers<N, C[N]>;
};

/**
 * TanStack Query helpers for `client` (from `@accord/client` or `@accord/client/http`):
 *
 * ```ts
 * const api = createQueryHelpers(client);
 * useQuery(api.todos.get.queryOptions({ id }));
 * useMutation(api.todos.create.mutationOptions({ onSuccess: () => queryClient.invalidateQueries({ queryKey: api.todos.queryKey() }) }));
 * ```
 */
export function createQueryHelpers<C extends object>(client: C): Helpers<C> {
  const helpers: Record<string, Record<string, unknown>> = {};
  for (const [ns, procedures] of Object.entries(client)) {
    if (typeof procedures !== "object" || procedures === null) continue; // close, $close
    const namespace: Record<string, unknown> = { queryKey: () => [ns] };
    for (const [name, fn] of Object.entries(procedures as Record<string, AnyProcedure & ((input: unknown, opts?: CallOptions) => Promise<unknown>)>)) {
      const key = (...input: unknown[]): readonly unknown[] => (input[0] === undefined ? [ns, name] : [ns, name, input[0]]);
      namespace[name] =
        fn.kind === "query"
          ? {
              queryKey: key,
              queryOptions: (input?: unknown, { call, ...options }: { call?: CallOptions } = {}) => ({
                ...options,
                queryKey: key(input),
                queryFn: ({ signal }: { signal: AbortSignal }) => fn(input, { ...call, signal }),
              }),
            }
          : fn.kind === "mutation"
            ? {
                mutationKey: () => [ns, name],
                mutationOptions: ({ call, ...options }: { call?: CallOptions } = {}) => ({
                  ...options,
                  mutationKey: [ns, name],
                  mutationFn: (input: unknown) => fn(input, call),
                }),
              }
            : { queryKey: key };
    }
    helpers[ns] = namespace;
  }
  return helpers as Helpers<C>;
}
