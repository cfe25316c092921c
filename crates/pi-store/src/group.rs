//! Group commit of configuration writes.
//!
//! Configuration writes of one store never run concurrently anyway (they all
//! take the configuration lock first). Instead of letting each writer check
//! out its own connection and wait for that lock (on SQLite: in the busy
//! handler, which sleeps), writers queue here; one of them — the leader —
//! takes every queued write, runs them in ONE transaction (one lock, one
//! version read, one commit), each in its own savepoint, and hands each
//! writer its own result:
//!
//! * a write that fails (its own error, or its `If-Match` precondition) is
//!   rolled back to its savepoint and returns its error; the others of the
//!   batch are not affected;
//! * each write that changed something gets its own [`VersionStep`]: the
//!   batch's writes are numbered in order, the last one's `after` is the
//!   version the commit leaves in the database;
//! * if the batch cannot start (no connection before the deadline) or its
//!   commit fails, every write of it fails with that error — nothing of it
//!   was written.
//!
//! After a batch the leader hands the lead to the oldest waiting writer, so
//! no thread serves others' writes for longer than one batch. A writer that
//! is still queued when its deadline passes gives up (503) and its write is
//! never run: the queue cannot grow without bound.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use diesel::Connection;

use crate::conn::AnyConnection;
use crate::store::{lock_config, python_timestamp, read_config_version, set_config_version};
use crate::version::{check_precondition_of, current_precondition, Precondition};
use crate::{ConfigVersion, Store, StoreError, VersionStep};

/// The most writes one transaction takes.
const MAX_BATCH: usize = 64;

/// Job states (`JobState`).
const QUEUED: u8 = 0;
const TAKEN: u8 = 1;
const CANCELLED: u8 = 2;
/// Chosen to lead the next batch: it can no longer cancel.
const DESIGNATED: u8 = 3;

type JobState = Arc<AtomicU8>;

/// What a writer receives.
enum Msg<T, E> {
    /// Lead the next batch.
    Lead,
    /// The write's result.
    Done(Result<(T, Option<VersionStep>), E>),
}

/// Settles a write once its batch committed (`Ok`: its version step, if it
/// changed something) or failed: runs its commit hook (after a commit) and
/// returns the delivery of its outcome, which wakes the writer. The leader
/// settles every write of a batch before it delivers any.
type Finish = Box<dyn FnOnce(Result<Option<VersionStep>, &StoreError>) -> Deliver + Send>;

/// Wakes a writer with its outcome.
type Deliver = Box<dyn FnOnce() + Send>;

/// Runs on the leader's thread right after the batch committed, for every
/// write of the batch that changed something, in commit order, before any
/// writer of the batch is woken (see [`Store::save_policy_versioned_then`]).
pub(crate) type OnCommit<T> = Box<dyn FnOnce(&T, &VersionStep) + Send>;

/// The result of running one write inside the batch transaction.
struct Ran {
    changed: bool,
    /// The write failed (its `finish` delivers its own error).
    failed: bool,
    finish: Finish,
}

trait Job: Send {
    fn deadline(&self) -> Instant;
    fn state(&self) -> &JobState;
    /// Runs the write; in a savepoint when others share the transaction.
    fn run(self: Box<Self>, c: &mut AnyConnection, savepoint: bool) -> Ran;
    fn fail(self: Box<Self>, e: &StoreError);
    fn lead(&self);
}

struct WriteJob<T, E, F> {
    f: F,
    on_commit: Option<OnCommit<T>>,
    pre: Option<Precondition>,
    deadline: Instant,
    state: JobState,
    tx: mpsc::Sender<Msg<T, E>>,
}

impl<T, E, F> Job for WriteJob<T, E, F>
where
    T: Send + 'static,
    E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
    F: FnOnce(&mut AnyConnection) -> Result<(T, bool), E> + Send,
{
    fn deadline(&self) -> Instant {
        self.deadline
    }

    fn state(&self) -> &JobState {
        &self.state
    }

    fn run(self: Box<Self>, c: &mut AnyConnection, savepoint: bool) -> Ran {
        let WriteJob {
            f,
            pre,
            tx,
            on_commit,
            ..
        } = *self;
        let write = |c: &mut AnyConnection| {
            check_precondition_of(c, pre.as_ref())?;
            f(c)
        };
        let result = if savepoint {
            // a failing write leaves the batch as it was
            c.transaction::<_, E, _>(write)
        } else {
            write(c)
        };
        match result {
            Ok((value, changed)) => Ran {
                changed,
                failed: false,
                finish: Box::new(move |outcome| {
                    let msg = match outcome {
                        Ok(step) => {
                            if let (Some(hook), Some(step)) = (on_commit, step.as_ref()) {
                                hook(&value, step);
                            }
                            Ok((value, step))
                        }
                        Err(e) => Err(E::from(duplicate(e))),
                    };
                    Box::new(move || {
                        let _ = tx.send(Msg::Done(msg));
                    })
                }),
            },
            Err(e) => Ran {
                changed: false,
                failed: true,
                finish: Box::new(move |_| {
                    Box::new(move || {
                        let _ = tx.send(Msg::Done(Err(e)));
                    })
                }),
            },
        }
    }

    fn fail(self: Box<Self>, e: &StoreError) {
        let _ = self.tx.send(Msg::Done(Err(E::from(duplicate(e)))));
    }

    fn lead(&self) {
        let _ = self.tx.send(Msg::Lead);
    }
}

