//! The todos API: every procedure, input, output and error, defined once.
//!
//! The server (`todos-server`), the Rust CLI (`todos-cli`) and the TypeScript bindings
//! (`src/bin/bindings.rs`, written to `examples/todos/web/src/api/`) all come from this file.

use std::collections::BTreeMap;

use accord::{Cx, I53, RpcError, Stream, Tracked};

/// A todo item.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct Todo {
    /// Unique, assigned by the server.
    pub id: u32,
    pub title: String,
    pub done: bool,
    pub priority: Priority,
    /// Free-form labels, in the order given.
    pub tags: Vec<String>,
    /// When it was created, in milliseconds since the Unix epoch.
    pub created_at_ms: I53,
    /// A longer note, if any.
    pub note: Option<String>,
}

/// How urgent a todo is.
#[accord::wire]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
}

/// Input of `todos.get` and `todos.delete`.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct TodoId {
    pub id: u32,
}

/// Input of `todos.create`.
#[accord::wire]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewTodo {
    /// 1 to 200 characters, unique among open todos.
    pub title: String,
    #[serde(default)]
    pub priority: Priority,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// Input of `todos.update`: fields left out stay as they are.
#[accord::wire]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TodoPatch {
    pub id: u32,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub done: Option<bool>,
    #[serde(default)]
    pub priority: Option<Priority>,
}

/// Input of `todos.list`: every filter is optional.
#[accord::wire]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TodoFilter {
    #[serde(default)]
    pub done: Option<bool>,
    #[serde(default)]
    pub tag: Option<String>,
}

/// Counts over all todos.
#[accord::wire]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TodoStats {
    pub total: u32,
    pub done: u32,
    /// How many todos carry each tag.
    pub by_tag: BTreeMap<String, u32>,
}

/// A change to the todo list, as `todos.changes` streams it.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum TodoEvent {
    Created { todo: Todo },
    Updated { todo: Todo },
    Deleted { id: u32 },
}

/// What can go wrong with a todo.
#[accord::error]
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TodoError {
    /// No todo has this id.
    #[error("todo {id} does not exist")]
    #[accord(code = 1404)]
    NotFound { id: u32 },
    /// Another open todo already has this title.
    #[error("an open todo is already titled {title:?}")]
    #[accord(code = 1409)]
    TitleTaken { title: String },
    /// The title is empty or longer than 200 characters.
    #[error("a title has 1 to 200 characters, this one has {length}")]
    InvalidTitle { length: u32 },
    /// A framework or transport error.
    #[error(transparent)]
    #[accord(rpc)]
    Rpc(RpcError),
}

/// Todos: a small list that several clients edit and watch live.
#[accord::procedures(namespace = "todos")]
pub trait Todos {
    /// Fetch one todo by id.
    #[query]
    async fn get(&self, cx: &Cx, input: TodoId) -> Result<Todo, TodoError>;

    /// Every todo matching the filter, oldest first.
    #[query]
    async fn list(&self, cx: &Cx, input: TodoFilter) -> Result<Vec<Todo>, TodoError>;

    /// Counts over all todos.
    #[query]
    async fn stats(&self, cx: &Cx) -> Result<TodoStats, TodoError>;

    /// Create a todo.
    #[mutation]
    async fn create(&self, cx: &Cx, input: NewTodo) -> Result<Todo, TodoError>;

    /// Change some fields of a todo. Idempotent: the same patch sent twice leaves the todo as
    /// sending it once does, so clients may retry it.
    #[mutation(idempotent)]
    async fn update(&self, cx: &Cx, input: TodoPatch) -> Result<Todo, TodoError>;

    /// Delete a todo; returns the deleted todo.
    #[mutation]
    async fn delete(&self, cx: &Cx, input: TodoId) -> Result<Todo, TodoError>;

    /// Every change from now on, as it happens. Tracked: a subscriber that reconnects resumes
    /// after the last change it saw (or is told `EVENTS_MISSED` and refetches).
    #[subscription]
    async fn changes(&self, cx: &Cx) -> Result<Stream<Tracked<TodoEvent>, TodoError>, TodoError>;
}
