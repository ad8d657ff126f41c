//! Coarse, planned parallelism on two threads: [`join`] runs two closures at once, one on the
//! calling thread and one on a helper thread, and [`for_halves`] cuts element-wise work into two
//! fixed halves. The cuts never depend on the number of threads, and each value is computed the
//! same way whichever thread computes it, so results are bit-identical with one thread or two.
//!
//! Why not `rayon::join`: the steps of a small model hand out a few dozen parallel pieces of
//! 10 µs to 1 ms each, with short sequential stretches between them. Rayon's idle workers go to
//! sleep within microseconds, and waking a sleeping thread on a virtual machine takes around
//! 100 µs; by then the calling thread has usually done both halves itself (measured: a training
//! step on two threads was no faster than on one). The helper here keeps spinning for a few
//! milliseconds after its last piece of work (so it is awake for every piece of a training
//! step), then sleeps. While it spins it yields its core every few dozen rounds: on a machine
//! busy with other work, where the scheduler shares the cores between sessions, it then does not
//! take time from the thread it works with. A piece it has not picked up by the time the caller
//! is done with its own half is taken back and run by the caller: nobody waits for a sleeping or
//! descheduled thread to start. And when the caller had to wait long for a piece the helper had
//! started (the helper was descheduled midway: the machine is busy), it stops using the helper
//! for a while.
//!
//! The engine uses two threads when the current rayon pool has at least two (so
//! `RAYON_NUM_THREADS=1` or `ThreadPool::install` on a one-thread pool makes it sequential), and
//! work that the helper itself splits runs sequentially on it.

use std::cell::{Cell, UnsafeCell};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long the helper keeps spinning after its last piece of work before it sleeps.
const SPIN: Duration = Duration::from_millis(5);

/// Waiting this long for the helper's half, and longer than the caller's own half took, means the
/// helper was descheduled (the two halves of a split are of equal work): the machine is busy
/// with other work.
const SLOW_WAIT: Duration = Duration::from_millis(1);

/// How long [`join`] then runs both closures on the calling thread, before trying the helper
/// again. On a machine whose other cores are taken, waiting for a descheduled helper costs a
/// scheduler tick or more each time; running alone costs only the lost overlap.
const PAUSE: Duration = Duration::from_millis(100);

/// Element-wise work below this many elements stays on one thread.
const PARALLEL_MIN_LEN: usize = 1 << 15;

/// Runs `a` and `b` and returns both results: at once, `b` on the helper thread, when the engine
/// runs on two threads and the helper is free; one after the other on the calling thread
/// otherwise. A panic in either is resumed on the calling thread once both are finished.
pub fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    let Some(team) = team() else {
        return (a(), b());
    };
    let job = StackJob {
        f: UnsafeCell::new(Some(b)),
        result: UnsafeCell::new(None),
        done: AtomicBool::new(false),
    };
    let job_ref = JobRef {
        data: ptr::addr_of!(job).cast(),
        execute: StackJob::<B, RB>::execute,
    };
    let published = ptr::addr_of!(job_ref).cast_mut();
    if !team.publish(published) {
        // The helper is taken (another thread's join): both here, in order.
        let ra = a();
        let b = job
            .f
            .into_inner()
            .expect("an unpublished job still holds its closure");
        return (ra, b());
    }
    let started = Instant::now();
    let ra = catch_unwind(AssertUnwindSafe(a));
    if team.take_back(published) {
        // The helper never started `b`: it runs here.
        let ra = ra.unwrap_or_else(|panic| resume_unwind(panic));
        let b = job
            .f
            .into_inner()
            .expect("a job taken back still holds its closure");
        return (ra, b());
    }
    // The helper runs `b`: it reads `job` until it sets `done`, so wait for that before `job`
    // (on this stack) goes away, even if `a` panicked.
    let own = started.elapsed();
    wait_for(&job.done);
    let waited = started.elapsed() - own;
    if waited > SLOW_WAIT && waited > own {
        team.pause();
    }
    let rb = job
        .result
        .into_inner()
        .expect("a finished job holds its result");
    match (ra, rb) {
        (Ok(ra), Ok(rb)) => (ra, rb),
        (Err(panic), _) | (_, Err(panic)) => resume_unwind(panic),
    }
}

