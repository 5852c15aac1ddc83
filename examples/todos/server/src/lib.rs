//! An in-memory implementation of the todos API.
//!
//! It is small on purpose: the point of this example is the loop from one Rust trait to a
//! server, a Rust client and a type-checked TypeScript frontend. The `shop` example shows a
//! real database.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use accord::{Cx, FrameworkCode, I53, RpcError, Stream};
use futures_util::StreamExt;
use todos_api::{NewTodo, Todo, TodoError, TodoEvent, TodoFilter, TodoId, TodoPatch, TodoStats, Todos};
use tokio::sync::broadcast;

/// How many events a slow subscriber may fall behind before its subscription ends.
const EVENT_BUFFER: usize = 256;

/// Todos kept in memory, with live change events.
pub struct TodoList {
    state: Mutex<State>,
    events: broadcast::Sender<TodoEvent>,
}

#[derive(Default)]
struct State {
    next_id: u32,
    todos: Vec<Todo>,
}

impl Default for TodoList {
    fn default() -> Self {
        Self::new()
    }
}

impl TodoList {
    /// An empty list.
    pub fn new() -> Self {
        Self { state: Mutex::new(State { next_id: 1, todos: Vec::new() }), events: broadcast::channel(EVENT_BUFFER).0 }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave `State` half-updated (every update is a
        // single push/replace/remove), so a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn publish(&self, event: TodoEvent) {
        // No subscribers is not an error.
        let _ = self.events.send(event);
    }
}

fn check_title(title: &str) -> Result<(), TodoError> {
    let length = title.chars().count();
    if length == 0 || length > 200 {
        return Err(TodoError::InvalidTitle { length: u32::try_from(length).unwrap_or(u32::MAX) });
    }
    Ok(())
}

fn now_ms() -> I53 {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    I53::new(i64::try_from(ms).unwrap_or(I53::MAX)).unwrap_or_default()
}

impl Todos for TodoList {
    async fn get(&self, _cx: &Cx, input: TodoId) -> Result<Todo, TodoError> {
        let state = self.state();
        state.todos.iter().find(|t| t.id == input.id).cloned().ok_or(TodoError::NotFound { id: input.id })
    }

    async fn list(&self, _cx: &Cx, filter: TodoFilter) -> Result<Vec<Todo>, TodoError> {
        let state = self.state();
        Ok(state
            .todos
            .iter()
            .filter(|t| filter.done.is_none_or(|done| t.done == done))
            .filter(|t| filter.tag.as_ref().is_none_or(|tag| t.tags.contains(tag)))
            .cloned()
            .collect())
    }

    async fn stats(&self, _cx: &Cx) -> Result<TodoStats, TodoError> {
        let state = self.state();
        let mut stats = TodoStats::default();
        for todo in &state.todos {
            stats.total += 1;
            stats.done += u32::from(todo.done);
            for tag in &todo.tags {
                *stats.by_tag.entry(tag.clone()).or_default() += 1;
            }
        }
        Ok(stats)
    }

    async fn create(&self, _cx: &Cx, input: NewTodo) -> Result<Todo, TodoError> {
        check_title(&input.title)?;
        let todo = {
            let mut state = self.state();
            if state.todos.iter().any(|t| !t.done && t.title == input.title) {
                return Err(TodoError::TitleTaken { title: input.title });
            }
            let todo = Todo {
                id: state.next_id,
                title: input.title,
                done: false,
                priority: input.priority,
                tags: input.tags,
                created_at_ms: now_ms(),
                note: input.note,
            };
            state.next_id += 1;
            state.todos.push(todo.clone());
            todo
        };
        self.publish(TodoEvent::Created { todo: todo.clone() });
        Ok(todo)
    }

    async fn update(&self, _cx: &Cx, patch: TodoPatch) -> Result<Todo, TodoError> {
        if let Some(title) = &patch.title {
            check_title(title)?;
        }
        let todo = {
            let mut state = self.state();
            let State { todos, .. } = &mut *state;
            let index = todos.iter().position(|t| t.id == patch.id).ok_or(TodoError::NotFound { id: patch.id })?;
            if let Some(title) = &patch.title
                && todos.iter().any(|t| t.id != patch.id && !t.done && &t.title == title)
            {
                return Err(TodoError::TitleTaken { title: title.clone() });
            }
            let todo = &mut todos[index];
            if let Some(title) = patch.title {
                todo.title = title;
            }
            if let Some(done) = patch.done {
                todo.done = done;
            }
            if let Some(priority) = patch.priority {
                todo.priority = priority;
            }
            todo.clone()
        };
        self.publish(TodoEvent::Updated { todo: todo.clone() });
        Ok(todo)
    }

    async fn delete(&self, _cx: &Cx, input: TodoId) -> Result<Todo, TodoError> {
        let todo = {
            let mut state = self.state();
            let index =
                state.todos.iter().position(|t| t.id == input.id).ok_or(TodoError::NotFound { id: input.id })?;
            state.todos.remove(index)
        };
        self.publish(TodoEvent::Deleted { id: todo.id });
        Ok(todo)
    }

    async fn changes(&self, _cx: &Cx) -> Result<Stream<TodoEvent, TodoError>, TodoError> {
        let receiver = self.events.subscribe();
        Ok(Box::pin(
            futures_util::stream::unfold(Some(receiver), |receiver| async move {
                let mut receiver = receiver?;
                match receiver.recv().await {
                    Ok(event) => Some((Ok(event), Some(receiver))),
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        let error = RpcError::framework(
                            FrameworkCode::Overloaded,
                            format!("fell {missed} events behind; resubscribe"),
                        );
                        Some((Err(TodoError::Rpc(error)), None))
                    }
                    Err(broadcast::error::RecvError::Closed) => None,
                }
            })
            .boxed(),
        ))
    }
}
