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
//!
//! Whether a given piece ran on the helper therefore depends on the machine's load. Tests that
//! must prove the two-thread path ran use [`force_helper`], under which every piece goes to the
//! helper and is counted.

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
    join_on(team(), FORCED.with(Cell::get), a, b)
}

/// Test support, not a stable API: runs `f` with every [`join`] it makes on this thread handing
/// its second closure to the helper thread, even when the helper is paused or busy (the caller
/// then waits for the helper instead of running the closure itself). Returns `f`'s result and
/// how many second closures the helper ran for this thread meanwhile: 0 when the engine runs on
/// one thread (a one-thread rayon pool), and one per [`join`] otherwise. Deterministic whatever
/// the machine's load, and slower than the usual way; for tests that must prove that the
/// two-thread path ran.
#[doc(hidden)]
pub fn force_helper<R>(f: impl FnOnce() -> R) -> (R, u64) {
    /// Restores the previous mode when `f` returns or panics.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            FORCED.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(FORCED.with(|c| c.replace(true)));
    let before = ON_HELPER.with(Cell::get);
    let result = f();
    (result, ON_HELPER.with(Cell::get) - before)
}

/// [`join`] with a given team (none: sequential); `forced` as in [`force_helper`].
fn join_on<A, B, RA, RB>(team: Option<&Team>, forced: bool, a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    let Some(team) = team.filter(|t| forced || !t.paused()) else {
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
    if forced {
        // Wait for the slot: the helper empties it whatever it is doing (it never waits itself).
        let mut spins = 0u32;
        while !team.publish(published) {
            spins = spins.wrapping_add(1);
            backoff(spins);
        }
    } else if !team.publish(published) {
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
    if !forced && team.take_back(published) {
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
    if kept_waiting(own, waited) {
        team.pause();
    }
    ON_HELPER.with(|c| c.set(c.get() + 1));
    let rb = job
        .result
        .into_inner()
        .expect("a finished job holds its result");
    match (ra, rb) {
        (Ok(ra), Ok(rb)) => (ra, rb),
        (Err(panic), _) | (_, Err(panic)) => resume_unwind(panic),
    }
}

/// Whether the caller, after `own` for its half, `waited` so long for the helper's half (of equal
/// work) that the helper must have been descheduled: the machine is busy.
fn kept_waiting(own: Duration, waited: Duration) -> bool {
    waited > SLOW_WAIT && waited > own
}

/// Runs `a` and `b` at once ([`join`]) when they cover `len` elements between them, enough to
/// be worth a second thread; one after the other otherwise.
pub(crate) fn join_if_large<A, B, RA, RB>(len: usize, a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    if len < PARALLEL_MIN_LEN {
        (a(), b())
    } else {
        join(a, b)
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
    /// How long [`Team::pause`] pauses ([`PAUSE`]; longer in tests).
    pause: Duration,
}

thread_local! {
    static IS_HELPER: Cell<bool> = const { Cell::new(false) };
    /// Set while this thread runs [`force_helper`].
    static FORCED: Cell<bool> = const { Cell::new(false) };
    /// How many second closures of this thread's joins the helper ran.
    static ON_HELPER: Cell<u64> = const { Cell::new(0) };
}

/// The helper when the engine runs on two threads and this is not the helper itself.
fn team() -> Option<&'static Team> {
    static TEAM: OnceLock<Option<&'static Team>> = OnceLock::new();
    if IS_HELPER.with(Cell::get) || rayon::current_num_threads() < 2 {
        return None;
    }
    *TEAM.get_or_init(|| Team::spawn(PAUSE))
}

impl Team {
    /// A team with its own helper thread, which lives as long as the process; `None` when no
    /// thread can be started (the engine then simply runs sequentially).
    fn spawn(pause: Duration) -> Option<&'static Team> {
        let team: &'static Team = Box::leak(Box::new(Team {
            slot: AtomicPtr::new(ptr::null_mut()),
            sleeping: AtomicBool::new(false),
            lock: Mutex::new(()),
            wake: Condvar::new(),
            start: Instant::now(),
            paused_until: AtomicU64::new(0),
            pause,
        }));
        let spawned = std::thread::Builder::new()
            .name("autograd-helper".into())
            .spawn(move || team.serve());
        spawned.ok().map(|_| team)
    }

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

    /// Stops using the helper for the team's pause ([`PAUSE`]).
    fn pause(&self) {
        let pause = u64::try_from(self.pause.as_micros()).unwrap_or(u64::MAX);
        let until = self.micros().saturating_add(pause);
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
            if !spins.is_multiple_of(64) {
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
        backoff(spins);
    }
}