/// Runs `f(offset, chunk)` over `out` split into at most two halves, at once when large.
pub(crate) fn for_halves<F>(out: &mut [f32], f: F)
where
    F: Fn(usize, &mut [f32]) + Sync,
{
    if out.len() < PARALLEL_MIN_LEN {
        return f(0, out);
    }
    let mid = out.len() / 2;
    let (lo, hi) = out.split_at_mut(mid);
    join(|| f(0, lo), || f(mid, hi));
}

/// A published piece of work: a type-erased pointer to a [`StackJob`] and the function that
/// runs it.
struct JobRef {
    data: *const (),
    execute: unsafe fn(*const ()),
}

/// The second closure of a [`join`], on the caller's stack, with room for its result.
struct StackJob<F, R> {
    f: UnsafeCell<Option<F>>,
    result: UnsafeCell<Option<std::thread::Result<R>>>,
    done: AtomicBool,
}

impl<F: FnOnce() -> R, R> StackJob<F, R> {
    /// Runs the closure and stores its result (or panic), then sets `done`, after which the job
    /// is not touched again.
    ///
    /// # Safety
    /// `this` must point at a live `StackJob<F, R>` whose closure nobody else runs.
    unsafe fn execute(this: *const ()) {
        let this = this.cast::<Self>();
        let f = (*(*this).f.get()).take().expect("a job runs once");
        *(*this).result.get() = Some(catch_unwind(AssertUnwindSafe(f)));
        (*this).done.store(true, Ordering::Release);
    }
}

/// The helper thread's mailbox: at most one published job at a time.
struct Team {
    slot: AtomicPtr<JobRef>,
    sleeping: AtomicBool,
    lock: Mutex<()>,
    wake: Condvar,
    /// When the team was made: the origin of `paused_until`.
    start: Instant,
    /// Microseconds after `start` until which [`join`] does not use the helper.
    paused_until: AtomicU64,
}

thread_local! {
    static IS_HELPER: Cell<bool> = const { Cell::new(false) };
}

/// The helper when the engine runs on two threads and this is not the helper itself.
fn team() -> Option<&'static Team> {
    static TEAM: OnceLock<Option<&'static Team>> = OnceLock::new();
    if IS_HELPER.with(Cell::get) || rayon::current_num_threads() < 2 {
        return None;
    }
    let team = (*TEAM.get_or_init(|| {
        let team: &'static Team = Box::leak(Box::new(Team {
            slot: AtomicPtr::new(ptr::null_mut()),
            sleeping: AtomicBool::new(false),
            lock: Mutex::new(()),
            wake: Condvar::new(),
            start: Instant::now(),
            paused_until: AtomicU64::new(0),
        }));
        let spawned = std::thread::Builder::new()
            .name("autograd-helper".into())
            .spawn(move || team.serve());
        // Without a helper thread the engine simply runs sequentially.
        spawned.ok().map(|_| team)
    }))?;
    (!team.paused()).then_some(team)
}

impl Team {
    /// Offers `job` to the helper; false when another job is already waiting.
    fn publish(&self, job: *mut JobRef) -> bool {
        let published = self
            .slot
            .compare_exchange(ptr::null_mut(), job, Ordering::SeqCst, Ordering::Relaxed)
            .is_ok();
        if published && self.sleeping.load(Ordering::SeqCst) {
            let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            self.wake.notify_one();
        }
        published
    }

