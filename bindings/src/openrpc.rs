//! Renders `openrpc.json`: an OpenRPC 1.3.2 document with JSON Schema draft-07 schemas under
//! `components.schemas`.
//!
//! Each procedure is one method: `params` are the properties of its input object (Accord
//! sends inputs by name), `result` is its output (for a subscription: the type of each item),
//! and `errors` lists its domain errors. Accord-specific facts travel in extensions:
//! `x-accord-kind`, `x-accord-error` (the schema of the error union), `x-accord-input` (the
//! schema of the whole input, which `bindings diff` compares), for subscriptions
//! `x-accord-unsubscribe`, `x-accord-authenticated: true` for procedures that need a caller, and
//! `x-accord-idempotent: true` for mutations declared `#[mutation(idempotent)]`, and
//! `x-accord-tracked: true` for subscriptions whose items carry event ids (`accord::Tracked`).
//! A `#[deprecated]` procedure is `deprecated: true`, and so is each param whose field is.

use accord::{Description, ErrorCase};
use schemars::Schema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::collect::{Api, Procedure};
use crate::integer_bounds::IntegerBounds;
use crate::{BindingsError, GenerateOptions, HEADER, json};

/// Where named schemas live in the document.
const DEFINITIONS_PATH: &str = "/components/schemas";

/// The schemas of one procedure.
struct Schemas {
    input: Option<Schema>,
    output: Schema,
    error: Schema,
}

/// The canonical text of the document.
pub(crate) fn render(apis: &[Description], api: &Api<'_>, options: &GenerateOptions) -> Result<String, BindingsError> {
    let mut generator = SchemaSettings::draft07()
        .with(|settings| settings.definitions_path = DEFINITIONS_PATH.into())
        .with_transform(IntegerBounds)
        .into_generator();
    let mut all = Vec::with_capacity(api.procedures.len());
    for procedure in &api.procedures {
        let description = procedure.description;
        let mut schemas = Schemas {
            input: description.input.map(|input| input.json_schema(&mut generator)),
            output: description.output.json_schema(&mut generator),
            error: description.error.json_schema(&mut generator),
        };
        // The generator applies its draft-07 transforms to definitions only; these schemas are
        // used in place, so they get them here.
        for schema in schemas.input.iter_mut().chain([&mut schemas.output, &mut schemas.error]) {
            for transform in generator.transforms_mut() {
                transform.transform(schema);
            }
        }
        all.push(schemas);
    }
    let definitions = generator.take_definitions(true);

    let mut methods = Vec::with_capacity(api.procedures.len());
    for (procedure, schemas) in api.procedures.iter().zip(all) {
        methods.push(method(procedure, schemas, &definitions)?);
    }

    let mut info = Map::new();
    let title =
        options.title.clone().unwrap_or_else(|| apis.iter().map(|api| api.trait_name).collect::<Vec<_>>().join(", "));
    info.insert("title".into(), title.into());
    info.insert("version".into(), options.version.as_deref().unwrap_or("0.0.0").into());
    let docs: Vec<&str> = apis.iter().map(|api| api.docs.trim()).filter(|docs| !docs.is_empty()).collect();
    if !docs.is_empty() {
        info.insert("description".into(), docs.join("\n\n").into());
    }

    let document = json!({
        "openrpc": "1.3.2",
        "info": info,
        "methods": methods,
        "components": { "schemas": definitions },
        "x-generated": HEADER.trim_start_matches("// "),
    });
    Ok(json::to_canonical_string(document))
}

/// The result description of a tracked subscription.
const TRACKED_ITEM: &str = "One item of the subscription (each notification's `params.result`), with its id in \
    `params.eventId`: send the last id seen as `meta.lastEventId` to resume after it.";

