//! An in-memory implementation of the todos API.
//!
//! It is small on purpose: the point of this example is the loop from one Rust trait to a
//! server, a Rust client and a type-checked TypeScript frontend. The `shop` example shows a
//! real database.
//!
//! Changes are published to the `todos` topic of an [`accord_server::Topics`]: in process by
//! default, or Redis Streams (`REDIS_URL`), where every instance's subscribers see every
//! change and can resume on any instance. (The todos themselves stay in each process's memory.)

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use accord::{Cx, I53, Stream, Tracked};
use accord_server::topics::{Topic, TopicError, Topics};
use todos_api::{NewTodo, Todo, TodoError, TodoEvent, TodoFilter, TodoId, TodoPatch, TodoStats, Todos};

/// The topic changes are published to.
pub const TOPIC: &str = "todos";

/// Todos kept in memory, with live change events.
pub struct TodoList {
    state: Mutex<State>,
    events: Topic<TodoEvent>,
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
    /// An empty list whose changes stay in this process.
    pub fn new() -> Self {
        match Self::with_topics(&Topics::in_process()) {
            Ok(list) => list,
            // A fresh in-process set has no topic that could clash.
            Err(error) => unreachable!("{error}"),
        }
    }

    /// An empty list publishing its changes to `topics` (shared by every instance on Redis).
    pub fn with_topics(topics: &Topics) -> Result<Self, TopicError> {
        Ok(Self { state: Mutex::new(State { next_id: 1, todos: Vec::new() }), events: topics.topic(TOPIC)? })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave `State` half-updated (every update is a
        // single push/replace/remove), so a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Publishes a change. The change is made whether or not this succeeds; a publication that
    /// failed (Redis down) is recorded as a gap, so subscribers are told `EVENTS_MISSED` and
    /// refetch, rather than the caller being told its change failed.
    async fn publish(&self, event: TodoEvent) {
        if let Err(error) = self.events.publish(event).await {
            tracing::warn!(%error, "a todo change could not be published; subscribers will be told they missed it");
        }
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
        self.publish(TodoEvent::Created { todo: todo.clone() }).await;
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
        self.publish(TodoEvent::Updated { todo: todo.clone() }).await;
        Ok(todo)
    }

    async fn delete(&self, _cx: &Cx, input: TodoId) -> Result<Todo, TodoError> {
        let todo = {
            let mut state = self.state();
            let index =
                state.todos.iter().position(|t| t.id == input.id).ok_or(TodoError::NotFound { id: input.id })?;
            state.todos.remove(index)
        };
        self.publish(TodoEvent::Deleted { id: todo.id }).await;
        Ok(todo)
    }

    async fn changes(&self, cx: &Cx) -> Result<Stream<Tracked<TodoEvent>, TodoError>, TodoError> {
        // Resumes after `cx.last_event_id()` when the subscriber reconnects.
        self.events.subscribe(cx).await
    }
}
