//! Renders the TypeScript files: `types.ts`, `procedures.ts` and `index.ts`.

use std::fmt::Write as _;

use crate::HEADER;
use crate::collect::{Api, Procedure};

/// `types.ts`: every declaration, sorted by name, separated by blank lines.
pub(crate) fn types_ts(api: &Api<'_>) -> String {
    let mut out = format!("{HEADER}\n");
    push_declarations(&mut out, api.declarations.values());
    if api.declarations.is_empty() {
        // Keeps the file a module, so that `export * from "./types.js"` compiles.
        out.push_str("\nexport {};\n");
    }
    out
}

/// Appends each declaration after a blank line, without trailing whitespace.
pub(crate) fn push_declarations<'d>(out: &mut String, declarations: impl IntoIterator<Item = &'d accord::Declaration>) {
    for declaration in declarations {
        out.push('\n');
        for line in declaration.source.trim().lines() {
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
}

/// `procedures.ts`: the `Procedures` type map and the `procedures` kind table.
pub(crate) fn procedures_ts(api: &Api<'_>) -> String {
    let mut out = format!("{HEADER}\n");
    let imports = api.imported_names();
    if !imports.is_empty() {
        let names: Vec<&str> = imports.into_iter().collect();
        let _ = writeln!(out, "import type {{ {} }} from \"./types.js\";", names.join(", "));
    }

    out.push_str("\n/** Every procedure of the API: namespace → method → kind, input, output and error types. */\n");
    out.push_str("export type Procedures = {\n");
    for (namespace, procedures) in by_namespace(&api.procedures) {
        let _ = writeln!(out, "  {namespace}: {{");
        for procedure in procedures {
            let description = procedure.description;
            out.push_str(&jsdoc(&deprecation(description.docs, description.deprecated), "    "));
            let _ = writeln!(
                out,
                "    {}: {{ kind: \"{}\";{}{} input: {}; output: {}; error: {} }};",
                description.method,
                description.kind.as_str(),
                if description.idempotent { " idempotent: true;" } else { "" },
                if description.tracked { " tracked: true;" } else { "" },
                procedure.input.as_deref().unwrap_or("void"),
                procedure.output,
                procedure.error,
            );
        }
        out.push_str("  };\n");
    }
    out.push_str("};\n");

    out.push_str(KIND_TABLE_DOC);
    out.push_str("export const procedures = {\n");
    for (namespace, procedures) in by_namespace(&api.procedures) {
        let kinds: Vec<String> =
            procedures.iter().map(|p| format!("{}: \"{}\"", p.description.method, table_kind(p))).collect();
        let _ = writeln!(out, "  {namespace}: {{ {} }},", kinds.join(", "));
    }
    out.push_str("} as const;\n");
    out
}

const KIND_TABLE_DOC: &str = "\n/**\n * The kind of every procedure, for `createClient`: it picks HTTP or WebSocket by kind, and retries\n * queries and `mutation:idempotent`s (mutations declared `#[mutation(idempotent)]`).\n */\n";

/// A procedure's entry in the kind table: its kind, or `mutation:idempotent`.
fn table_kind(procedure: &Procedure<'_>) -> &'static str {
    match procedure.description.kind {
        accord::Kind::Mutation if procedure.description.idempotent => "mutation:idempotent",
        kind => kind.as_str(),
    }
}

/// `index.ts`: re-exports the other two.
pub(crate) fn index_ts() -> String {
    format!("{HEADER}\nexport * from \"./types.js\";\nexport * from \"./procedures.js\";\n")
}

/// Groups sorted procedures by namespace, keeping the order.
fn by_namespace<'p, 'a>(procedures: &'p [Procedure<'a>]) -> Vec<(&'a str, &'p [Procedure<'a>])> {
    let mut groups = Vec::new();
    let mut rest = procedures;
    while let Some(first) = rest.first() {
        let len = rest.iter().take_while(|p| p.namespace == first.namespace).count();
        let (group, tail) = rest.split_at(len);
        groups.push((first.namespace, group));
        rest = tail;
    }
    groups
}

/// `docs` with a JSDoc `@deprecated` tag last when the procedure is `#[deprecated]`.
fn deprecation(docs: &str, deprecated: bool) -> String {
    match (deprecated, docs.trim()) {
        (false, docs) => docs.to_owned(),
        (true, "") => "@deprecated".to_owned(),
        (true, docs) => format!("{docs}\n\n@deprecated"),
    }
}

/// A JSDoc comment for `docs` at `indent`: `/** one line */`, or a ` * `-prefixed block.
/// Empty docs give nothing.
fn jsdoc(docs: &str, indent: &str) -> String {
    let docs = docs.trim().replace("*/", "*\\/");
    let lines: Vec<&str> = docs.lines().map(str::trim_end).collect();
    match lines.as_slice() {
        [] => String::new(),
        [line] => format!("{indent}/** {line} */\n"),
        lines => {
            let mut out = format!("{indent}/**\n");
            for line in lines {
                if line.is_empty() {
                    let _ = writeln!(out, "{indent} *");
                } else {
                    let _ = writeln!(out, "{indent} * {line}");
                }
            }
            let _ = writeln!(out, "{indent} */");
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::jsdoc;

    #[test]
    fn jsdoc_is_one_line_or_a_block() {
        assert_eq!(jsdoc("", "  "), "");
        assert_eq!(jsdoc("Fetch one.", "  "), "  /** Fetch one. */\n");
        assert_eq!(jsdoc("First.\n\nSecond */ end.", ""), "/**\n * First.\n *\n * Second *\\/ end.\n */\n");
    }
}
