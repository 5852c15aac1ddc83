/**
 * TanStack Query helpers for `client` (from `@accord/client` or `@accord/client/http`):
 *
 * ```ts
 * const api = createQueryHelpers(client);
 * useQuery(api.todos.get.queryOptions({ id }));
 * useMutation(api.todos.create.mutationOptions({ onSuccess: () => queryClient.invalidateQueries({ queryKey: api.todos.queryKey() }) }));
 * ```
 */
export function createQueryHelpers(client) {
    const helpers = {};
    for (const [ns, procedures] of Object.entries(client)) {
        if (typeof procedures !== "object" || procedures === null)
            continue; // close, $close
        const namespace = { queryKey: () => [ns] };
        for (const [name, fn] of Object.entries(procedures)) {
            const key = (...input) => (input[0] === undefined ? [ns, name] : [ns, name, input[0]]);
            namespace[name] =
                fn.kind === "query"
                    ? {
                        queryKey: key,
                        queryOptions: (input, { call, ...options } = {}) => ({
                            ...options,
                            queryKey: key(input),
                            queryFn: ({ signal }) => fn(input, { ...call, signal }),
                        }),
                    }
                    : fn.kind === "mutation"
                        ? {
                            mutationKey: () => [ns, name],
                            mutationOptions: ({ call, ...options } = {}) => ({
                                ...options,
                                mutationKey: [ns, name],
                                mutationFn: (input) => fn(input, call),
                            }),
                        }
                        : { queryKey: key };
        }
        helpers[ns] = namespace;
    }
    return helpers;
}
//# sourceMappingURL=index.js.map