    fn micros(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// Stops using the helper for [`PAUSE`].
    fn pause(&self) {
        let until = self.micros().saturating_add(PAUSE.as_micros() as u64);
        self.paused_until.store(until, Ordering::Relaxed);
    }

    fn paused(&self) -> bool {
        self.micros() < self.paused_until.load(Ordering::Relaxed)
    }

    /// Withdraws `job` if the helper has not taken it yet.
    fn take_back(&self, job: *mut JobRef) -> bool {
        self.slot
            .compare_exchange(job, ptr::null_mut(), Ordering::SeqCst, Ordering::Relaxed)
            .is_ok()
    }

    /// The helper's loop: take and run published jobs; spin while work came recently, sleep
    /// otherwise.
    fn serve(&self) {
        IS_HELPER.with(|h| h.set(true));
        let mut last_work = Instant::now();
        let mut spins = 0u32;
        loop {
            let job = self.slot.load(Ordering::Acquire);
            if !job.is_null()
                && self
                    .slot
                    .compare_exchange(job, ptr::null_mut(), Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
            {
                // SAFETY: a published JobRef and its StackJob stay alive until the publisher sees
                // `done`, which `execute` sets last; taking it out of the slot made this thread
                // the only one to run it.
                unsafe { ((*job).execute)((*job).data) };
                last_work = Instant::now();
                spins = 0;
                continue;
            }
            spins = spins.wrapping_add(1);
            if spins % 64 != 0 {
                std::hint::spin_loop();
            } else if last_work.elapsed() > SPIN {
                self.sleep();
                last_work = Instant::now();
            } else {
                // Let another thread waiting for this core run (returns at once if none).
                std::thread::yield_now();
            }
        }
    }

    /// Sleeps until a job is published.
    fn sleep(&self) {
        let mut guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.sleeping.store(true, Ordering::SeqCst);
        // A publisher stores into the slot before it reads `sleeping` (both SeqCst), and this
        // thread stores `sleeping` before it reads the slot: one of the two sees the other, so
        // a job is never left waiting for a sleeping helper.
        while self.slot.load(Ordering::SeqCst).is_null() {
            guard = self.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
        self.sleeping.store(false, Ordering::SeqCst);
    }
}

/// Waits until `done` is set: spinning (the helper is running the job), and now and then yielding
/// the core, in case the helper was preempted and waits for it.
fn wait_for(done: &AtomicBool) {
    let mut spins = 0u32;
    while !done.load(Ordering::Acquire) {
        spins = spins.wrapping_add(1);
        if spins % 64 != 0 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_run_and_return_their_results() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        pool.install(|| {
            for n in 0..200u64 {
                let mut left = vec![0u64; 1000];
                let mut right = vec![0u64; 1000];
                let (a, b) = join(
                    || {
                        left.iter_mut().for_each(|v| *v = n);
                        left.iter().sum::<u64>()
                    },
                    || {
                        right.iter_mut().for_each(|v| *v = 2 * n);
                        right.iter().sum::<u64>()
                    },
                );
                assert_eq!((a, b), (1000 * n, 2000 * n));
                // Nested joins (run by the helper, or taken back) give the same results.
                let ((c, d), e) = join(|| join(|| n + 1, || n + 2), || join(|| n + 3, || n));
                assert_eq!((c, d, e), (n + 1, n + 2, (n + 3, n)));
            }
        });
    }

    /// `a` spins until `b` has started (at most `limit`); returns the thread that ran `b`.
    fn join_waiting_for_b(limit: Duration, b_takes: Duration) -> std::thread::ThreadId {
        let started = AtomicBool::new(false);
        let ((), b_thread) = join(
            || {
                let t = Instant::now();
                while !started.load(Ordering::SeqCst) && t.elapsed() < limit {
                    std::hint::spin_loop();
                }
            },
            || {
                started.store(true, Ordering::SeqCst);
                std::thread::sleep(b_takes);
                std::thread::current().id()
            },
        );
        b_thread
    }

    #[test]
    fn a_helper_that_keeps_the_caller_waiting_is_left_alone_for_a_while() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        pool.install(|| {
            let me = std::thread::current().id();
            // `b` keeps the caller waiting 5 ms after its own (short) half.
            if join_waiting_for_b(SLOW_WAIT * 50, SLOW_WAIT * 5) != me {
                // The helper ran it: the next join runs both halves here, although its first
                // half waits for the second to start elsewhere.
                let next = join_waiting_for_b(SLOW_WAIT * 5, Duration::ZERO);
                assert_eq!(next, me, "the helper was used again at once");
            }
        });
    }

    #[test]
    fn a_panic_on_either_side_reaches_the_caller() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        pool.install(|| {
            for side in [0, 1] {
                let caught = catch_unwind(|| {
                    join(
                        || assert!(side != 0, "left"),
                        || assert!(side != 1, "right"),
                    )
                });
                assert!(caught.is_err(), "side {side}");
            }
            // The helper is still serving afterwards.
            assert_eq!(join(|| 1, || 2), (1, 2));
        });
    }
}