/// One round of a wait: a spin hint, and every 64th round the core yielded.
fn backoff(spins: u32) {
    if !spins.is_multiple_of(64) {
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
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

    #[test]
    fn the_slow_wait_rule() {
        let ms = Duration::from_millis;
        // Over 1 ms and longer than the caller's own half: the helper was descheduled.
        assert!(kept_waiting(ms(1), ms(5)));
        assert!(kept_waiting(Duration::ZERO, ms(2)));
        // Short waits, and waits for a half that legitimately took as long as the caller's own.
        assert!(!kept_waiting(Duration::ZERO, Duration::from_micros(900)));
        assert!(!kept_waiting(ms(10), ms(5)));
        assert!(!kept_waiting(ms(10), ms(10)));
    }

    #[test]
    fn a_helper_that_keeps_the_caller_waiting_is_left_alone_for_a_while() {
        // A team of its own (no other test publishes to it or pauses it) whose pause outlasts
        // any delay of this test.
        let team = Team::spawn(Duration::from_secs(3600)).expect("a helper thread");
        let me = std::thread::current().id();
        // Forced: `b` certainly runs on the helper. It starts its 50 ms only after `a` is done,
        // so the caller waits for it far longer than for its own (empty) half.
        let a_done = AtomicBool::new(false);
        let ((), b_thread) = join_on(
            Some(team),
            true,
            || a_done.store(true, Ordering::SeqCst),
            || {
                while !a_done.load(Ordering::SeqCst) {
                    std::hint::spin_loop();
                }
                std::thread::sleep(SLOW_WAIT * 50);
                std::thread::current().id()
            },
        );
        assert_ne!(
            b_thread, me,
            "a forced join ran its second half on the caller"
        );
        assert!(
            team.paused(),
            "a 50 ms wait for the helper did not pause it"
        );
        // Paused: the next join runs both halves here, in order.
        let order = Mutex::new(Vec::new());
        let (a_thread, b_thread) = join_on(
            Some(team),
            false,
            || {
                order.lock().unwrap().push('a');
                std::thread::current().id()
            },
            || {
                order.lock().unwrap().push('b');
                std::thread::current().id()
            },
        );
        assert_eq!(
            (a_thread, b_thread),
            (me, me),
            "the helper was used again at once"
        );
        assert_eq!(*order.lock().unwrap(), ['a', 'b']);
    }

    #[test]
    fn forced_joins_all_run_on_the_helper_and_are_counted() {
        let two = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        two.install(|| {
            let me = std::thread::current().id();
            let (threads, count) = force_helper(|| {
                (0..20)
                    .map(|n| {
                        let (x, (y, t)) = join(|| n, || (n + 1, std::thread::current().id()));
                        assert_eq!((x, y), (n, n + 1));
                        t
                    })
                    .collect::<Vec<_>>()
            });
            assert_eq!(count, 20);
            assert!(
                threads.iter().all(|&t| t != me),
                "a second half ran on the caller"
            );
            // Outside `force_helper` the mode is off again.
            assert!(!FORCED.with(Cell::get));
        });
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let ((), count) = one.install(|| force_helper(|| assert_eq!(join(|| 1, || 2), (1, 2))));
        assert_eq!(count, 0, "one thread must not use the helper");
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
