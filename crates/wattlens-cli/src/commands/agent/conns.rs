//! The agent's HTTP connections, bounded so that clients can never take the file descriptors
//! the sampler needs (a hostile test held 1,030 half-sent requests: RAPL reads failed with
//! EMFILE and the package was dropped for good). At most [`limit`] connections are open; a new
//! one past it closes the oldest (a scrape takes milliseconds, so the oldest is almost always a
//! connection that sends nothing), so `/healthz` and scrapers still get in during a flood.
//! The accept loop yields after closing one, so the closed socket is gone before the next
//! accept: at most the limit + 1 descriptors are ever held by connections.
//! Together with the header-read timeout, an idle connection lives at most 10 s.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// Descriptors kept for the process's own files beside the connections and the cgroup files
/// it keeps open: standard streams, the listener, the runtime's epoll and eventfd, the
/// sampler's reads (one file and a folder per level of the cgroup walk at a time), the GPU
/// driver. A hostile test under `ulimit -n 12` found half the limit (6 connections) left the
/// sampler nothing: 105 reads failed with EMFILE and /healthz timed out.
pub const RESERVE: u64 = 32;

/// The connections open at once: `configured` (`[agent] max_connections`), lowered to half of
/// what this process's soft open-file limit (`ulimit -n`, systemd's `LimitNOFILE`) leaves once
/// [`RESERVE`] and the `kept` cgroup files the sampler may hold open are set aside (at least
/// 1), so that the sampler's reads of sysfs, procfs and the cgroups always find a free
/// descriptor; with the limit when it was lowered.
#[must_use]
pub fn limit(configured: usize, kept: usize) -> (usize, Option<u64>) {
    let soft = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| soft_open_files(&t));
    match soft {
        Some(n) => match cap(configured, n, kept) {
            c if c < configured => (c, Some(n)),
            _ => (configured, None),
        },
        None => (configured, None),
    }
}

/// `configured`, or half of what `soft` descriptors leave past [`RESERVE`] and `kept`, at
/// least 1.
fn cap(configured: usize, soft: u64, kept: usize) -> usize {
    let free = soft
        .saturating_sub(RESERVE)
        .saturating_sub(u64::try_from(kept).unwrap_or(u64::MAX));
    usize::try_from(free / 2)
        .unwrap_or(usize::MAX)
        .max(1)
        .min(configured.max(1))
}

/// The soft limit of `Max open files` in `/proc/self/limits` (`None`: unlimited or absent).
fn soft_open_files(limits: &str) -> Option<u64> {
    limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// A request to close one connection, and the task to wake for it.
#[derive(Debug, Default)]
struct Close {
    asked: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Close {
    fn ask(&self) {
        self.asked.store(true, Ordering::SeqCst);
        if let Some(w) = self.waker.lock().ok().and_then(|mut w| w.take()) {
            w.wake();
        }
    }

    fn asked(&self, cx: &Context<'_>) -> bool {
        if let Ok(mut w) = self.waker.lock() {
            *w = Some(cx.waker().clone());
        }
        self.asked.load(Ordering::SeqCst)
    }
}

/// The last connection id given, and the open connections (id, close request), oldest first.
type Registry = (u64, VecDeque<(u64, Arc<Close>)>);

/// The open connections.
#[derive(Debug)]
pub struct Open {
    max: usize,
    inner: Mutex<Registry>,
}

impl Open {
    /// At most `max` connections.
    #[must_use]
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max: max.max(1),
            inner: Mutex::new((0, VecDeque::new())),
        })
    }

    /// How many are open.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().map_or(0, |g| g.1.len())
    }

    /// Admits a new connection: at the limit the oldest is asked to close (its task drops its
    /// socket when it runs next); whether one was.
    pub fn admit(self: &Arc<Self>) -> (Ticket, bool) {
        let close = Arc::new(Close::default());
        let mut closed = false;
        let id = match self.inner.lock() {
            Ok(mut g) => {
                while g.1.len() >= self.max {
                    if let Some((_, oldest)) = g.1.pop_front() {
                        oldest.ask();
                        closed = true;
                    }
                }
                g.0 += 1;
                let id = g.0;
                g.1.push_back((id, Arc::clone(&close)));
                id
            }
            Err(_) => 0,
        };
        (
            Ticket {
                open: Arc::clone(self),
                id,
                close,
            },
            closed,
        )
    }
}

/// One admitted connection.
#[derive(Debug)]
pub struct Ticket {
    open: Arc<Open>,
    id: u64,
    close: Arc<Close>,
}

impl Ticket {
    /// Serves `conn` (the connection's future) until it ends (`true`) or a newer connection
    /// closes it (`false`: `conn` is dropped, its socket closed).
    pub async fn serve<F: Future>(self, conn: F) -> bool {
        let mut conn = std::pin::pin!(conn);
        let close = Arc::clone(&self.close);
        std::future::poll_fn(|cx| {
            if close.asked(cx) {
                return Poll::Ready(false);
            }
            conn.as_mut().poll(cx).map(|_| true)
        })
        .await
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Ok(mut g) = self.open.inner.lock() {
            let id = self.id;
            g.1.retain(|(i, _)| *i != id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_open_file_limit_is_read_from_proc_self_limits() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            256                  4096                 files\n";
        assert_eq!(soft_open_files(limits), Some(256));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(soft_open_files(unlimited), None);
    }

    /// By hand: limit 256, nothing kept: (256 - 32) / 2 = 112; limit 12: 0 left, 1; limit
    /// 4,096 with 3,072 cgroup files kept: (4,096 - 32 - 3,072) / 2 = 496, under the default
    /// 256 -> 256; limit 2,048 with 1,024 kept: 496, a configured 1,000 lowered to 496.
    #[test]
    fn the_cap_leaves_a_reserve_and_the_kept_files() {
        assert_eq!(cap(256, 256, 0), 112);
        assert_eq!(cap(256, 12, 0), 1);
        assert_eq!(cap(256, 24, 0), 1);
        assert_eq!(cap(256, 4096, 3072), 256);
        assert_eq!(cap(1000, 2048, 1024), 496);
        assert_eq!(cap(256, 100, 1_000_000), 1);
    }

    /// Three connections that never end under a limit of 2: the third closes the first; the
    /// count never passes the limit; one that ends leaves the set.
    #[test]
    fn past_the_limit_the_oldest_connection_is_closed() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let open = Open::new(2);
            let (t1, closed) = open.admit();
            assert!(!closed);
            let first = tokio::spawn(t1.serve(std::future::pending::<()>()));
            let (t2, closed) = open.admit();
            assert!(!closed);
            let _second = tokio::spawn(t2.serve(std::future::pending::<()>()));
            tokio::task::yield_now().await;
            assert_eq!(open.len(), 2);
            let (t3, closed) = open.admit();
            assert!(closed);
            let _third = tokio::spawn(t3.serve(std::future::pending::<()>()));
            assert!(!first.await.expect("joined"), "the oldest was closed");
            assert_eq!(open.len(), 2);
            // A connection that ends by itself leaves the set.
            let (t4, closed) = open.admit();
            assert!(closed, "the second is closed");
            assert!(t4.serve(async {}).await);
            assert_eq!(open.len(), 1);
        });
    }
}