/// One OpenRPC method object.
fn method(
    procedure: &Procedure<'_>,
    schemas: Schemas,
    definitions: &Map<String, Value>,
) -> Result<Value, BindingsError> {
    let description = procedure.description;
    let params = match &schemas.input {
        Some(input) => params(procedure, input.as_value(), definitions)?,
        None => Vec::new(),
    };
    let mut result = json!({ "name": "result", "schema": schemas.output });
    if description.tracked {
        result["description"] = TRACKED_ITEM.into();
    } else if description.unsubscribe.is_some() {
        result["description"] = "One item of the subscription (each notification's `params.result`).".into();
    }

    let mut method = json!({
        "name": description.name,
        "paramStructure": "by-name",
        "params": params,
        "result": result,
        "errors": description.errors.iter().map(error).collect::<Vec<_>>(),
        "x-accord-kind": description.kind.as_str(),
        "x-accord-error": schemas.error,
    });
    if !description.docs.trim().is_empty() {
        method["description"] = description.docs.trim().into();
    }
    if let Some(unsubscribe) = description.unsubscribe {
        method["x-accord-unsubscribe"] = unsubscribe.into();
    }
    if description.authenticated {
        method["x-accord-authenticated"] = true.into();
    }
    contract_members(&mut method, description, schemas.input.as_ref());
    if description.idempotent {
        method["x-accord-idempotent"] = true.into();
    }
    if description.tracked {
        method["x-accord-tracked"] = true.into();
    }
    Ok(method)
}

/// What `bindings diff` reads besides the standard members: the whole input type (params
/// alone lose its name and `additionalProperties`) and deprecation.
fn contract_members(method: &mut Value, description: &accord::ProcedureDescription, input: Option<&Schema>) {
    if let Some(input) = input {
        method["x-accord-input"] = input.as_value().clone();
    }
    if description.deprecated {
        method["deprecated"] = true.into();
    }
    if let Some(params) = method.get_mut("params").and_then(Value::as_array_mut) {
        for param in params {
            if param["schema"].get("deprecated") == Some(&Value::Bool(true)) {
                param["deprecated"] = true.into();
            }
        }
    }
}

/// One content descriptor per property of the input object, sorted by name.
fn params(
    procedure: &Procedure<'_>,
    input: &Value,
    definitions: &Map<String, Value>,
) -> Result<Vec<Value>, BindingsError> {
    let not_object = || BindingsError::InputNotObject {
        procedure: procedure.description.name.to_owned(),
        rust_type: procedure.description.input.map(|input| input.rust_name()).unwrap_or_default().to_owned(),
    };
    let object = resolve(input, definitions).ok_or_else(not_object)?;
    let composed = ["oneOf", "anyOf", "allOf", "$ref"].iter().any(|key| object.contains_key(*key));
    if composed || object.get("type").and_then(Value::as_str) != Some("object") {
        return Err(not_object());
    }

    let required: Vec<&str> =
        object.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let mut properties: Vec<(&String, &Value)> =
        object.get("properties").and_then(Value::as_object).into_iter().flatten().collect();
    properties.sort_by(|a, b| a.0.cmp(b.0));
    Ok(properties
        .into_iter()
        .map(|(name, schema)| {
            let mut param = json!({
                "name": name,
                "required": required.contains(&name.as_str()),
                "schema": schema,
            });
            if let Some(description) = schema.get("description").and_then(Value::as_str) {
                param["description"] = description.into();
            }
            param
        })
        .collect())
}

/// The object schema `schema` is or refers to (following `#/components/schemas/...` refs).
fn resolve<'v>(mut schema: &'v Value, definitions: &'v Map<String, Value>) -> Option<&'v Map<String, Value>> {
    let prefix = format!("#{DEFINITIONS_PATH}/");
    // A chain of refs longer than the number of definitions is a cycle.
    for _ in 0..=definitions.len() {
        let object = schema.as_object()?;
        match object.get("$ref").and_then(Value::as_str) {
            Some(reference) if object.len() == 1 => {
                let name = reference.strip_prefix(&prefix)?.replace("~1", "/").replace("~0", "~");
                schema = definitions.get(&name)?;
            }
            _ => return Some(object),
        }
    }
    None
}

/// One OpenRPC error object: the domain error's number, its docs (or code) as the message, and
/// the `data.code` it carries.
fn error(case: &ErrorCase) -> Value {
    let message = if case.docs.trim().is_empty() { case.code } else { case.docs.trim() };
    json!({ "code": case.rpc_code, "message": message, "data": { "code": case.code } })
}