/// A copy of a batch-wide error for each write of the batch.
fn duplicate(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        StoreError::InvalidData(m) => StoreError::InvalidData(m.clone()),
        StoreError::PreconditionFailed {
            kind,
            name,
            current,
        } => StoreError::PreconditionFailed {
            kind: *kind,
            name: name.clone(),
            current: current.clone(),
        },
        other => StoreError::Database(diesel::result::Error::QueryBuilderError(
            other.to_string().into(),
        )),
    }
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Box<dyn Job>>,
    leading: bool,
}

/// The write queue of one store.
#[derive(Default)]
pub(crate) struct GroupCommit {
    queue: Mutex<Queue>,
}

impl GroupCommit {
    /// Runs `f` as one configuration write (see the module doc). Blocks
    /// until its batch committed or failed, or its deadline passed while it
    /// was still queued.
    pub(crate) fn submit<T, E, F>(
        &self,
        store: &Store,
        f: F,
        on_commit: Option<OnCommit<T>>,
    ) -> Result<(T, Option<VersionStep>), E>
    where
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<(T, bool), E> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel();
        let deadline = store.deadline();
        let state: JobState = Arc::new(AtomicU8::new(QUEUED));
        let job = Box::new(WriteJob {
            f,
            on_commit,
            pre: current_precondition(),
            deadline,
            state: state.clone(),
            tx,
        });
        let lead_now = {
            let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            q.jobs.push_back(job);
            !std::mem::replace(&mut q.leading, true)
        };
        if lead_now {
            self.lead(store);
        }
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(wait) {
                Ok(Msg::Done(result)) => return result,
                Ok(Msg::Lead) => self.lead(store),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if state
                        .compare_exchange(QUEUED, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                    {
                        return Err(E::from(StoreError::Unavailable(
                            "configuration write queued for longer than the checkout timeout"
                                .to_owned(),
                        )));
                    }
                    // taken by a batch (or chosen to lead): its answer comes
                    match rx.recv() {
                        Ok(Msg::Done(result)) => return result,
                        Ok(Msg::Lead) => self.lead(store),
                        Err(_) => return Err(E::from(aborted())),
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return Err(E::from(aborted())),
            }
        }
    }

    /// Runs one batch, then hands the lead on (or ends it).
    fn lead(&self, store: &Store) {
        let guard = LeadGuard { group: self };
        let batch: Vec<Box<dyn Job>> = {
            let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            let mut batch = Vec::new();
            while batch.len() < MAX_BATCH {
                let Some(job) = q.jobs.pop_front() else { break };
                let s = job.state();
                let taken = s
                    .compare_exchange(QUEUED, TAKEN, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                    || s.compare_exchange(DESIGNATED, TAKEN, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok();
                if taken {
                    batch.push(job);
                }
            }
            batch
        };
        run_batch(store, batch);
        drop(guard);
    }
}

/// Hands the lead to the oldest queued writer, or ends it; also when the
/// batch panicked.
struct LeadGuard<'a> {
    group: &'a GroupCommit,
}

impl Drop for LeadGuard<'_> {
    fn drop(&mut self) {
        let mut q = self.group.queue.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(job) = q.jobs.front() {
            if job
                .state()
                .compare_exchange(QUEUED, DESIGNATED, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                job.lead();
                return;
            }
            // cancelled by its writer: drop it
            q.jobs.pop_front();
        }
        q.leading = false;
    }
}

fn aborted() -> StoreError {
    StoreError::Unavailable("configuration write aborted".to_owned())
}

/// One transaction for the whole batch.
fn run_batch(store: &Store, batch: Vec<Box<dyn Job>>) {
    if batch.is_empty() {
        return;
    }
    let deadline = batch.iter().map(|j| j.deadline()).max();
    let mut conn = match store.conn_until(deadline) {
        Ok(c) => c,
        Err(e) => {
            for job in batch {
                job.fail(&e);
            }
            return;
        }
    };
    let turn = match store.writer_turn(&conn, deadline.unwrap_or_else(Instant::now)) {
        Ok(t) => t,
        Err(e) => {
            for job in batch {
                job.fail(&e);
            }
            return;
        }
    };
    let conn: &mut AnyConnection = &mut conn;
    let mut ran: Vec<(Ran, Option<VersionStep>)> = Vec::with_capacity(batch.len());
    // a write alone needs no savepoint: if it fails, the whole transaction
    // is rolled back
    let alone = batch.len() == 1;
    let mut pending = batch.into_iter();
    let result = conn.transaction::<_, StoreError, _>(|c| {
        lock_config(c)?;
        let before = read_config_version(c)?;
        let ts = python_timestamp(chrono::Utc::now());
        let mut prev = before.clone();
        for job in pending.by_ref() {
            let r = job.run(c, !alone);
            if r.failed && alone {
                ran.push((r, None));
                return Err(StoreError::InvalidData("write failed".to_owned()));
            }
            let step = r.changed.then(|| {
                let next = ConfigVersion {
                    version: prev.version + 1,
                    timestamp: Some(ts.clone()),
                };
                VersionStep {
                    before: std::mem::replace(&mut prev, next.clone()),
                    after: next,
                }
            });
            ran.push((r, step));
        }
        if prev.version != before.version {
            set_config_version(c, prev.version, &ts)?;
        }
        Ok(())
    });
    drop(turn);
    match result {
        Ok(()) => {
            // every hook before any writer wakes: whoever looks at the
            // batch's version next finds all of its writes announced
            let deliveries: Vec<Deliver> = ran
                .into_iter()
                .map(|(r, step)| (r.finish)(Ok(step)))
                .collect();
            for deliver in deliveries {
                deliver();
            }
        }
        Err(e) => {
            for (r, _) in ran {
                (r.finish)(Err(&e))();
            }
            for job in pending {
                job.fail(&e);
            }
        }
    }
}
