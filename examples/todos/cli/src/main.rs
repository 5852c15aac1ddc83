//! `todos-cli`: calls the todos API through the very trait the server implements.
//!
//! ```text
//! todos-cli create "buy milk" --tag home
//! todos-cli list --open
//! todos-cli done 1
//! todos-cli watch
//! ```
//!
//! Exit codes: 0 success, 1 a domain error (e.g. `NOT_FOUND`), 3 a framework or transport
//! error (server down, timeout...), 2 bad usage.

use std::process::ExitCode;
use std::time::Duration;

use accord::client::{HttpTransport, WsTransport};
use accord::{Cx, ProcedureError};
use clap::{Parser, Subcommand};
use futures_util::StreamExt;
use todos_api::{NewTodo, Priority, Todo, TodoError, TodoFilter, TodoId, TodoPatch, Todos, TodosClient};

#[derive(Parser)]
#[command(version, about = "Work with the todos example server")]
struct Cli {
    /// The server's JSON-RPC endpoint.
    #[arg(long, env = "TODOS_URL", default_value = "http://127.0.0.1:3000/rpc")]
    url: String,
    /// Give up on a call after this many seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List todos.
    List {
        /// Only open todos.
        #[arg(long, conflicts_with = "done")]
        open: bool,
        /// Only finished todos.
        #[arg(long)]
        done: bool,
        /// Only todos with this tag.
        #[arg(long)]
        tag: Option<String>,
    },
    /// Show one todo.
    Get { id: u32 },
    /// Create a todo.
    Create {
        title: String,
        #[arg(long, value_parser = parse_priority, default_value = "normal")]
        priority: Priority,
        /// A tag (repeat for several).
        #[arg(long = "tag")]
        tags: Vec<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Mark a todo as done.
    Done { id: u32 },
    /// Delete a todo.
    Delete { id: u32 },
    /// Counts over all todos.
    Stats,
    /// Print changes as they happen, until interrupted.
    Watch,
}

fn parse_priority(value: &str) -> Result<Priority, String> {
    match value {
        "low" => Ok(Priority::Low),
        "normal" => Ok(Priority::Normal),
        "high" => Ok(Priority::High),
        other => Err(format!("{other:?} is not a priority: use low, normal or high")),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let cx = Cx::new().with_timeout(Duration::from_secs(cli.timeout));
    let result = match cli.command {
        Command::Watch => watch(&cli.url).await,
        command => match HttpTransport::new(&cli.url) {
            Ok(transport) => run(&TodosClient::new(transport), &cx, command).await,
            Err(e) => Err(TodoError::Rpc(accord::RpcError::transport(e.to_string()))),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let framework = error.as_rpc_error().is_some();
            let wire = error.clone().into_rpc_error();
            eprintln!("error: {} ({})", wire.message, wire.data_code().unwrap_or("UNKNOWN"));
            ExitCode::from(if framework { 3 } else { 1 })
        }
    }
}

/// Runs one command against any `Todos`: the CLI does not care where it runs.
async fn run(api: &impl Todos, cx: &Cx, command: Command) -> Result<(), TodoError> {
    match command {
        Command::List { open, done, tag } => {
            let done = if open {
                Some(false)
            } else if done {
                Some(true)
            } else {
                None
            };
            let todos = api.list(cx, TodoFilter { done, tag }).await?;
            if todos.is_empty() {
                println!("no todos");
            }
            todos.iter().for_each(print);
        }
        Command::Get { id } => print(&api.get(cx, TodoId { id }).await?),
        Command::Create { title, priority, tags, note } => {
            print(&api.create(cx, NewTodo { title, priority, tags, note }).await?)
        }
        Command::Done { id } => print(&api.update(cx, TodoPatch { id, done: Some(true), ..Default::default() }).await?),
        Command::Delete { id } => {
            let todo = api.delete(cx, TodoId { id }).await?;
            println!("deleted #{} {}", todo.id, todo.title);
        }
        Command::Stats => {
            let stats = api.stats(cx).await?;
            println!("{} todos, {} done", stats.total, stats.done);
            for (tag, count) in stats.by_tag {
                println!("  #{tag}: {count}");
            }
        }
        Command::Watch => unreachable!("handled by `watch`, which needs a WebSocket"),
    }
    Ok(())
}

async fn watch(url: &str) -> Result<(), TodoError> {
    let ws_url = url.replacen("http", "ws", 1);
    let transport = WsTransport::connect(&ws_url).await.map_err(|e| accord::RpcError::transport(e.to_string()))?;
    let api = TodosClient::new(transport);
    let mut changes = api.changes(&Cx::new()).await?;
    println!("watching {ws_url} (Ctrl-C to stop)");
    // The transport reconnects by itself and resumes after the last change seen; when it
    // cannot, the stream says so (EVENTS_MISSED) and goes on.
    while let Some(event) = changes.next().await {
        match event {
            Ok(event) => println!("{:?}", event.value),
            Err(TodoError::Rpc(error)) if error.is_events_missed() => {
                println!("(some changes were missed while reconnecting: run `list` to see the current state)");
            }
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

fn print(todo: &Todo) {
    let check = if todo.done { "x" } else { " " };
    let tags: String = todo.tags.iter().map(|t| format!(" #{t}")).collect();
    println!("[{check}] #{:<4} {} ({:?}){tags}", todo.id, todo.title, todo.priority);
}
