//! The OpenRPC document of one or more APIs: an OpenRPC 1.3.2 document with JSON Schema
//! draft-07 schemas under `components.schemas`, built from their [`Description`]s.
//!
//! It lives in the definition layer because two products render it from the same description:
//! `accord-bindings` writes it as `openrpc.json`, and `accord-server` answers `rpc.discover`
//! with it (adding `servers`), so the two can never disagree.
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

mod integer_bounds;

use schemars::Schema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use self::integer_bounds::IntegerBounds;
use crate::{Description, ErrorCase, ProcedureDescription};

/// Where named schemas live in the document.
const DEFINITIONS_PATH: &str = "/components/schemas";

/// The schemas of one procedure.
struct Schemas {
    input: Option<Schema>,
    output: Schema,
    error: Schema,
}

/// What a document says about itself: `info.title`, `info.version` and `servers`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Info {
    /// `info.title`; defaults to the trait names joined with `", "`.
    pub title: Option<String>,
    /// `info.version`; defaults to `"0.0.0"`.
    pub version: Option<String>,
    /// `servers`, as `(name, url)`; none by default (the member is then left out).
    pub servers: Vec<(String, String)>,
}

impl Info {
    /// Sets `info.title`.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets `info.version`.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Adds a server where the API is served, e.g. `("production", "https://api.example.com/rpc")`.
    pub fn server(mut self, name: impl Into<String>, url: impl Into<String>) -> Self {
        self.servers.push((name.into(), url.into()));
        self
    }
}

/// Why a document could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenRpcError {
    /// A procedure's input is not a JSON object with named properties, so it cannot be
    /// described as OpenRPC by-name params.
    #[error(
        "the input of `{procedure}` (`{rust_type}`) is not a JSON object with named fields; \
         Accord sends inputs by name, so use a struct with named fields"
    )]
    InputNotObject {
        /// The wire method name.
        procedure: String,
        /// The Rust input type.
        rust_type: String,
    },
}

/// A procedure of the document, with the namespace it sorts by.
struct Procedure<'a> {
    namespace: &'a str,
    description: &'a ProcedureDescription,
}

/// The OpenRPC document of `apis`: methods sorted by namespace, then method.
///
/// ```
/// # use accord::{Api, Cx, Error};
/// # #[accord::wire] pub struct Ping { pub n: u32 }
/// # #[accord::procedures(namespace = "ping")]
/// # pub trait Pings { #[query] async fn ping(&self, cx: &Cx, input: Ping) -> Result<Ping, Error>; }
/// let info = accord::openrpc::Info::default().server("local", "http://127.0.0.1:3000/rpc");
/// let document = accord::openrpc::document(&[PingsApi::description()], &info)?;
/// assert_eq!(document["methods"][0]["name"], "ping.ping");
/// assert_eq!(document["servers"][0]["url"], "http://127.0.0.1:3000/rpc");
/// # Ok::<(), accord::openrpc::OpenRpcError>(())
/// ```
pub fn document(apis: &[Description], options: &Info) -> Result<Value, OpenRpcError> {
    let mut procedures: Vec<Procedure<'_>> = apis
        .iter()
        .flat_map(|api| {
            api.procedures.iter().map(move |description| Procedure { namespace: api.namespace, description })
        })
        .collect();
    procedures.sort_by(|a, b| (a.namespace, a.description.method).cmp(&(b.namespace, b.description.method)));
    let mut generator = SchemaSettings::draft07()
        .with(|settings| settings.definitions_path = DEFINITIONS_PATH.into())
        .with_transform(IntegerBounds)
        .into_generator();
    let mut all = Vec::with_capacity(procedures.len());
    for procedure in &procedures {
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

    let mut methods = Vec::with_capacity(procedures.len());
    for (procedure, schemas) in procedures.iter().zip(all) {
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

    let mut document = json!({
        "openrpc": "1.3.2",
        "info": info,
        "methods": methods,
        "components": { "schemas": definitions },
    });
    if !options.servers.is_empty() {
        let servers: Vec<Value> =
            options.servers.iter().map(|(name, url)| json!({ "name": name, "url": url })).collect();
        document["servers"] = servers.into();
    }
    Ok(document)
}

/// The result description of a tracked subscription.
const TRACKED_ITEM: &str = "One item of the subscription (each notification's `params.result`), with its id in \
    `params.eventId`: send the last id seen as `meta.lastEventId` to resume after it.";

/// One OpenRPC method object.
fn method(
    procedure: &Procedure<'_>,
    schemas: Schemas,
    definitions: &Map<String, Value>,
) -> Result<Value, OpenRpcError> {
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
fn contract_members(method: &mut Value, description: &ProcedureDescription, input: Option<&Schema>) {
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
) -> Result<Vec<Value>, OpenRpcError> {
    let not_object = || OpenRpcError::InputNotObject {
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
