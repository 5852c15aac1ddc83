//! Running out of file descriptors must not spin the accept loop: `accept` then fails at once,
//! every time, so a loop that retries at once burns a core. The server runs in a child process
//! (this very test binary, re-run with `ACCORD_CHILD_SERVER=1`) under `ulimit -n 64`; the
//! parent opens more connections than it can accept and reads the child's CPU time.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

const CHILD: &str = "ACCORD_CHILD_SERVER";
const NAME: &str = "running_out_of_file_descriptors_does_not_spin_the_accept_loop";

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the child's stat");
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let after = &stat[stat.rfind(')').expect("a stat line") + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[test]
fn running_out_of_file_descriptors_does_not_spin_the_accept_loop() {
    if std::env::var_os(CHILD).is_some() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let server = serve(builder(Impl::default())).await;
            println!("listening {}", server.local_addr());
            std::future::pending::<()>().await;
        });
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n 64 && exec '{}' --exact {NAME} --nocapture --test-threads 1", exe.display()))
        .env(CHILD, "1")
        .stdout(Stdio::piped())
        .spawn()
        .expect("the child server");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("the child's address").unwrap();
        // The test harness prints its own prefix on the same line.
        if let Some((_, address)) = line.split_once("listening ") {
            break address.trim().to_owned();
        }
    };

    // Far more connections than 64 descriptors allow; they queue in the backlog.
    let held: Vec<std::net::TcpStream> = (0..150).filter_map(|_| std::net::TcpStream::connect(&address).ok()).collect();
    assert!(held.len() > 64, "only {} connections", held.len());
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_ticks(child.id());
    std::thread::sleep(Duration::from_secs(2));
    let spent = cpu_ticks(child.id()) - before;
    let ticks_per_second = 100; // USER_HZ on Linux
    drop(held);

    // Once descriptors free up, the server serves again.
    std::thread::sleep(Duration::from_millis(1500));
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    use std::io::{Read, Write};
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"svc.whoami"}"#;
    write!(stream, "POST /rpc HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        spent < ticks_per_second / 2,
        "the accept loop spent {spent} ticks of CPU in 2 s with no descriptors left (spinning)"
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "not served after recovering: {answer:?}");
}
